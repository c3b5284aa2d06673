// SPDX-License-Identifier: Apache-2.0
// TCP over IPv4 and IPv6: listen and connect by host and port (resolved with getaddrinfo through
// SocketAddress::resolve), SO_REUSEADDR on listeners, TCP_NODELAY as an option, connect with a
// deadline. Connections are StreamSockets, the same type UNIX stream sockets use.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/stream/stream_socket.hpp"

namespace ipckit {

/// Options for Tcp::listen(), Tcp::connect() and Tcp::connect_until().
struct TcpOptions {
  int family = AF_UNSPEC;   ///< AF_INET, AF_INET6, or AF_UNSPEC (whatever the host resolves to)
  bool nodelay = false;     ///< TCP_NODELAY on connected sockets (accepted ones inherit it on Linux)
  bool reuse_addr = true;   ///< SO_REUSEADDR on listeners: rebinding right after a restart works
  int backlog = 128;        ///< listen(2) backlog (capped by /proc/sys/net/core/somaxconn)
};

/// TCP listeners and connections over IPv4 and IPv6, by host and port.
class IPCKIT_API Tcp {
 public:
  /// Binds and listens on host:port ("" or "*" = every address of the family; port 0 = the kernel
  /// picks one: read it back with `listener.local_address()->port()`). Tries each resolved address in
  /// turn. Not blocking (except name resolution). Errors: getaddrinfo failures, EADDRINUSE, EACCES
  /// (ports below 1024 need CAP_NET_BIND_SERVICE).
  [[nodiscard]] static Result<StreamListener> listen(std::string_view host, std::uint16_t port,
                                                     const TcpOptions& options = {});

  /// Connects to host:port, trying each resolved address until one accepts. Blocks until connected
  /// or refused. Errors name the address: ECONNREFUSED, ETIMEDOUT, ENETUNREACH, getaddrinfo's.
  [[nodiscard]] static Result<StreamSocket> connect(std::string_view host, std::uint16_t port,
                                                    const TcpOptions& options = {});
  /// Like connect(), but gives up at \p deadline (no socket, kTimedOut): a non-blocking connect,
  /// poll, SO_ERROR.
  [[nodiscard]] static Result<Attempt<StreamSocket>> connect_until(std::string_view host, std::uint16_t port,
                                                                   Deadline deadline, const TcpOptions& options = {});
};

}  // namespace ipckit
