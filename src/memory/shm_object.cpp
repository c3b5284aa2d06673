// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/shm_object.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "detail/shm_dir.hpp"
#include "memory/shm_hint.hpp"

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/core/name.hpp"

namespace ipckit {
namespace detail {

std::string byte_size_text(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  if (value == std::floor(value)) return fmt::format("{:.0f} {}", value, kUnits[unit]);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string shm_hint(int err, std::string_view name, std::size_t size) {
  const std::string_view dir = kShmDir;
  switch (err) {
    case ENOSPC: {
      struct statvfs vfs {};
      if (size > 0 && ::statvfs(std::string(dir).c_str(), &vfs) == 0) {
        const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
        const std::uint64_t total = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
        if (size > free) {
          return fmt::format("needs {}, {} has {} free of {}: remove unused objects there (`df {}`, "
                             "`ipckit ls`), remount it larger (mount -o remount,size=... {}), or in a "
                             "container raise --shm-size (e.g. docker run --shm-size=1g)",
                             byte_size_text(size), dir, byte_size_text(free), byte_size_text(total), dir, dir);
        }
        return fmt::format("needs {}, and {} has {} free of {}: it is out of inodes (`df -i {}`) or another "
                           "process filled it meanwhile; in a container raise --shm-size",
                           byte_size_text(size), dir, byte_size_text(free), byte_size_text(total), dir);
      }
      return fmt::format("{} is full or too small: check `df {}`; in a container raise it with --shm-size "
                         "(e.g. docker run --shm-size=1g)",
                         dir, dir);
    }
    case EACCES:
      return fmt::format("permission denied: see `ls -l {}` (owner and mode)", shm_path(name));
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

}  // namespace detail

namespace {

// Bounds the create/open ping-pong of kOpenOrCreate when another process keeps creating and
// unlinking the same name; each round is two syscalls, so honest peers never reach it.
constexpr int kMaxCreateRounds = 1000;

Result<std::size_t> fstat_size(int fd, std::string_view name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(name));
  return static_cast<std::size_t>(st.st_size);
}

// Steps 2-4 of the header comment on the descriptor shm_open(O_EXCL) just created; unlinks the
// name again on any failure.
Result<void> finish_creation(int fd, const std::string& path, std::string_view name, const ShmObjectOptions& o) {
  auto undo = [&](Error error) -> Result<void> {
    (void)::shm_unlink(path.c_str());
    return fail(std::move(error));
  };
  if (::fchmod(fd, o.mode) != 0) {
    const auto err = last_errno();
    return undo(err.error("fchmod", quoted(name), detail::shm_hint(err.code(), name)));
  }
  // On tmpfs this reserves every page and sets the size last: openers take a non-zero size as
  // "allocated" (see wait_until_ready).
  const int err = no_eintr_rc(::posix_fallocate, fd, off_t{0}, static_cast<off_t>(o.size));
  if (err != 0) {
    return undo(Error::system(err, "posix_fallocate", quoted(name),
                              fmt::format("{} bytes: {}", o.size, detail::shm_hint(err, name, o.size))));
  }
  if (o.init) {
    if (auto ok = o.init(fd, o.size); !ok) return undo(std::move(ok.error()));
  }
  return {};
}

// Waits until the object is sized (non-zero) and, with is_ready, initialised, or the deadline.
// Polls with a short, growing pause: tmpfs has no notification for a size or content change.
Result<std::size_t> wait_until_ready(int fd, std::string_view name, const ShmObjectOptions& o) {
  const Deadline deadline = deadline_after(o.ready_timeout);
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    auto size = fstat_size(fd, name);
    if (!size) return size;
    const bool sized = *size > 0;
    if (sized && *size < o.size) {
      return fail_library(LibraryCode::kInvalidArgument, "shm_open", quoted(name),
                          fmt::format("the object has {} bytes, fewer than the {} needed", *size, o.size));
    }
    if (sized) {
      if (!o.is_ready) return size;
      auto ready = o.is_ready(fd, *size);
      if (!ready) return fail(std::move(ready.error()));
      if (*ready) return size;
    }
    if (Clock::now() >= deadline) {
      const std::string what =
          !sized ? std::string("its size is still 0")
                 : fmt::format("{} is still unset", o.ready_what.empty() ? "its ready marker" : o.ready_what);
      return fail_library(LibraryCode::kNotReady, "shm_open", quoted(name),
                          fmt::format("{} after {} ms: its creator has not finished creating it (still "
                                      "starting, or it died); remove a stale one with PosixShm::unlink",
                                      what, o.ready_timeout.count()));
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, remaining(deadline)));
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
}

// Opens an existing object, checks its owner and mode, and waits until it is ready.
Result<ShmObject> open_existing(const std::string& path, std::string_view name, const ShmObjectOptions& o) {
  const int flags = (o.access == Access::kReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  const int fd = no_eintr(::shm_open, path.c_str(), flags, mode_t{0});
  if (fd < 0) {
    const auto err = last_errno();
    return err.fail("shm_open", quoted(name), detail::shm_hint(err.code(), name));
  }
  UniqueFd owned(fd);
  // Before waiting on it or reading it: an object someone else planted is never used.
  if (auto trusted = check_fd_owner(fd, o.mode, o.trust, "shm_open", quoted(name)); !trusted) {
    return fail(std::move(trusted.error()));
  }
  auto size = wait_until_ready(fd, name, o);
  if (!size) return fail(std::move(size.error()));
  return ShmObject{std::move(owned), path, *size, o.access, false};
}

}  // namespace

Result<ShmObject> create_or_open_shm(std::string_view name, const ShmObjectOptions& options) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_open"); !ok) return fail(ok.error());
  const std::string path(name);
  if (options.open == OpenMode::kOpenExisting) return open_existing(path, name, options);
  if (options.size == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "shm_open", quoted(name),
                        "size must be > 0 (size 0 means \"not yet initialised\" to openers)");
  }
  if (options.size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kTooLarge, "shm_open", quoted(name),
                        fmt::format("size {} does not fit in off_t", options.size));
  }

  for (int round = 0; round < kMaxCreateRounds; ++round) {
    const int fd = no_eintr(::shm_open, path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, options.mode);
    if (fd >= 0) {
      UniqueFd owned(fd);
      if (auto ok = finish_creation(fd, path, name, options); !ok) return fail(std::move(ok.error()));
      return ShmObject{std::move(owned), path, options.size, Access::kReadWrite, true};
    }
    const auto err = last_errno();
    if (err.code() != EEXIST || options.open == OpenMode::kCreateExclusive) {
      return err.fail("shm_open", quoted(name), detail::shm_hint(err.code(), name));
    }
    // kOpenOrCreate: it exists, so open it as it is; gone again (ENOENT) -> create it again.
    auto opened = open_existing(path, name, options);
    if (opened || !opened.error().is(ENOENT)) return opened;
  }
  return fail_errno(EAGAIN, "shm_open", quoted(name),
                    fmt::format("the name was created and removed {} times while opening it", kMaxCreateRounds));
}

}  // namespace ipckit
