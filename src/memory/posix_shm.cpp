// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/posix_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/name.hpp"

namespace ipckit {
namespace {

// Bounds the create/open ping-pong of kOpenOrCreate when another process keeps creating and
// unlinking the same name; each round is two syscalls, so this is never reached by honest peers.
constexpr int kMaxCreateRounds = 1000;

std::string shm_hint(int err, std::string_view name) {
  switch (err) {
    case ENOSPC:
      return "/dev/shm is full or too small: check `df /dev/shm`; in a container raise it with "
             "--shm-size (e.g. docker run --shm-size=1g)";
    case EACCES:
      return fmt::format("permission denied: see `ls -l /dev/shm{}` (owner and mode)", name);
    case EEXIST:
      return "it already exists: open it, use OpenOrCreate, or remove it with PosixShm::unlink";
    case ENOENT:
      return "no such shared-memory object (not created yet, or unlinked)";
    case EMFILE:
      return "too many open files in this process: see `ulimit -n` (RLIMIT_NOFILE)";
    case ENFILE:
      return "too many open files system-wide: see /proc/sys/fs/file-max";
    case EFBIG:
      return "larger than this process may create: see `ulimit -f` (RLIMIT_FSIZE)";
    default:
      return {};
  }
}

Result<std::size_t> fstat_size(int fd, std::string_view name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(name));
  return static_cast<std::size_t>(st.st_size);
}

// Waits until the object's size is non-zero (its creator has sized it) or the deadline passes.
// Polls with a short, growing sleep: tmpfs offers no notification for a size change.
Result<std::size_t> wait_until_sized(int fd, std::string_view name, std::chrono::milliseconds timeout) {
  const Deadline deadline = deadline_after(timeout);
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    auto size = fstat_size(fd, name);
    if (!size) return size;
    if (*size > 0) return size;
    if (Clock::now() >= deadline) {
      return fail_library(LibraryCode::kNotReady, "shm_open", quoted(name),
                          fmt::format("its size is still 0 after {} ms: its creator has not sized it "
                                      "(still starting, or it died); remove a stale one with "
                                      "PosixShm::unlink",
                                      timeout.count()));
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, remaining(deadline)));
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
}

Result<std::size_t> check_opened_size(int fd, std::string_view name, std::size_t min_size,
                                      std::chrono::milliseconds ready_timeout) {
  auto size = wait_until_sized(fd, name, ready_timeout);
  if (!size) return size;
  if (*size < min_size) {
    return fail_library(LibraryCode::kInvalidArgument, "shm_open", quoted(name),
                        fmt::format("the object has {} bytes, fewer than the {} needed", *size, min_size));
  }
  return size;
}

}  // namespace

Result<PosixShm> PosixShm::create(std::string_view name, std::size_t size, OpenMode open_mode, mode_t mode) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_open"); !ok) return fail(ok.error());
  const std::string path(name);
  if (size == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "shm_open", quoted(name),
                        "size must be > 0 (size 0 means \"not yet initialised\" to openers)");
  }
  if (size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kTooLarge, "shm_open", quoted(name),
                        fmt::format("size {} does not fit in off_t", size));
  }
  if (open_mode == OpenMode::kOpenExisting) {
    return open(name, ShmOpenOptions{Access::kReadWrite, size, kDefaultReadyTimeout});
  }

  for (int round = 0; round < kMaxCreateRounds; ++round) {
    const int fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      UniqueFd owned(fd);
      // Undo the creation on any failure below: a name left at size 0 would make openers wait.
      auto undo = [&](Error error) -> Result<PosixShm> {
        (void)::shm_unlink(path.c_str());
        return fail(std::move(error));
      };
      // The umask applied to shm_open's mode; fchmod sets exactly what the caller asked for.
      if (::fchmod(fd, mode) != 0) {
        const int err = errno;
        return undo(Error::system(err, "fchmod", quoted(name), shm_hint(err, name)));
      }
      // posix_fallocate returns the error number instead of setting errno. On tmpfs it reserves
      // the pages, so a full /dev/shm fails here with ENOSPC rather than as a SIGBUS later.
      int err;
      do {
        err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
      } while (err == EINTR);
      if (err != 0) {
        return undo(Error::system(err, "posix_fallocate", quoted(name),
                                  fmt::format("{} bytes: {}", size, shm_hint(err, name))));
      }
      return PosixShm(std::move(owned), path, size, Access::kReadWrite, true);
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EEXIST || open_mode == OpenMode::kCreateExclusive) {
      return fail_errno(err, "shm_open", quoted(name), shm_hint(err, name));
    }
    // kOpenOrCreate: it exists, so open it as it is.
    const int existing = ::shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (existing < 0) {
      const int open_err = errno;
      if (open_err == ENOENT || open_err == EINTR) continue;  // unlinked in between: create again
      return fail_errno(open_err, "shm_open", quoted(name), shm_hint(open_err, name));
    }
    UniqueFd owned(existing);
    auto actual = check_opened_size(existing, name, size, kDefaultReadyTimeout);
    if (!actual) return fail(std::move(actual.error()));
    return PosixShm(std::move(owned), path, *actual, Access::kReadWrite, false);
  }
  return fail_errno(EAGAIN, "shm_open", quoted(name),
                    fmt::format("the name was created and removed {} times while opening it", kMaxCreateRounds));
}

Result<PosixShm> PosixShm::open(std::string_view name, ShmOpenOptions options) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_open"); !ok) return fail(ok.error());
  const std::string path(name);
  const int flags = (options.access == Access::kReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  int fd;
  do {
    fd = ::shm_open(path.c_str(), flags, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    return fail_errno(err, "shm_open", quoted(name), shm_hint(err, name));
  }
  UniqueFd owned(fd);
  auto size = check_opened_size(fd, name, options.min_size, options.ready_timeout);
  if (!size) return fail(std::move(size.error()));
  return PosixShm(std::move(owned), path, *size, options.access, false);
}

Result<Mapping> PosixShm::map(MapOptions options) const {
  if (!fd_.valid()) {
    return fail_library(LibraryCode::kInvalidArgument, "mmap", quoted(name_), "the PosixShm is empty");
  }
  // A peer may have shrunk the object since we opened it; mapping past its end would SIGBUS on the
  // first touch of the lost pages, so refuse now with a clear error. (It can still shrink later.)
  auto now = fstat_size(fd_.get(), name_);
  if (!now) return fail(std::move(now.error()));
  if (*now < size_) {
    return fail_library(LibraryCode::kCorrupt, "mmap", quoted(name_),
                        fmt::format("the object shrank from {} to {} bytes since it was opened "
                                    "(another process truncated it)",
                                    size_, *now));
  }
  return Mapping::map(fd_.get(), size_, options, 0, quoted(name_));
}

Result<std::size_t> PosixShm::current_size() const { return fstat_size(fd_.get(), name_); }

Result<bool> PosixShm::unlink(std::string_view name) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_unlink"); !ok) return fail(ok.error());
  const std::string path(name);
  if (::shm_unlink(path.c_str()) == 0) return true;
  const int err = errno;
  if (err == ENOENT) return false;
  return fail_errno(err, "shm_unlink", quoted(name), shm_hint(err, name));
}

Result<bool> PosixShm::exists(std::string_view name) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_open"); !ok) return fail(ok.error());
  const std::string path(name);
  int fd;
  do {
    fd = ::shm_open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  const int err = errno;
  if (err == ENOENT) return false;
  if (err == EACCES) return true;  // it exists; we just may not open it
  return fail_errno(err, "shm_open", quoted(name), shm_hint(err, name));
}

UnlinkGuard& UnlinkGuard::operator=(UnlinkGuard&& other) noexcept {
  if (this != &other) {
    reset();
    name_ = std::move(other.name_);
    other.name_.clear();
  }
  return *this;
}

void UnlinkGuard::reset() noexcept {
  if (!name_.empty()) (void)::shm_unlink(name_.c_str());
  name_.clear();
}

}  // namespace ipckit
