// SPDX-License-Identifier: Apache-2.0
// MappedFile: a regular file mapped into memory, shared (writes reach the file and every process
// mapping it) or private (copy-on-write: writes stay in this process), with msync and resize.
//
// Sizes ipckit controls never SIGBUS: create() and resize() grow files with posix_fallocate, so a
// full disk fails with ENOSPC there instead of on first touch, and the mapping always covers exactly
// the file's size at map time. Another process that truncates the file can still make this one
// SIGBUS (like POSIX shm, see docs/memory.md).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// How MappedFile maps a file.
struct FileMapOptions {
  Access access = Access::kReadWrite;  ///< read-only or read-write mapping
  bool shared = true;     ///< MAP_SHARED; false: MAP_PRIVATE (copy-on-write, never written back)
  bool populate = false;  ///< MAP_POPULATE: read the whole file in now
};

/// A regular file mapped into memory, shared (writes reach the file and every process mapping it)
/// or private (copy-on-write: writes stay in this process), with msync and resize.
/// Move-only: owns the descriptor and the mapping. Not thread-safe for resize() (it may move the
/// mapping); concurrent reads/writes of the bytes need the caller's own synchronisation.
class IPCKIT_API MappedFile {
 public:
  /// An empty MappedFile (no file, no mapping).
  MappedFile() = default;

  /// Creates \p path (kCreateExclusive: O_CREAT|O_EXCL; kOpenOrCreate: reuses an existing file and
  /// grows it to \p size if shorter) with permissions \p mode, sizes it with posix_fallocate and maps
  /// it read-write. Blocks on disk IO. Errors: EEXIST, ENOENT (directory), EACCES, ENOSPC/EDQUOT
  /// (at creation, not later), EISDIR. A file this call created is removed again on failure.
  [[nodiscard]] static Result<MappedFile> create(std::string_view path, std::size_t size,
                                                 OpenMode open_mode = OpenMode::kCreateExclusive,
                                                 mode_t mode = kDefaultMode, FileMapOptions options = {});
  /// Maps an existing file whole. A private read-write mapping opens the file read-only (writes go
  /// to private copies). An empty file gives an empty MappedFile (size 0, data() null) that can be
  /// resized. Errors: ENOENT, EACCES, "invalid argument" for a non-regular file.
  [[nodiscard]] static Result<MappedFile> open(std::string_view path, FileMapOptions options = {});

  /// Start of the mapping (null when empty); invalidated by resize().
  [[nodiscard]] void* data() const noexcept { return map_.data(); }
  /// Mapped size in bytes (the file's size at map or resize time).
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  /// The mapped bytes; invalidated by resize().
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return map_.bytes(); }
  /// The path given to create() or open().
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The options it was mapped with.
  [[nodiscard]] const FileMapOptions& options() const noexcept { return options_; }
  /// The file descriptor (stays owned here).
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

  /// msync: MS_SYNC (blocks until written) or MS_ASYNC. A private mapping has nothing to write
  /// back; it returns success. Errors: EIO, ENOMEM.
  [[nodiscard]] Result<void> sync(bool async = false) const;

  /// Changes the file's size and remaps it (data() may move; earlier pointers are invalid).
  /// Growing uses posix_fallocate (ENOSPC now rather than SIGBUS later); shrinking unmaps first,
  /// then ftruncates. Needs a shared read-write mapping. Errors: ENOSPC, EFBIG, EPERM,
  /// "invalid argument" for a read-only or private MappedFile.
  [[nodiscard]] Result<void> resize(std::size_t new_size);

 private:
  MappedFile(UniqueFd fd, Mapping map, std::string path, FileMapOptions options)
      : fd_(std::move(fd)), map_(std::move(map)), path_(std::move(path)), options_(options) {}

  UniqueFd fd_;
  Mapping map_;
  std::string path_;
  FileMapOptions options_;
};

}  // namespace ipckit
