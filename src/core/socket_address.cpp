// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/socket_address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

namespace ipckit {

Result<SocketAddress> SocketAddress::unix_socket(std::string_view text) {
  SocketAddress a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  un->sun_family = AF_UNIX;
  constexpr std::size_t kMax = sizeof(un->sun_path) - 1;  // keep a NUL for paths
  if (text.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, "sockaddr_un", quoted(text),
                        "empty UNIX socket address (expected /path or @abstract-name)");
  }
  if (text.find('\0') != std::string_view::npos) {
    return fail_library(LibraryCode::kInvalidArgument, "sockaddr_un", quoted(text), "the address contains a NUL byte");
  }
  if (text.front() == '@') {
    // Abstract namespace: sun_path[0] = '\0', the name follows, not NUL-terminated; the length
    // passed to bind/connect says where it ends.
    const std::string_view name = text.substr(1);
    if (name.empty() || name.size() > kMax) {
      return fail_library(LibraryCode::kInvalidArgument, "sockaddr_un", quoted(text),
                          fmt::format("an abstract name must have 1..{} characters after '@'", kMax));
    }
    std::memcpy(un->sun_path + 1, name.data(), name.size());
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
  }
  if (text.size() > kMax) {
    return fail_library(LibraryCode::kInvalidArgument, "sockaddr_un", quoted(text),
                        fmt::format("the path is {} bytes; sun_path holds at most {} (use a shorter path, "
                                    "or an @abstract name)", text.size(), kMax));
  }
  std::memcpy(un->sun_path, text.data(), text.size());
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
  return a;
}

Result<std::vector<SocketAddress>> SocketAddress::resolve(std::string_view host, std::uint16_t port, int family,
                                                          int socktype, bool passive) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const std::string host_s(host == "*" ? "" : host);
  const std::string port_s = std::to_string(port);
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host_s.empty() ? nullptr : host_s.c_str(), port_s.c_str(), &hints, &list);
  const std::string object = quoted(fmt::format("{}:{}", host, port));
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return last_errno().fail("getaddrinfo", object);
    return fail_library(LibraryCode::kInvalidArgument, "getaddrinfo", object, ::gai_strerror(rc));
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    out.push_back(from_raw(ai->ai_addr, ai->ai_addrlen));
  }
  ::freeaddrinfo(list);
  if (out.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, "getaddrinfo", object, "no address of the requested family");
  }
  return out;
}

SocketAddress SocketAddress::from_raw(const sockaddr* addr, socklen_t len) {
  SocketAddress a;
  if (len > sizeof(a.storage_)) len = sizeof(a.storage_);
  std::memcpy(&a.storage_, addr, len);
  a.len_ = len;
  return a;
}

Result<SocketAddress> SocketAddress::local_of(int fd) {
  SocketAddress a;
  a.len_ = sizeof(a.storage_);
  if (::getsockname(fd, a.get(), &a.len_) != 0) return last_errno().fail("getsockname", fd_object(fd));
  return a;
}

Result<SocketAddress> SocketAddress::peer_of(int fd) {
  SocketAddress a;
  a.len_ = sizeof(a.storage_);
  if (::getpeername(fd, a.get(), &a.len_) != 0) return last_errno().fail("getpeername", fd_object(fd));
  return a;
}

bool SocketAddress::is_abstract() const noexcept {
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  return is_unix() && len_ > offsetof(sockaddr_un, sun_path) && un->sun_path[0] == '\0';
}

std::string SocketAddress::unix_path() const {
  if (!is_unix() || is_abstract() || len_ <= offsetof(sockaddr_un, sun_path)) return {};
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  return std::string(un->sun_path, ::strnlen(un->sun_path, len_ - offsetof(sockaddr_un, sun_path)));
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_UNIX: {
      if (!is_abstract()) return unix_path();
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t n = len_ - offsetof(sockaddr_un, sun_path) - 1;
      return "@" + std::string(un->sun_path + 1, n);
    }
    case AF_INET:
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
      return fmt::format("{}:{}", buf, port());
    case AF_INET6:
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
      return fmt::format("[{}]:{}", buf, port());
    default:
      return fmt::format("(family {})", family());
  }
}

Result<UniqueFd> make_socket(int family, int type, bool nonblocking, std::string_view object) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return last_errno().fail("socket", std::string(object));
  return UniqueFd(fd);
}

}  // namespace ipckit
