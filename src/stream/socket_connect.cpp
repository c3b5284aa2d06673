// SPDX-License-Identifier: Apache-2.0
#include "socket_connect.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

#include "ipckit/core/poll.hpp"

namespace ipckit::detail {

std::string connect_hint(int err, bool is_unix) {
  switch (err) {
    case ECONNREFUSED:
      return is_unix ? "nobody is listening on this socket (a server that exited leaves its file behind)"
                     : "nobody is listening on this address and port";
    case ENOENT:
      return "no socket file at this path: start the server first, or check the path";
    case EACCES:
      return "permission denied: the socket file (0600 by default) or a directory on its path is not "
             "accessible to this user";
    case ETIMEDOUT:
      return "the peer did not answer (a firewall dropping packets, or a host that is down)";
    case ENETUNREACH:
    case EHOSTUNREACH:
      return "no route to this address";
    default:
      return {};
  }
}

Result<std::optional<UniqueFd>> connect_stream(const SocketAddress& addr, Deadline deadline,
                                               const std::string& object) {
  auto sock = make_socket(addr.family(), SOCK_STREAM, /*nonblocking=*/true, object);
  if (!sock) return fail(sock.error());
  const int fd = sock->get();
  const bool is_unix = addr.is_unix();
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    if (::connect(fd, addr.get(), addr.size()) == 0) break;
    int err = errno;
    if (err == EINTR || err == EINPROGRESS) {
      // The connection proceeds in the background: wait until it is writable, then ask how it ended.
      auto ready = poll_one(fd, POLLOUT, deadline);
      if (!ready) return fail(ready.error());
      if (*ready == 0) return std::optional<UniqueFd>();
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
        return last_errno().fail("getsockopt(SO_ERROR)", object);
      }
      if (so_error == 0) break;
      err = so_error;
    }
    if (is_unix && err == EAGAIN) {
      // AF_UNIX: the listener's backlog is full and nothing is in progress; poll() would not wait
      // (an unconnected socket is always writable), so retry after a short, growing pause.
      if (Clock::now() >= deadline) return std::optional<UniqueFd>();
      const auto pause = std::min<Clock::duration>(backoff, remaining(deadline));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(pause).count();
      const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
      ::nanosleep(&ts, nullptr);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
      continue;
    }
    return fail_errno(err, "connect", object, connect_hint(err, is_unix));
  }
  auto blocking = set_nonblocking(fd, false);
  if (!blocking) return fail(blocking.error());
  return std::optional<UniqueFd>(std::move(*sock));
}

}  // namespace ipckit::detail
