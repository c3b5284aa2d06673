// SPDX-License-Identifier: Apache-2.0
// Private helpers for the message layer's sockets.
#pragma once

#include <cstddef>
#include <string>

namespace ipckit::detail {

// The hint for EMSGSIZE on a socket: names SO_SNDBUF and its value (UNIX sockets) or the
// protocol's datagram limit (UDP), and where to raise it.
std::string emsgsize_hint(int fd, std::size_t size);

// SO_TYPE of a socket (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET), or -1.
int socket_type(int fd) noexcept;

}  // namespace ipckit::detail
