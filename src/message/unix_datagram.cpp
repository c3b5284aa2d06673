// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/unix_datagram.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/retry.hpp"
#include "detail/unix_socket_file.hpp"

namespace ipckit {
namespace {

int sock_type(UnixMessageKind kind) { return kind == UnixMessageKind::kDatagram ? SOCK_DGRAM : SOCK_SEQPACKET; }

// Binds; a socket file already at the path is replaced when no socket is bound to it (its server
// died) and refused, naming its holder, when one is: the same rule as unix: listeners
// (detail/unix_socket_file.hpp).
Result<void> bind_to(int fd, const SocketAddress& addr, std::string_view text) {
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, addr.get(), addr.size()) == 0) return {};
    const int err = errno;
    if (err != EADDRINUSE) return fail_errno(err, "bind", ipckit::quoted(text));
    if (addr.is_abstract()) {
      return fail_errno(err, "bind", ipckit::quoted(text),
                        "another socket holds this abstract name (names vanish with their last socket; there is "
                        "no file to remove)");
    }
    if (attempt > 0) return fail_errno(err, "bind", ipckit::quoted(text), "the path was taken again while binding");
    if (auto r = detail::replace_stale_socket_file(std::string(text), "bind", ipckit::quoted(text)); !r) {
      return fail(r.error());
    }
  }
}

Result<void> connect_to(int fd, const SocketAddress& addr, std::string_view text) {
  for (;;) {
    if (::connect(fd, addr.get(), addr.size()) == 0) return {};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ECONNREFUSED) {
      return fail_errno(err, "connect", ipckit::quoted(text), "nothing is listening on this address (or its backlog is full)");
    }
    return fail_errno(err, "connect", ipckit::quoted(text));
  }
}

Result<DatagramSocket> make_bound(std::string_view address, int type) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(std::move(addr.error()));
  auto fd = make_socket(AF_UNIX, type, false, address);
  if (!fd) return fail(std::move(fd.error()));
  if (auto b = bind_to(fd->get(), *addr, address); !b) return fail(std::move(b.error()));
  return DatagramSocket(std::move(*fd), std::string(address));
}

}  // namespace

Result<DatagramSocket> UnixDatagram::bind(std::string_view address) { return make_bound(address, SOCK_DGRAM); }

Result<DatagramSocket> UnixDatagram::connect(std::string_view address, std::string_view local) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(std::move(addr.error()));
  auto fd = make_socket(AF_UNIX, SOCK_DGRAM, false, address);
  if (!fd) return fail(std::move(fd.error()));
  if (!local.empty()) {
    // Bound first so the peer sees an address to answer to (an unbound sender has none).
    auto local_addr = SocketAddress::unix_socket(local);
    if (!local_addr) return fail(std::move(local_addr.error()));
    if (auto b = bind_to(fd->get(), *local_addr, local); !b) return fail(std::move(b.error()));
  }
  if (auto c = connect_to(fd->get(), *addr, address); !c) return fail(std::move(c.error()));
  return DatagramSocket(std::move(*fd), std::string(address));
}

Result<std::pair<DatagramSocket, DatagramSocket>> UnixDatagram::pair(UnixMessageKind kind) {
  int fds[2];
  if (::socketpair(AF_UNIX, sock_type(kind) | SOCK_CLOEXEC, 0, fds) != 0) {
    return last_errno().fail("socketpair", kind == UnixMessageKind::kDatagram ? "SOCK_DGRAM" : "SOCK_SEQPACKET");
  }
  return std::pair<DatagramSocket, DatagramSocket>(DatagramSocket(UniqueFd(fds[0]), "socketpair[0]"),
                                                   DatagramSocket(UniqueFd(fds[1]), "socketpair[1]"));
}

Result<DatagramSocket> UnixDatagram::connect_seqpacket(std::string_view address) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(std::move(addr.error()));
  auto fd = make_socket(AF_UNIX, SOCK_SEQPACKET, false, address);
  if (!fd) return fail(std::move(fd.error()));
  if (auto c = connect_to(fd->get(), *addr, address); !c) return fail(std::move(c.error()));
  return DatagramSocket(std::move(*fd), std::string(address));
}

Result<SeqPacketListener> SeqPacketListener::listen(std::string_view address, int backlog) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(std::move(addr.error()));
  // Non-blocking listener: accept() waits in poll(), so try_accept/accept_until never block and
  // the accepted sockets are blocking (accept4 does not inherit O_NONBLOCK).
  auto fd = make_socket(AF_UNIX, SOCK_SEQPACKET, true, address);
  if (!fd) return fail(std::move(fd.error()));
  if (auto b = bind_to(fd->get(), *addr, address); !b) return fail(std::move(b.error()));
  if (::listen(fd->get(), backlog) != 0) return last_errno().fail("listen", ipckit::quoted(address));
  return SeqPacketListener(std::move(*fd), std::string(address));
}

namespace {
Result<Attempt<DatagramSocket>> accept_impl(int fd, const std::string& name, detail::WaitMode mode,
                                           Deadline deadline) {
  return detail::socket_retry(
      fd, POLLIN, mode, deadline,
      [&](bool) -> long { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); },
      [&](long got) -> Result<Attempt<DatagramSocket>> {
        return Attempt<DatagramSocket>(DatagramSocket(UniqueFd(static_cast<int>(got)), name));
      },
      [](IoStatus why) -> Result<Attempt<DatagramSocket>> { return Attempt<DatagramSocket>::none(why); },
      [&](int err) -> Result<Attempt<DatagramSocket>> {
        if (err == EMFILE || err == ENFILE) {
          return fail_errno(err, "accept4", ipckit::quoted(name), "out of file descriptors (ulimit -n / fs.file-max)");
        }
        return fail_errno(err, "accept4", ipckit::quoted(name));
      });
}
}  // namespace

Result<DatagramSocket> SeqPacketListener::accept() {
  auto r = accept_impl(fd_.get(), name_, detail::WaitMode::kBlock, kNoDeadline);
  if (!r) return fail(std::move(r.error()));
  return *std::move(*r);  // kBlock always returns a connection
}
Result<Attempt<DatagramSocket>> SeqPacketListener::try_accept() {
  return accept_impl(fd_.get(), name_, detail::WaitMode::kTry, kNoDeadline);
}
Result<Attempt<DatagramSocket>> SeqPacketListener::accept_until(Deadline deadline) {
  return accept_impl(fd_.get(), name_, detail::WaitMode::kUntil, deadline);
}

Result<void> unlink_socket(std::string_view address) {
  if (!address.empty() && address.front() == '@') return {};
  const std::string path(address);
  if (::unlink(path.c_str()) != 0) return last_errno().fail("unlink", ipckit::quoted(address));
  return {};
}

}  // namespace ipckit
