// SPDX-License-Identifier: Apache-2.0
#include "engine/socket_mechanism.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace ipckit::bench {

Result<SocketAddress> fresh_abstract_address() {
  return SocketAddress::unix_socket("@" + unique_object_name().substr(1));
}

Result<SocketAddress> loopback(int family, int socktype) {
  auto all = SocketAddress::resolve(family == AF_INET6 ? "::1" : "127.0.0.1", 0, family, socktype);
  if (!all) return fail(all.error());
  if (all->empty()) return fail_library(LibraryCode::kNotAvailable, "getaddrinfo", "loopback", "no address");
  return all->front();
}

std::optional<std::string> unix_message_limit(int type, std::size_t size) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) return fmt::format("socketpair: {}", errno_name(errno));
  UniqueFd a(sv[0]);
  UniqueFd b(sv[1]);
  // The same buffers the run's sockets get (ListenerSession / make_datagram_pair).
  raise_socket_buffers(a.get(), size);
  raise_socket_buffers(b.get(), size);
  std::vector<std::byte> buf(size);
  const ssize_t n = ::send(a.get(), buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(size)) return std::nullopt;
  const auto wmem = read_proc_number("/proc/sys/net/core/wmem_max");
  return fmt::format("wmem_max={}", wmem ? std::to_string(*wmem) : std::string("?"));
}

Availability loopback_available(int family) {
  auto addr = loopback(family, SOCK_STREAM);
  if (!addr) return {false, addr.error().str()};
  auto s = make_socket(family, SOCK_STREAM, false, addr->to_string());
  if (!s) return {false, s.error().str()};
  if (::bind(s->get(), addr->get(), addr->size()) != 0) {
    return {false, last_errno().error("bind", ipckit::quoted(addr->to_string())).str()};
  }
  return {};
}

}  // namespace ipckit::bench
