// SPDX-License-Identifier: Apache-2.0
// Shared by unix_stream.cpp and tcp.cpp: connect with a deadline.
#pragma once

#include <optional>
#include <string>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::detail {

// Makes a stream socket of addr's family and connects it: non-blocking connect, then poll for
// POLLOUT and read SO_ERROR (TCP's EINPROGRESS); AF_UNIX's EAGAIN (listener backlog full) is retried
// with a short backoff. Returns a *blocking* connected socket, nullopt when the deadline passed, or
// an Error "connect(OBJECT): ERRNO: hint".
[[nodiscard]] Result<std::optional<UniqueFd>> connect_stream(const SocketAddress& addr, Deadline deadline,
                                                             const std::string& object);

// Text for a socket type's "what to do" when a connect fails.
std::string connect_hint(int err, bool is_unix);

}  // namespace ipckit::detail
