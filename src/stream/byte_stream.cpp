// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/byte_stream.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/retry.hpp"
#include "ipckit/core/sigpipe.hpp"

namespace ipckit::detail {
namespace {

std::string object_of(const StreamFd& s) { return s.name.empty() ? fd_object(s.fd) : quoted(s.name); }

// Sockets stay in the mode the user gave them; a blocking call with no deadline is one plain
// syscall (the cheapest path), everything else asks for MSG_DONTWAIT and polls on EAGAIN.
TransferSpec spec_of(Direction direction, bool all, bool wait, Deadline deadline) {
  TransferSpec spec;
  spec.direction = direction;
  spec.all = all;
  spec.mode = wait_mode(wait, deadline);
  spec.deadline = deadline;
  return spec;
}

}  // namespace

Result<IoResult> stream_write(const StreamFd& s, std::span<const std::byte> buf, bool all, bool wait,
                              Deadline deadline) {
  if (buf.empty()) return IoResult{0, IoStatus::kOk};
  // Pipes have no MSG_NOSIGNAL: block SIGPIPE around the write unless the process ignored it when
  // the stream was made. Every exit but a closed peer tells the guard no SIGPIPE was raised, so a
  // successful write costs write() + two sigprocmask calls, and nothing extra where SIGPIPE is ignored.
  std::optional<SigpipeBlock> block;
  if (s.kind != StreamKind::kSocket && !s.sigpipe_ignored) block.emplace();
  const bool socket = s.kind == StreamKind::kSocket;
  auto result = transfer(
      s.fd, buf.size(), spec_of(Direction::kWrite, all, wait, deadline),
      [&](std::size_t offset, bool dontwait) -> long {
        const std::byte* p = buf.data() + offset;
        const std::size_t n = buf.size() - offset;
        return socket ? ::send(s.fd, p, n, MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0)) : ::write(s.fd, p, n);
      },
      [&](int err) -> std::optional<IoStatus> {
        // EPIPE: the guard's destructor consumes the SIGPIPE this write raised.
        if (err == EPIPE || err == ECONNRESET) return IoStatus::kPeerClosed;
        if (s.kind == StreamKind::kTerminal && err == EIO) return IoStatus::kPeerClosed;
        return std::nullopt;
      },
      [&] { return CallNames{socket ? "send" : "write", object_of(s)}; });
  if (block && !(result && result->status == IoStatus::kPeerClosed)) block->no_epipe();
  return result;
}

Result<IoResult> stream_read(const StreamFd& s, std::span<std::byte> buf, bool all, bool wait,
                             Deadline deadline) {
  if (buf.empty()) return IoResult{0, IoStatus::kOk};
  const bool socket = s.kind == StreamKind::kSocket;
  return transfer(
      s.fd, buf.size(), spec_of(Direction::kRead, all, wait, deadline),
      [&](std::size_t offset, bool dontwait) -> long {
        std::byte* p = buf.data() + offset;
        const std::size_t n = buf.size() - offset;
        return socket ? ::recv(s.fd, p, n, dontwait ? MSG_DONTWAIT : 0) : ::read(s.fd, p, n);
      },
      [&](int err) -> std::optional<IoStatus> {
        // A peer that closed with unread data in its receive queue makes the kernel reset the
        // connection: the stream is over either way.
        if (err == ECONNRESET) return IoStatus::kPeerClosed;
        // A pty master reads EIO once every slave descriptor is closed (the child exited).
        if (s.kind == StreamKind::kTerminal && err == EIO) return IoStatus::kEndOfStream;
        return std::nullopt;
      },
      [&] { return CallNames{socket ? "recv" : "read", object_of(s)}; });
}

Result<std::string> stream_read_to_end(const StreamFd& s, std::size_t limit) {
  std::string out;
  std::byte chunk[16384];
  for (;;) {
    auto r = stream_read(s, chunk, false, true, kNoDeadline);
    if (!r) return fail(r.error());
    if (r->bytes > limit - out.size()) {
      return fail_library(LibraryCode::kTooLarge, "read", object_of(s),
                          fmt::format("the stream holds more than the {}-byte limit of read_to_end()", limit));
    }
    out.append(reinterpret_cast<const char*>(chunk), r->bytes);
    if (r->status != IoStatus::kOk) return out;
  }
}

}  // namespace ipckit::detail
