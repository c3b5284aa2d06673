// SPDX-License-Identifier: Apache-2.0
/// @file
/// Blocking and non-blocking byte IO on file descriptors, EINTR-safe.
///
/// The *_full helpers loop until every byte is transferred, retrying EINTR without bound and
/// finishing short counts; end of stream and a closed peer are reported as values (IoStatus), not
/// errors. Each takes the syscall as a parameter so tests can inject EINTR and short counts.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/expect_ok.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// How a transfer ended without an error.
enum class IoStatus {
  kOk,          ///< the whole buffer was transferred
  kEndOfStream, ///< read: the writer closed before the buffer was full
  kPeerClosed,  ///< write: the reader is gone (EPIPE); never delivered as SIGPIPE by these helpers
  kWouldBlock,  ///< non-blocking descriptor: nothing (more) could be transferred now
  kTimedOut,    ///< the deadline passed first
};

/// The status as text ("ok", "end of stream", "peer closed", "would block", "timed out").
[[nodiscard]] IPCKIT_API const char* to_string(IoStatus status) noexcept;

/// What a transfer did: how many bytes moved and why it stopped.
struct [[nodiscard]] IoResult {
  std::size_t bytes = 0;  ///< bytes transferred before the status was reached
  IoStatus status = IoStatus::kOk;  ///< why the transfer stopped
  /// True when the whole buffer was transferred (kOk).
  [[nodiscard]] bool ok() const noexcept { return status == IoStatus::kOk; }
};

/// The read(2)-shaped call the helpers use (nullptr: the read system call); tests inject EINTR and short counts through it.
using ReadFn = ssize_t (*)(int, void*, std::size_t);
/// The write(2)-shaped call the helpers use (nullptr: the write system call).
using WriteFn = ssize_t (*)(int, const void*, std::size_t);

/// Reads exactly buf.size() bytes unless the stream ends (kEndOfStream with the count so far) or the
/// descriptor is non-blocking and runs dry (kWouldBlock). `object` names the fd in errors.
[[nodiscard]] IPCKIT_API Result<IoResult> read_full(int fd, std::span<std::byte> buf,
                                                    ReadFn fn = nullptr, std::string_view object = {});

/// Writes every byte. EPIPE becomes kPeerClosed. The caller must make sure SIGPIPE cannot kill the
/// process: sockets use MSG_NOSIGNAL; for pipes and FIFOs wrap the call in a SigpipeBlock.
[[nodiscard]] IPCKIT_API Result<IoResult> write_full(int fd, std::span<const std::byte> buf,
                                                     WriteFn fn = nullptr, std::string_view object = {});

/// One read() with EINTR retried: the count read, 0 bytes with kEndOfStream, or kWouldBlock.
[[nodiscard]] IPCKIT_API Result<IoResult> read_some(int fd, std::span<std::byte> buf,
                                                    ReadFn fn = nullptr, std::string_view object = {});
/// One write() with EINTR retried: the count written, kPeerClosed on EPIPE, or kWouldBlock.
[[nodiscard]] IPCKIT_API Result<IoResult> write_some(int fd, std::span<const std::byte> buf,
                                                     WriteFn fn = nullptr, std::string_view object = {});

/// As read_full(), but waits for readiness with poll() before each transfer until \p deadline (then
/// kTimedOut with the count so far), so it works on blocking and non-blocking descriptors alike (on a
/// blocking fd a single large transfer may overrun; prefer non-blocking descriptors with deadlines).
[[nodiscard]] IPCKIT_API Result<IoResult> read_full_until(int fd, std::span<std::byte> buf, Deadline deadline,
                                                          std::string_view object = {});
/// As write_full(), bounded by \p deadline in the same way as read_full_until() (kTimedOut with the
/// count so far).
[[nodiscard]] IPCKIT_API Result<IoResult> write_full_until(int fd, std::span<const std::byte> buf,
                                                           Deadline deadline, std::string_view object = {});

/// Reads until end of stream (for small outputs of child processes and files); blocks without a
/// deadline, polling when the descriptor is non-blocking.
[[nodiscard]] IPCKIT_API Result<std::string> read_all(int fd, std::string_view object = {});

/// A string's bytes, for write_full() and the other helpers above.
inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
/// A string's bytes as a writable span (size() bytes), for read_full() and the other helpers above.
inline std::span<std::byte> as_writable_bytes(std::string& s) noexcept {
  return {reinterpret_cast<std::byte*>(s.data()), s.size()};
}

}  // namespace ipckit
