// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/posix_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "memory/shm_hint.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/name.hpp"

namespace ipckit {
namespace {

using detail::shm_hint;

Result<std::size_t> fstat_size(int fd, std::string_view name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(name));
  return static_cast<std::size_t>(st.st_size);
}

}  // namespace

Result<PosixShm> PosixShm::create(std::string_view name, std::size_t size, OpenMode open_mode, mode_t mode,
                                  const TrustPolicy& trust) {
  ShmObjectOptions o;
  o.open = open_mode;
  o.size = size;
  o.mode = mode;
  o.trust = trust;
  if (open_mode == OpenMode::kOpenExisting && size == 0) {
    // open() with min_size 0 accepts any size; create() keeps refusing size 0 as it always did.
    return fail_library(LibraryCode::kInvalidArgument, "shm_open", quoted(name),
                        "size must be > 0 (size 0 means \"not yet initialised\" to openers)");
  }
  auto shm = create_or_open_shm(name, o);
  if (!shm) return fail(std::move(shm.error()));
  return PosixShm(std::move(shm->fd), std::move(shm->name), shm->size, shm->access, shm->created);
}

Result<PosixShm> PosixShm::open(std::string_view name, ShmOpenOptions options) {
  ShmObjectOptions o;
  o.open = OpenMode::kOpenExisting;
  o.size = options.min_size;
  o.mode = options.mode;
  o.access = options.access;
  o.ready_timeout = options.ready_timeout;
  o.trust = std::move(options.trust);
  auto shm = create_or_open_shm(name, o);
  if (!shm) return fail(std::move(shm.error()));
  return PosixShm(std::move(shm->fd), std::move(shm->name), shm->size, shm->access, false);
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
  const auto err = last_errno();
  if (err.code() == ENOENT) return false;
  return err.fail("shm_unlink", quoted(name), shm_hint(err.code(), name));
}

Result<bool> PosixShm::exists(std::string_view name) {
  if (auto ok = validate_posix_name(name, NameKind::kShm, "shm_open"); !ok) return fail(ok.error());
  const std::string path(name);
  const int fd = no_eintr(::shm_open, path.c_str(), O_RDONLY | O_CLOEXEC, mode_t{0});
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  const auto err = last_errno();
  if (err.code() == ENOENT) return false;
  if (err.code() == EACCES) return true;  // it exists; we just may not open it
  return err.fail("shm_open", quoted(name), shm_hint(err.code(), name));
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
