// SPDX-License-Identifier: Apache-2.0
/// @file
/// SocketAddress: one socket address (UNIX path, UNIX abstract, IPv4, IPv6) with the text a user wrote.
///
/// Shared by the stream and message layers: UNIX stream, datagram and seqpacket sockets, TCP and UDP.
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

/// One socket address: a UNIX path, a UNIX abstract name, IPv4 or IPv6 (a sockaddr_storage and its length).
///
/// A plain copyable value; to_string() gives it back in the form a user writes.
class IPCKIT_API SocketAddress {
 public:
  /// An empty address (family AF_UNSPEC, size 0).
  SocketAddress() = default;

  /// "/path/to/sock" (a filesystem socket) or "@name" (Linux abstract namespace, no file). The path
  /// must fit sun_path (107 bytes + NUL); the error names the limit.
  /// Errors: kInvalidArgument for an empty text, a NUL byte, or a path or name that does not fit.
  [[nodiscard]] static Result<SocketAddress> unix_socket(std::string_view path_or_abstract);

  /// Resolves host and port with getaddrinfo (numeric or names; "" or "*" = any address for binding).
  /// `family` AF_INET, AF_INET6 or AF_UNSPEC; `socktype` SOCK_STREAM or SOCK_DGRAM. Returns every
  /// address in resolver order.
  /// `passive` sets AI_PASSIVE (addresses to bind). May block on name resolution. Errors: kInvalidArgument
  /// with the resolver's message (or when no address of `family` is found), the errno for EAI_SYSTEM.
  [[nodiscard]] static Result<std::vector<SocketAddress>> resolve(std::string_view host, std::uint16_t port,
                                                                  int family, int socktype, bool passive = false);

  /// The local address of a socket (getsockname). Errors: the getsockname() errno.
  [[nodiscard]] static Result<SocketAddress> local_of(int fd);
  /// The peer address of a connected socket (getpeername). Errors: the getpeername() errno (ENOTCONN, ...).
  [[nodiscard]] static Result<SocketAddress> peer_of(int fd);

  /// From raw storage (e.g. recvfrom); `len` as the kernel returned it (cut to sizeof(sockaddr_storage)).
  static SocketAddress from_raw(const sockaddr* addr, socklen_t len);

  /// The address, for connect(), bind(), sendto().
  [[nodiscard]] const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  /// The address storage, writable (for accept(), recvfrom()).
  [[nodiscard]] sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  /// The address length in bytes, as passed to bind()/connect().
  [[nodiscard]] socklen_t size() const noexcept { return len_; }
  /// AF_UNIX, AF_INET, AF_INET6 (AF_UNSPEC when empty).
  [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
  /// True for AF_UNIX addresses (path or abstract).
  [[nodiscard]] bool is_unix() const noexcept { return family() == AF_UNIX; }
  /// True for a UNIX address in the abstract namespace (written "@name").
  [[nodiscard]] bool is_abstract() const noexcept;
  /// The filesystem path of a non-abstract UNIX address, else "".
  [[nodiscard]] std::string unix_path() const;
  /// Port of an inet address (0 otherwise).
  [[nodiscard]] std::uint16_t port() const noexcept;

  /// The address as a user writes it: "/path", "@name", "127.0.0.1:8080", "[::1]:8080".
  [[nodiscard]] std::string to_string() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

/// socket(family, type | SOCK_CLOEXEC [| SOCK_NONBLOCK], protocol) as a UniqueFd; `object` names the
/// address in errors.
/// Errors: the socket() errno (EMFILE, EAFNOSUPPORT, ...).
[[nodiscard]] IPCKIT_API Result<UniqueFd> make_socket(int family, int type, bool nonblocking = false,
                                                      std::string_view object = {});

}  // namespace ipckit
