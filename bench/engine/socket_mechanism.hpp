// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the socket drivers (unix-*, tcp, tcp6, udp).
#pragma once

#include <optional>
#include <string>

#include "engine/fd_session.hpp"

namespace ipckit::bench {

// A fresh abstract UNIX address ("@ipckit.bench.<pid>.<n>"): no file to remove, ever.
[[nodiscard]] Result<SocketAddress> fresh_abstract_address();
// Loopback address of `family` with port 0 (the kernel picks a free port).
[[nodiscard]] Result<SocketAddress> loopback(int family, int socktype);
// Whether a `size`-byte message fits one AF_UNIX datagram/seqpacket message with the largest send
// buffer the system allows; if not, the limit's text ("wmem_max=212992").
[[nodiscard]] std::optional<std::string> unix_message_limit(int type, std::size_t size);
// Whether `family` sockets work on loopback here (IPv6 may be disabled).
[[nodiscard]] Availability loopback_available(int family);

}  // namespace ipckit::bench
