// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/udp.hpp"

#include <cerrno>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"

namespace ipckit {
namespace {

std::string text_of(std::string_view host, std::uint16_t port) {
  return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port)
                                                  : fmt::format("{}:{}", host, port);
}

Result<DatagramSocket> open_udp(std::string_view host, std::uint16_t port, int family, bool passive) {
  auto addrs = SocketAddress::resolve(host, port, family, SOCK_DGRAM, passive);
  if (!addrs) return fail(std::move(addrs.error()));
  const std::string text = text_of(host, port);
  const SocketAddress& addr = addrs->front();  // resolve() fails rather than return an empty list
  auto fd = make_socket(addr.family(), SOCK_DGRAM, false, text);
  if (!fd) return fail(std::move(fd.error()));
  if (passive) {
    if (::bind(fd->get(), addr.get(), addr.size()) != 0) {
      const int err = errno;
      if (err == EADDRINUSE) {
        return fail_errno(err, "bind", ipckit::quoted(text), "another socket holds this port (pick another, or port 0)");
      }
      return fail_errno(err, "bind", ipckit::quoted(text));
    }
  } else {
    // A datagram connect only records the peer: it completes at once, so EINTR is simply retried.
    if (no_eintr(::connect, fd->get(), addr.get(), addr.size()) != 0) {
      return last_errno().fail("connect", ipckit::quoted(text));
    }
  }
  return DatagramSocket(std::move(*fd), text);
}

}  // namespace

Result<DatagramSocket> Udp::bind(std::string_view host, std::uint16_t port, int family) {
  return open_udp(host, port, family, true);
}
Result<DatagramSocket> Udp::connect(std::string_view host, std::uint16_t port, int family) {
  return open_udp(host, port, family, false);
}

}  // namespace ipckit
