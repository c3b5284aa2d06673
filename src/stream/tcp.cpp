// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "socket_connect.hpp"

namespace ipckit {
namespace {

std::string host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<void> set_int_option(int fd, int level, int opt, int value, const char* call, const std::string& object) {
  if (::setsockopt(fd, level, opt, &value, sizeof value) != 0) return last_errno().fail(call, object);
  return {};
}

}  // namespace

Result<StreamListener> Tcp::listen(std::string_view host, std::uint16_t port, const TcpOptions& options) {
  auto addrs = SocketAddress::resolve(host, port, options.family, SOCK_STREAM, /*passive=*/true);
  if (!addrs) return fail(addrs.error());
  const std::string object = quoted(host_port(host, port));
  // "Any address" (*) means both families: the resolver lists 0.0.0.0 first, which would leave
  // [::1] refused. Try the IPv6 wildcard first as a dual-stack socket (IPV6_V6ONLY off, so IPv4
  // clients arrive as ::ffff:a.b.c.d); a host without IPv6 falls back to 0.0.0.0.
  const bool any = (host == "*" || host.empty()) && options.family == AF_UNSPEC;
  if (any) {
    std::stable_partition(addrs->begin(), addrs->end(),
                          [](const SocketAddress& a) { return a.family() == AF_INET6; });
  }
  Result<StreamListener> last = fail_errno(EADDRNOTAVAIL, "bind", object);
  for (const SocketAddress& addr : *addrs) {
    auto sock = make_socket(addr.family(), SOCK_STREAM, /*nonblocking=*/true, object);
    if (!sock && any && addr.family() == AF_INET6) {
      last = fail(sock.error());  // no IPv6 on this host (EAFNOSUPPORT): the IPv4 wildcard follows
      continue;
    }
    if (!sock) return fail(sock.error());
    if (any && addr.family() == AF_INET6) {
      auto r = set_int_option(sock->get(), IPPROTO_IPV6, IPV6_V6ONLY, 0, "setsockopt(IPV6_V6ONLY)", object);
      if (!r) return fail(r.error());
    }
    if (options.reuse_addr) {
      auto r = set_int_option(sock->get(), SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)", object);
      if (!r) return fail(r.error());
    }
    if (options.nodelay) {
      auto r = set_int_option(sock->get(), IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)", object);
      if (!r) return fail(r.error());
    }
    if (::bind(sock->get(), addr.get(), addr.size()) != 0) {
      const int err = errno;
      std::string hint;
      if (err == EADDRINUSE) hint = "another socket is bound to this address and port (port 0 picks a free one)";
      if (err == EACCES) hint = "ports below 1024 need CAP_NET_BIND_SERVICE";
      last = fail_errno(err, "bind", quoted(addr.to_string()), hint);
      continue;
    }
    if (::listen(sock->get(), options.backlog) != 0) {
      last = last_errno().fail("listen", quoted(addr.to_string()));
      continue;
    }
    return StreamListener(std::move(*sock), host_port(host, port));
  }
  return last;
}

Result<Attempt<StreamSocket>> Tcp::connect_until(std::string_view host, std::uint16_t port, Deadline deadline,
                                                 const TcpOptions& options) {
  auto addrs = SocketAddress::resolve(host, port, options.family, SOCK_STREAM);
  if (!addrs) return fail(addrs.error());
  const std::string name = host_port(host, port);
  Result<Attempt<StreamSocket>> last = Attempt<StreamSocket>::none(IoStatus::kTimedOut);
  for (const SocketAddress& addr : *addrs) {
    const std::string object = addrs->size() == 1 ? quoted(name) : quoted(name + " = " + addr.to_string());
    auto fd = detail::connect_stream(addr, deadline, object);
    if (!fd) {
      last = fail(fd.error());
      continue;
    }
    if (!*fd) return Attempt<StreamSocket>::none(IoStatus::kTimedOut);  // the deadline is shared by every address
    StreamSocket s(std::move(**fd), name);
    if (options.nodelay) {
      if (auto r = s.set_nodelay(true); !r) return fail(r.error());
    }
    return Attempt<StreamSocket>(std::move(s));
  }
  return last;
}

Result<StreamSocket> Tcp::connect(std::string_view host, std::uint16_t port, const TcpOptions& options) {
  auto s = connect_until(host, port, kNoDeadline, options);
  if (!s) return fail(s.error());
  return std::move(**s);
}

}  // namespace ipckit
