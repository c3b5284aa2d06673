// SPDX-License-Identifier: Apache-2.0
#include "engine/fd_session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/io.hpp"

namespace ipckit::bench {
namespace {

ssize_t send_nosignal(int fd, const void* p, std::size_t n) { return ::send(fd, p, n, MSG_NOSIGNAL); }

bool peer_gone_errno(int err) noexcept { return err == EPIPE || err == ECONNRESET || err == ECONNREFUSED; }

}  // namespace

Result<void> FdSession::prepare(Role role) {
  const Ends e = ends_[static_cast<int>(role)];
  for (int i = 0; i < static_cast<int>(owned_.size()); ++i) {
    if (i != e.in && i != e.out) owned_[static_cast<std::size_t>(i)].reset();
  }
  in_fd_ = e.in >= 0 ? owned_[static_cast<std::size_t>(e.in)].get() : -1;
  out_fd_ = e.out >= 0 ? owned_[static_cast<std::size_t>(e.out)].get() : -1;
  out_index_ = e.out;
  return {};
}

void FdSession::after_fork() noexcept {
  for (auto& fd : owned_) fd.reset();
}

Result<bool> FdSession::send(std::span<const std::byte> frame) {
  if (kind() == Kind::kStream) {
    auto r = write_full(out_fd_, frame, socket_ ? &send_nosignal : nullptr, fd_object(out_fd_));
    if (!r) {
      if (peer_gone_errno(r.error().code())) return false;
      return fail(r.error());
    }
    return r->status == IoStatus::kOk;
  }
  for (;;) {
    const ssize_t n = ::send(out_fd_, frame.data(), frame.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      if (static_cast<std::size_t>(n) != frame.size()) {
        return fail_library(LibraryCode::kTruncated, "send", fd_object(out_fd_),
                            fmt::format("sent {} of {} bytes", n, frame.size()));
      }
      return true;
    }
    if (errno == EINTR) continue;
    if (peer_gone_errno(errno)) return false;
    if (errno == ENOBUFS) continue;  // the kernel ran short of buffers for a moment; try again
    return last_errno().fail("send", fd_object(out_fd_));
  }
}

Result<std::optional<std::size_t>> FdSession::receive(std::span<std::byte> buf) {
  if (kind() == Kind::kStream) {
    auto r = read_some(in_fd_, buf, nullptr, fd_object(in_fd_));
    if (!r) {
      if (peer_gone_errno(r.error().code())) return std::optional<std::size_t>(0);
      return fail(r.error());
    }
    return std::optional<std::size_t>(r->bytes);
  }
  for (;;) {
    const ssize_t n = ::recv(in_fd_, buf.data(), buf.size(), 0);
    if (n >= 0) return std::optional<std::size_t>(static_cast<std::size_t>(n));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<std::size_t>();  // SO_RCVTIMEO
    if (peer_gone_errno(errno)) return std::optional<std::size_t>(0);
    return last_errno().fail("recv", fd_object(in_fd_));
  }
}

Result<void> FdSession::finish_sending() {
  if (kind() != Kind::kStream || out_index_ < 0) return {};
  auto& fd = owned_[static_cast<std::size_t>(out_index_)];
  if (socket_) {
    if (::shutdown(fd.get(), SHUT_WR) != 0 && errno != ENOTCONN) return last_errno().fail("shutdown", fd_object(fd.get()));
    return {};
  }
  return fd.close();
}

void raise_socket_buffers(int fd, std::size_t message_size, int receive_buffer) noexcept {
  const int want = static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(4 * message_size + 4096, 262144), 64u << 20));
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  const int rcv = receive_buffer != 0 ? receive_buffer : want;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

Result<void> ListenerSession::listen_on(SocketAddress address, bool nodelay, std::size_t message_size) {
  nodelay_ = nodelay;
  message_size_ = message_size;
  auto s = make_socket(address.family(), type_, false, address.to_string());
  if (!s) return fail(s.error());
  if (address.family() != AF_UNIX) {
    const int one = 1;
    (void)::setsockopt(s->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(s->get(), address.get(), address.size()) != 0) {
    return last_errno().fail("bind", ipckit::quoted(address.to_string()));
  }
  if (::listen(s->get(), 4) != 0) return last_errno().fail("listen", ipckit::quoted(address.to_string()));
  auto local = SocketAddress::local_of(s->get());
  if (!local) return fail(local.error());
  address_ = *local;
  owned_[2] = std::move(*s);
  return {};
}

Result<void> ListenerSession::prepare(Role role) {
  if (role == Role::kReceiver) {
    const int fd = no_eintr(::accept4, owned_[2].get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return last_errno().fail("accept4", ipckit::quoted(address_.to_string()));
    owned_[1].reset(fd);
  } else {
    auto s = make_socket(address_.family(), type_, false, address_.to_string());
    if (!s) return fail(s.error());
    int r;
    while ((r = ::connect(s->get(), address_.get(), address_.size())) != 0 && errno == EINTR) {
    }
    if (r != 0) return last_errno().fail("connect", ipckit::quoted(address_.to_string()));
    owned_[0] = std::move(*s);
  }
  const int side = role == Role::kSender ? 0 : 1;
  if (message_size_ != 0) raise_socket_buffers(owned_[static_cast<std::size_t>(side)].get(), message_size_);
  if (nodelay_) {
    const int one = 1;
    if (::setsockopt(owned_[static_cast<std::size_t>(side)].get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      return last_errno().fail("setsockopt(TCP_NODELAY)", ipckit::quoted(address_.to_string()));
    }
  }
  return FdSession::prepare(role);
}

Result<void> make_datagram_pair(std::array<UniqueFd, 4>& owned, const SocketAddress& a, const SocketAddress& b,
                                int type, bool lossy, std::size_t size) {
  SocketAddress bound[2];
  const SocketAddress* want[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    auto s = make_socket(want[i]->family(), type, false, want[i]->to_string());
    if (!s) return fail(s.error());
    if (::bind(s->get(), want[i]->get(), want[i]->size()) != 0) {
      return last_errno().fail("bind", ipckit::quoted(want[i]->to_string()));
    }
    auto local = SocketAddress::local_of(s->get());
    if (!local) return fail(local.error());
    bound[i] = *local;
    // Large frames need buffers that hold them.
    raise_socket_buffers(s->get(), size, lossy ? (8 << 20) : 0);
    if (lossy) {
      timeval tv{0, static_cast<suseconds_t>(std::chrono::microseconds(TransportSession::kLossyTimeout).count())};
      if (::setsockopt(s->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        return last_errno().fail("setsockopt(SO_RCVTIMEO)", ipckit::quoted(want[i]->to_string()));
      }
    }
    owned[static_cast<std::size_t>(i)] = std::move(*s);
  }
  for (int i = 0; i < 2; ++i) {
    const SocketAddress& peer = bound[1 - i];
    if (::connect(owned[static_cast<std::size_t>(i)].get(), peer.get(), peer.size()) != 0) {
      return last_errno().fail("connect", ipckit::quoted(peer.to_string()));
    }
  }
  return {};
}

std::optional<unsigned long long> read_proc_number(const char* path) {
  std::ifstream in(path);
  unsigned long long v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

}  // namespace ipckit::bench
