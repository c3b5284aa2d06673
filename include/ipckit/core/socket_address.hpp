// SPDX-License-Identifier: Apache-2.0
// SocketAddress: one socket address (UNIX path, UNIX abstract, IPv4, IPv6) with the text a user wrote.
//
// Shared by the stream and message layers: UNIX stream, datagram and seqpacket sockets, TCP and UDP.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

class IPCKIT_API SocketAddress {
 public:
  SocketAddress() = default;

  // "/path/to/sock" (a filesystem socket) or "@name" (Linux abstract namespace, no file). The path
  // must fit sun_path (107 bytes + NUL); the error names the limit.
  [[nodiscard]] static Result<SocketAddress> unix_socket(std::string_view path_or_abstract);

  // Resolves host and port with getaddrinfo (numeric or names; "" or "*" = any address for binding).
  // `family` AF_INET, AF_INET6 or AF_UNSPEC; `socktype` SOCK_STREAM or SOCK_DGRAM. Returns every
  // address in resolver order.
  [[nodiscard]] static Result<std::vector<SocketAddress>> resolve(std::string_view host, std::uint16_t port,
                                                                  int family, int socktype, bool passive = false);

  // The local or peer address of a socket (getsockname/getpeername).
  [[nodiscard]] static Result<SocketAddress> local_of(int fd);
  [[nodiscard]] static Result<SocketAddress> peer_of(int fd);

  // From raw storage (e.g. recvfrom); `len` as the kernel returned it.
  static SocketAddress from_raw(const sockaddr* addr, socklen_t len);

  [[nodiscard]] const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  [[nodiscard]] sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t size() const noexcept { return len_; }
  [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
  [[nodiscard]] bool is_unix() const noexcept { return family() == AF_UNIX; }
  [[nodiscard]] bool is_abstract() const noexcept;
  // The filesystem path of a non-abstract UNIX address, else "".
  [[nodiscard]] std::string unix_path() const;
  // Port of an inet address (0 otherwise).
  [[nodiscard]] std::uint16_t port() const noexcept;

  // "/path", "@name", "127.0.0.1:8080", "[::1]:8080".
  [[nodiscard]] std::string to_string() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// socket(family, type | SOCK_CLOEXEC [| SOCK_NONBLOCK], protocol) as a UniqueFd; `object` names the
// address in errors.
[[nodiscard]] IPCKIT_API Result<UniqueFd> make_socket(int family, int type, bool nonblocking = false,
                                                      std::string_view object = {});

}  // namespace ipckit
