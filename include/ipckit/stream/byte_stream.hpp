// SPDX-License-Identifier: Apache-2.0
// The read and write verbs shared by every byte stream in ipckit: pipes, FIFOs, stream sockets
// (UNIX and TCP) and pseudoterminal masters all offer the same set, so code written against one works
// against the others.
//
// Verbs, each in the three forms of docs/design.md, Conventions (blocking, try_ = never blocks, _until = deadline):
//   write_all / try_write / write_all_until     every byte (try_: what fits now)
//   read_some / try_read  / read_some_until     at least one byte, or end of stream
//   read_exact            / read_exact_until    exactly buf.size() bytes, or end of stream
// Outcomes that are not failures are IoStatus values: kEndOfStream (the writer closed), kPeerClosed
// (the reader is gone: EPIPE/ECONNRESET, never a SIGPIPE death), kWouldBlock (try_ forms) and
// kTimedOut (_until forms). IoResult::bytes always says how much moved before that outcome, so a
// caller can resume. EINTR is retried without bound; deadlines are absolute, so retries never
// stretch them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

namespace detail {

// How the descriptor is driven.
enum class StreamKind : std::uint8_t {
  kPipe,      // pipe/FIFO end, kept O_NONBLOCK by ipckit; writes under SigpipeBlock unless SIGPIPE is ignored
  kSocket,    // stream socket: send/recv with MSG_NOSIGNAL, MSG_DONTWAIT for try_/_until forms
  kTerminal,  // pty master, kept O_NONBLOCK: EIO on read means every slave fd closed = end of stream
};

// What a stream type hands to the shared loops: no ownership, no allocation.
struct StreamFd {
  int fd = -1;
  StreamKind kind = StreamKind::kPipe;
  bool sigpipe_ignored = false;  // skip SigpipeBlock on pipe writes (checked once, at construction)
  std::string_view name;         // the object in error texts (path, address, "pipe")
};

// The one transfer loop behind every verb. `all`: keep going until buf is full/empty (else return
// after the first successful transfer). `wait`: wait for readiness until `deadline` (else return
// kWouldBlock at the first EAGAIN).
[[nodiscard]] IPCKIT_API Result<IoResult> stream_write(const StreamFd& s, std::span<const std::byte> buf,
                                                       bool all, bool wait, Deadline deadline);
[[nodiscard]] IPCKIT_API Result<IoResult> stream_read(const StreamFd& s, std::span<std::byte> buf, bool all,
                                                      bool wait, Deadline deadline);
// Reads until end of stream (or `limit` bytes: a larger stream is a kTooLarge error).
[[nodiscard]] IPCKIT_API Result<std::string> stream_read_to_end(const StreamFd& s, std::size_t limit);

}  // namespace detail

/// Mixin for readable streams. Derived provides `detail::StreamFd stream_fd() const noexcept`.
/// Thread safety: like the descriptor itself — concurrent readers of one stream may split the data
/// between them arbitrarily; use one reader per stream.
template <class Derived>
class StreamReadOps {
 public:
  /// Blocks until at least one byte is available or the stream ends (kEndOfStream, 0 bytes).
  [[nodiscard]] Result<IoResult> read_some(std::span<std::byte> buf) {
    return detail::stream_read(self().stream_fd(), buf, false, true, kNoDeadline);
  }
  /// Never blocks: the bytes available now, kWouldBlock when none, kEndOfStream at the end.
  [[nodiscard]] Result<IoResult> try_read(std::span<std::byte> buf) {
    return detail::stream_read(self().stream_fd(), buf, false, false, kNoDeadline);
  }
  /// read_some with a deadline: kTimedOut (0 bytes) when nothing arrived in time.
  [[nodiscard]] Result<IoResult> read_some_until(std::span<std::byte> buf, Deadline deadline) {
    return detail::stream_read(self().stream_fd(), buf, false, true, deadline);
  }
  /// Blocks until \p buf is full; kEndOfStream with the count so far if the writer closes first.
  [[nodiscard]] Result<IoResult> read_exact(std::span<std::byte> buf) {
    return detail::stream_read(self().stream_fd(), buf, true, true, kNoDeadline);
  }
  /// read_exact with a deadline: kTimedOut with the count so far.
  [[nodiscard]] Result<IoResult> read_exact_until(std::span<std::byte> buf, Deadline deadline) {
    return detail::stream_read(self().stream_fd(), buf, true, true, deadline);
  }
  /// Everything until end of stream, at most \p limit bytes (kTooLarge error beyond). Blocks.
  [[nodiscard]] Result<std::string> read_to_end(std::size_t limit = std::size_t{64} << 20) {
    return detail::stream_read_to_end(self().stream_fd(), limit);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

/// Mixin for writable streams. Derived provides `detail::StreamFd stream_fd() const noexcept`.
/// Same contract as StreamReadOps: one writer thread per stream (two concurrent write_all calls may
/// interleave their bytes, except pipe records of at most PIPE_BUF bytes).
template <class Derived>
class StreamWriteOps {
 public:
  /// Blocks until every byte is written; kPeerClosed (with the count so far) if the reader is gone.
  [[nodiscard]] Result<IoResult> write_all(std::span<const std::byte> buf) {
    return detail::stream_write(self().stream_fd(), buf, true, true, kNoDeadline);
  }
  /// write_all of the bytes of \p text.
  [[nodiscard]] Result<IoResult> write_all(std::string_view text) { return write_all(as_bytes(text)); }
  /// Never blocks: writes what fits now; kWouldBlock (with the count written) unless all of it fit.
  /// On pipes a record of at most
  /// PIPE_BUF bytes is written whole or not at all.
  [[nodiscard]] Result<IoResult> try_write(std::span<const std::byte> buf) {
    return detail::stream_write(self().stream_fd(), buf, true, false, kNoDeadline);
  }
  /// try_write of the bytes of \p text.
  [[nodiscard]] Result<IoResult> try_write(std::string_view text) { return try_write(as_bytes(text)); }
  /// write_all with a deadline: kTimedOut with the count so far.
  [[nodiscard]] Result<IoResult> write_all_until(std::span<const std::byte> buf, Deadline deadline) {
    return detail::stream_write(self().stream_fd(), buf, true, true, deadline);
  }
  /// write_all_until of the bytes of \p text.
  [[nodiscard]] Result<IoResult> write_all_until(std::string_view text, Deadline deadline) {
    return write_all_until(as_bytes(text), deadline);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace ipckit
