// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"

namespace ipckit {
namespace {

std::string file_hint(int err) {
  switch (err) {
    case ENOSPC: return "the file system is full: check `df` for its mount";
    case EDQUOT: return "disk quota exceeded: check `quota`";
    case EFBIG: return "larger than this process may create: see `ulimit -f` (RLIMIT_FSIZE)";
    case EMFILE: return "too many open files in this process: see `ulimit -n` (RLIMIT_NOFILE)";
    default: return {};
  }
}

MapOptions map_options(const FileMapOptions& o) { return MapOptions{o.access, o.shared, o.populate, 0}; }

Result<std::size_t> regular_file_size(int fd, std::string_view path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(path));
  if (!S_ISREG(st.st_mode)) {
    return fail_library(LibraryCode::kInvalidArgument, "mmap", quoted(path),
                        "not a regular file (only regular files have a size to map)");
  }
  return static_cast<std::size_t>(st.st_size);
}

}  // namespace

Result<MappedFile> MappedFile::create(std::string_view path, std::size_t size, OpenMode open_mode, mode_t mode,
                                      FileMapOptions options) {
  const std::string p(path);
  if (size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kTooLarge, "open", quoted(path), fmt::format("size {} does not fit in off_t", size));
  }
  if (open_mode == OpenMode::kOpenExisting) {
    auto f = open(path, options);
    if (!f) return f;
    if (f->size() < size) {
      return fail_library(LibraryCode::kInvalidArgument, "open", quoted(path),
                          fmt::format("the file has {} bytes, fewer than the {} needed", f->size(), size));
    }
    return f;
  }
  bool created = false;
  int fd = -1;
  for (;;) {
    fd = no_eintr(::open, p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      created = true;
      break;
    }
    const int err = errno;
    if (err != EEXIST || open_mode == OpenMode::kCreateExclusive) {
      return fail_errno(err, "open", quoted(path), err == EEXIST ? "it already exists" : file_hint(err));
    }
    fd = no_eintr(::open, p.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) break;
    const int open_err = errno;
    if (open_err == ENOENT) continue;  // removed in between: create again
    return fail_errno(open_err, "open", quoted(path), file_hint(open_err));
  }
  UniqueFd owned(fd);
  auto undo = [&](Error error) -> Result<MappedFile> {
    if (created) (void)::unlink(p.c_str());
    return fail(std::move(error));
  };
  // umask applied to open()'s mode; fchmod sets exactly what the caller asked for.
  if (created && ::fchmod(fd, mode) != 0) {
    const int err = errno;
    return undo(Error::system(err, "fchmod", quoted(path)));
  }
  auto current = regular_file_size(fd, path);
  if (!current) return undo(std::move(current.error()));
  const std::size_t final_size = std::max(*current, size);
  if (*current < size) {
    if (const int err = no_eintr_rc(::posix_fallocate, fd, 0, static_cast<off_t>(size)); err != 0) {
      return undo(Error::system(err, "posix_fallocate", quoted(path), fmt::format("{} bytes: {}", size, file_hint(err))));
    }
  }
  Mapping map;
  if (final_size > 0) {
    auto m = Mapping::map(fd, final_size, map_options(options), 0, quoted(path));
    if (!m) return undo(std::move(m.error()));
    map = std::move(*m);
  }
  return MappedFile(std::move(owned), std::move(map), p, options);
}

Result<MappedFile> MappedFile::open(std::string_view path, FileMapOptions options) {
  const std::string p(path);
  // A private mapping never writes to the file, so read access is enough for it.
  const bool write = options.access == Access::kReadWrite && options.shared;
  const int fd = no_eintr(::open, p.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return fail_errno(err, "open", quoted(path), file_hint(err));
  }
  UniqueFd owned(fd);
  auto size = regular_file_size(fd, path);
  if (!size) return fail(std::move(size.error()));
  Mapping map;
  if (*size > 0) {
    auto m = Mapping::map(fd, *size, map_options(options), 0, quoted(path));
    if (!m) return fail(std::move(m.error()));
    map = std::move(*m);
  }
  return MappedFile(std::move(owned), std::move(map), p, options);
}

Result<void> MappedFile::sync(bool async) const {
  if (!options_.shared || !map_.valid()) return {};
  auto r = map_.sync(async);
  if (!r) return fail_errno(r.error().code(), "msync", quoted(path_));
  return {};
}

Result<void> MappedFile::resize(std::size_t new_size) {
  if (!fd_.valid()) return fail_library(LibraryCode::kInvalidArgument, "resize", quoted(path_), "empty MappedFile");
  if (options_.access != Access::kReadWrite || !options_.shared) {
    return fail_library(LibraryCode::kInvalidArgument, "resize", quoted(path_),
                        "only a shared read-write mapping can resize its file");
  }
  if (new_size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kTooLarge, "resize", quoted(path_), fmt::format("size {} does not fit in off_t", new_size));
  }
  const std::size_t old_size = map_.size();
  if (new_size == old_size) return {};
  if (new_size > old_size) {
    // Allocate first: if the disk is full nothing has changed and the old mapping stays valid.
    if (const int err = no_eintr_rc(::posix_fallocate, fd_.get(), 0, static_cast<off_t>(new_size)); err != 0) {
      return fail_errno(err, "posix_fallocate", quoted(path_), fmt::format("{} bytes: {}", new_size, file_hint(err)));
    }
  }
  // Shrinking: the mapping shrinks before the file, so no page of it is ever past the end.
  if (new_size == 0) {
    map_.reset();
  } else if (!map_.valid()) {
    auto m = Mapping::map(fd_.get(), new_size, map_options(options_), 0, quoted(path_));
    if (!m) return fail(std::move(m.error()));
    map_ = std::move(*m);
  } else {
    void* moved = ::mremap(map_.data(), old_size, new_size, MREMAP_MAYMOVE);
    if (moved == MAP_FAILED) return last_errno().fail("mremap", quoted(path_));
    (void)map_.release();  // the old range is now owned by the new mapping
    map_ = Mapping(moved, new_size);
  }
  if (new_size < old_size && ::ftruncate(fd_.get(), static_cast<off_t>(new_size)) != 0) {
    const int err = errno;
    return fail_errno(err, "ftruncate", quoted(path_), file_hint(err));
  }
  return {};
}

}  // namespace ipckit
