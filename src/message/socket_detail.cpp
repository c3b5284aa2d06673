// SPDX-License-Identifier: Apache-2.0
#include "socket_detail.hpp"

#include <sys/socket.h>

#include <fstream>

#include <fmt/format.h>

#include "detail/proc_value.hpp"

namespace ipckit::detail {
namespace {

int int_option(int fd, int level, int name) noexcept {
  int value = -1;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value;
}

}  // namespace

int socket_type(int fd) noexcept { return int_option(fd, SOL_SOCKET, SO_TYPE); }

std::string emsgsize_hint(int fd, std::size_t size) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int family = ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? ss.ss_family : AF_UNSPEC;
  if (family == AF_INET || family == AF_INET6) {
    // IP's 16-bit length field, less the IP and UDP headers (IPv6: the 40-byte header is not counted).
    const long limit = family == AF_INET ? 65507 : 65527;
    return fmt::format("message of {} bytes is too long: a UDP datagram over {} carries at most {} bytes", size,
                       family == AF_INET ? "IPv4" : "IPv6", limit);
  }
  const int sndbuf = int_option(fd, SOL_SOCKET, SO_SNDBUF);
  return fmt::format("message of {} bytes is too long for SO_SNDBUF ({} bytes) of this socket; raise it with "
                     "setsockopt(SO_SNDBUF) (capped by /proc/sys/net/core/wmem_max = {})",
                     size, sndbuf, detail::read_proc_long("/proc/sys/net/core/wmem_max"));
}

}  // namespace ipckit::detail
