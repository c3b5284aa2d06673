// SPDX-License-Identifier: Apache-2.0
// UDP sockets over IPv4 and IPv6.
//
// UDP keeps message boundaries but promises nothing else: datagrams may be lost (a full receive
// buffer drops them silently, even on loopback), duplicated or reordered. ipckit does not hide that:
// it reports what arrived, and truncation (a datagram longer than the buffer) in Datagram::truncated.
// The largest payload is 65507 bytes over IPv4 and 65527 over IPv6 (EMSGSIZE names it); datagrams
// above the path MTU are fragmented, and one lost fragment loses the whole datagram.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "ipckit/message/datagram_socket.hpp"

namespace ipckit {

/// Factories for UDP sockets over IPv4 and IPv6. UDP keeps message boundaries but promises nothing
/// else: datagrams may be lost, duplicated or reordered (even on loopback). The largest payload is
/// 65507 bytes over IPv4 and 65527 over IPv6 (EMSGSIZE names it).
struct IPCKIT_API Udp {
  /// A socket bound to host:port ("" or "*" = any address; port 0 = the kernel picks one: read it
  /// with local_address()). \p family AF_INET, AF_INET6 or AF_UNSPEC (the resolver's first answer).
  [[nodiscard]] static Result<DatagramSocket> bind(std::string_view host, std::uint16_t port,
                                                   int family = AF_UNSPEC);
  /// A socket connected to host:port: send() goes there, receive() accepts only its datagrams, and an
  /// ICMP "port unreachable" for an earlier datagram makes a later send/receive report kPeerClosed.
  [[nodiscard]] static Result<DatagramSocket> connect(std::string_view host, std::uint16_t port,
                                                      int family = AF_UNSPEC);
};

}  // namespace ipckit
