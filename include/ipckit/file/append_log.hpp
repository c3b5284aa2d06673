// SPDX-License-Identifier: Apache-2.0
// Files as IPC, part 2: an append-only log shared by several writer processes.
//
// Each record is framed (magic, length, payload) and written with O_APPEND, so the kernel places it
// at the current end of file atomically with respect to other appenders. Linux serialises writes to a
// regular file, but a write can still come back short (disk full, a signal, some network file
// systems), and a record written in several pieces could then interleave with others. So:
//   - a record up to kAtomicRecordMax bytes (framing included) is one write() under a *shared* OFD
//     lock on the file: small appenders never wait for each other;
//   - a larger record is written (in as many write()s as it takes) under an *exclusive* OFD lock, so
//     no other record can land inside it.
// A reader takes a shared lock and sees whole records only; a writer that died mid-record (or a full
// disk) leaves a torn tail, which read_log() reports instead of returning it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// An append-only log of framed records shared by several writer processes (see append_log.hpp).
/// Owns its descriptor; movable, not copyable.
class IPCKIT_API AppendLog {
 public:
  /// Records up to this size (header included) are appended with a single write(): PIPE_BUF, the size
  /// POSIX promises atomic for pipes, and a size every local file system writes in one piece.
  static constexpr std::size_t kAtomicRecordMax = 4096;
  static constexpr std::size_t kHeaderSize = 8;  ///< u32 magic + u32 payload length
  static constexpr std::uint32_t kMagic = 0x474c4b49;  ///< "IKLG"
  static constexpr std::size_t kMaxRecord = 64u << 20;  ///< payload limit (64 MiB)

  /// No log.
  AppendLog() noexcept = default;

  /// Opens (or creates, mode \p perms) the log for appending. It is opened read-write (the shared lock
  /// needs read access), so writers need read and write permission. Errors: ENOENT, EACCES, EEXIST.
  [[nodiscard]] static Result<AppendLog> open(const std::string& path, OpenMode mode, mode_t perms = kDefaultMode);

  /// Appends one record. Blocks while a large record is being written by another appender.
  /// Thread-safe and process-safe. Errors: too large (`> kMaxRecord`), ENOSPC/EDQUOT (the record may be
  /// torn: see append_log.hpp), EBADF.
  [[nodiscard]] Result<void> append(std::span<const std::byte> payload);
  /// Appends the bytes of \p payload as one record, as the span overload does.
  [[nodiscard]] Result<void> append(std::string_view payload);

  /// The path the log was opened with.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The descriptor (-1 when empty); still owned by this log.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

 private:
  AppendLog(UniqueFd fd, std::string path) noexcept : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

/// What read_log() found.
struct LogContents {
  std::vector<std::string> records;  ///< the payloads of the complete records, in file order
  bool torn_tail = false;  ///< the file ends inside a record (a writer died or the disk filled)
};

/// Reads every complete record. Errors: ENOENT; corrupt (a header with a bad magic or length, i.e. the
/// file was written by something else).
[[nodiscard]] IPCKIT_API Result<LogContents> read_log(const std::string& path);

}  // namespace ipckit
