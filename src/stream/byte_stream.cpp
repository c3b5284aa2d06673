// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/byte_stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/poll.hpp"
#include "ipckit/core/sigpipe.hpp"

namespace ipckit::detail {
namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

std::string object_of(const StreamFd& s) { return s.name.empty() ? fd_object(s.fd) : quoted(s.name); }

// Sockets stay in the mode the user gave them; a blocking call with no deadline is one plain
// syscall (the cheapest path), everything else asks for MSG_DONTWAIT and polls on EAGAIN.
int socket_flags(bool wait, Deadline deadline) {
  return (wait && deadline == kNoDeadline) ? 0 : MSG_DONTWAIT;
}

}  // namespace

Result<IoResult> stream_write(const StreamFd& s, std::span<const std::byte> buf, bool all, bool wait,
                              Deadline deadline) {
  if (buf.empty()) return IoResult{0, IoStatus::kOk};
  // Pipes have no MSG_NOSIGNAL: block SIGPIPE around the write unless the process ignored it when
  // the stream was made. Every exit but EPIPE tells the guard no SIGPIPE was raised, so a successful
  // write costs write() + two sigprocmask calls, and nothing extra where SIGPIPE is ignored.
  std::optional<SigpipeBlock> block;
  if (s.kind != StreamKind::kSocket && !s.sigpipe_ignored) block.emplace();
  const auto no_sigpipe = [&block](auto&& result) {
    if (block) block->no_epipe();
    return std::forward<decltype(result)>(result);
  };
  const int flags = MSG_NOSIGNAL | socket_flags(wait, deadline);
  std::size_t done = 0;
  for (;;) {
    const std::byte* p = buf.data() + done;
    const std::size_t n = buf.size() - done;
    const ssize_t rc = s.kind == StreamKind::kSocket ? ::send(s.fd, p, n, flags) : ::write(s.fd, p, n);
    if (rc >= 0) {
      done += static_cast<std::size_t>(rc);
      if (done == buf.size() || !all) return no_sigpipe(Result<IoResult>(IoResult{done, IoStatus::kOk}));
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    // EPIPE: the guard's destructor consumes the SIGPIPE this write raised.
    if (err == EPIPE || err == ECONNRESET) return IoResult{done, IoStatus::kPeerClosed};
    if (s.kind == StreamKind::kTerminal && err == EIO) return IoResult{done, IoStatus::kPeerClosed};
    if (!would_block(err)) {
      return no_sigpipe(Result<IoResult>(
          fail_errno(err, s.kind == StreamKind::kSocket ? "send" : "write", object_of(s))));
    }
    if (!wait) return no_sigpipe(Result<IoResult>(IoResult{done, IoStatus::kWouldBlock}));
    auto ready = poll_one(s.fd, POLLOUT, deadline);
    if (!ready) return no_sigpipe(Result<IoResult>(fail(ready.error())));
    if (*ready == 0) return no_sigpipe(Result<IoResult>(IoResult{done, IoStatus::kTimedOut}));
  }
}

Result<IoResult> stream_read(const StreamFd& s, std::span<std::byte> buf, bool all, bool wait,
                             Deadline deadline) {
  if (buf.empty()) return IoResult{0, IoStatus::kOk};
  const int flags = socket_flags(wait, deadline);
  std::size_t done = 0;
  for (;;) {
    std::byte* p = buf.data() + done;
    const std::size_t n = buf.size() - done;
    const ssize_t rc = s.kind == StreamKind::kSocket ? ::recv(s.fd, p, n, flags) : ::read(s.fd, p, n);
    if (rc > 0) {
      done += static_cast<std::size_t>(rc);
      if (done == buf.size() || !all) return IoResult{done, IoStatus::kOk};
      continue;
    }
    if (rc == 0) return IoResult{done, IoStatus::kEndOfStream};
    const int err = errno;
    if (err == EINTR) continue;
    // A peer that closed with unread data in its receive queue makes the kernel reset the
    // connection: the stream is over either way.
    if (err == ECONNRESET) return IoResult{done, IoStatus::kPeerClosed};
    // A pty master reads EIO once every slave descriptor is closed (the child exited).
    if (s.kind == StreamKind::kTerminal && err == EIO) return IoResult{done, IoStatus::kEndOfStream};
    if (!would_block(err)) {
      return fail_errno(err, s.kind == StreamKind::kSocket ? "recv" : "read", object_of(s));
    }
    if (!wait) return IoResult{done, IoStatus::kWouldBlock};
    auto ready = poll_one(s.fd, POLLIN, deadline);
    if (!ready) return fail(ready.error());
    if (*ready == 0) return IoResult{done, IoStatus::kTimedOut};
  }
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
