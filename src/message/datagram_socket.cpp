// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/datagram_socket.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "ipckit/core/eintr.hpp"
#include "core/retry.hpp"
#include "socket_detail.hpp"

namespace ipckit {
namespace {

using detail::WaitMode;

std::string object_of(int fd, const std::string& name) { return name.empty() ? fd_object(fd) : ipckit::quoted(name); }

Result<IoStatus> do_send(int fd, const std::string& name, const SocketAddress* to, std::span<const std::byte> data,
                         WaitMode mode, Deadline deadline) {
  return detail::socket_retry(
      fd, POLLOUT, mode, deadline,
      [&](bool dontwait) -> long {
        const int flags = MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0);
        return to == nullptr ? ::send(fd, data.data(), data.size(), flags)
                             : ::sendto(fd, data.data(), data.size(), flags, to->get(), to->size());
      },
      [](long) -> Result<IoStatus> { return IoStatus::kOk; },
      [](IoStatus s) -> Result<IoStatus> { return s; },
      [&](int err) -> Result<IoStatus> {
        const char* call = to == nullptr ? "send" : "sendto";
        const std::string object = to == nullptr ? object_of(fd, name) : ipckit::quoted(to->to_string());
        if (to == nullptr && (err == EPIPE || err == ECONNREFUSED || err == ECONNRESET)) return IoStatus::kPeerClosed;
        if (err == EMSGSIZE) return fail_errno(err, call, object, detail::emsgsize_hint(fd, data.size()));
        if (err == ENOBUFS) {
          return fail_errno(err, call, object,
                            "the kernel is out of socket buffer memory (/proc/sys/net/core/wmem_default, "
                            "/proc/sys/net/ipv4/udp_mem)");
        }
        return fail_errno(err, call, object);
      });
}

Result<Datagram> do_receive(int fd, const std::string& name, std::span<std::byte> buf, WaitMode mode,
                            Deadline deadline) {
  sockaddr_storage from{};
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  return detail::socket_retry(
      fd, POLLIN, mode, deadline,
      [&](bool dontwait) -> long {
        msg = msghdr{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        // MSG_TRUNC: return the real length of a longer message, so truncation is seen, not silent.
        return ::recvmsg(fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC | (dontwait ? MSG_DONTWAIT : 0));
      },
      [&](long n) -> Result<Datagram> {
        Datagram d;
        d.full_size = static_cast<std::size_t>(n);
        d.bytes = d.full_size < buf.size() ? d.full_size : buf.size();
        d.truncated = (msg.msg_flags & MSG_TRUNC) != 0 || d.full_size > buf.size();
        d.from = SocketAddress::from_raw(reinterpret_cast<const sockaddr*>(&from), msg.msg_namelen);
        // A seqpacket read of 0 bytes is the peer's orderly close (a datagram of 0 bytes is a message).
        if (n == 0 && detail::socket_type(fd) == SOCK_SEQPACKET) d.status = IoStatus::kEndOfStream;
        return d;
      },
      [](IoStatus s) -> Result<Datagram> {
        Datagram d;
        d.status = s;
        return d;
      },
      [&](int err) -> Result<Datagram> {
        if (err == ECONNRESET || err == ECONNREFUSED) {
          // Seqpacket peer reset: end of stream; UDP: an ICMP "port unreachable" for an earlier send.
          Datagram d;
          d.status = err == ECONNRESET ? IoStatus::kEndOfStream : IoStatus::kPeerClosed;
          return d;
        }
        return fail_errno(err, "recvmsg", object_of(fd, name));
      });
}

Result<int> get_int(int fd, const std::string& name, int opt, const char* call) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, SOL_SOCKET, opt, &v, &len) != 0) return last_errno().fail(call, object_of(fd, name));
  return v;
}

Result<void> set_int(int fd, const std::string& name, int opt, int v, const char* call) {
  if (::setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) != 0) return last_errno().fail(call, object_of(fd, name));
  return {};
}

}  // namespace

Result<IoStatus> DatagramSocket::send(std::span<const std::byte> data) {
  return do_send(fd_.get(), name_, nullptr, data, WaitMode::kBlock, kNoDeadline);
}
Result<IoStatus> DatagramSocket::try_send(std::span<const std::byte> data) {
  return do_send(fd_.get(), name_, nullptr, data, WaitMode::kTry, kNoDeadline);
}
Result<IoStatus> DatagramSocket::send_until(std::span<const std::byte> data, Deadline deadline) {
  return do_send(fd_.get(), name_, nullptr, data, WaitMode::kUntil, deadline);
}
Result<IoStatus> DatagramSocket::send_to(const SocketAddress& to, std::span<const std::byte> data) {
  return do_send(fd_.get(), name_, &to, data, WaitMode::kBlock, kNoDeadline);
}
Result<IoStatus> DatagramSocket::try_send_to(const SocketAddress& to, std::span<const std::byte> data) {
  return do_send(fd_.get(), name_, &to, data, WaitMode::kTry, kNoDeadline);
}
Result<IoStatus> DatagramSocket::send_to_until(const SocketAddress& to, std::span<const std::byte> data,
                                               Deadline deadline) {
  return do_send(fd_.get(), name_, &to, data, WaitMode::kUntil, deadline);
}

Result<Datagram> DatagramSocket::receive(std::span<std::byte> buf) {
  return do_receive(fd_.get(), name_, buf, WaitMode::kBlock, kNoDeadline);
}
Result<Datagram> DatagramSocket::try_receive(std::span<std::byte> buf) {
  return do_receive(fd_.get(), name_, buf, WaitMode::kTry, kNoDeadline);
}
Result<Datagram> DatagramSocket::receive_until(std::span<std::byte> buf, Deadline deadline) {
  return do_receive(fd_.get(), name_, buf, WaitMode::kUntil, deadline);
}

Result<std::size_t> DatagramSocket::next_size() {
  std::byte probe{};
  auto outcome = detail::retry_call(fd_.get(), POLLIN, WaitMode::kBlock, kNoDeadline, [&](bool) -> long {
    return ::recv(fd_.get(), &probe, 1, MSG_PEEK | MSG_TRUNC);
  });
  if (!outcome) return fail(std::move(outcome.error()));
  if (!outcome->succeeded()) return fail_errno(outcome->err, "recv(MSG_PEEK)", object_of(fd_.get(), name_));
  return static_cast<std::size_t>(outcome->rc);
}

Result<void> DatagramSocket::connect(const SocketAddress& peer) {
  // A datagram connect only records the peer: it completes at once, so EINTR is simply retried.
  if (no_eintr(::connect, fd_.get(), peer.get(), peer.size()) == 0) return {};
  return last_errno().fail("connect", ipckit::quoted(peer.to_string()));
}

Result<int> DatagramSocket::send_buffer_size() const {
  return get_int(fd_.get(), name_, SO_SNDBUF, "getsockopt(SO_SNDBUF)");
}
Result<void> DatagramSocket::set_send_buffer_size(int bytes) {
  return set_int(fd_.get(), name_, SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
}
Result<int> DatagramSocket::receive_buffer_size() const {
  return get_int(fd_.get(), name_, SO_RCVBUF, "getsockopt(SO_RCVBUF)");
}
Result<void> DatagramSocket::set_receive_buffer_size(int bytes) {
  return set_int(fd_.get(), name_, SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
}

Result<SocketAddress> DatagramSocket::local_address() const { return SocketAddress::local_of(fd_.get()); }

}  // namespace ipckit
