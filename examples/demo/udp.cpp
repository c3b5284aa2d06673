// SPDX-License-Identifier: Apache-2.0
// UDP: datagrams keep their boundaries (each receive returns one whole datagram) but nothing else is
// promised: no connection, no end of stream, and datagrams may be lost, duplicated or reordered. A
// server on a kernel-chosen loopback port answers a client process; a datagram longer than the
// receive buffer is truncated, and the receiver is told so.
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/message/udp.hpp"
#include "narrate.hpp"

namespace {

std::string text_of(const std::array<std::byte, 16>& buf, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto server = ipckit::Udp::bind("127.0.0.1", 0, AF_INET);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().str().c_str());
    return 1;
  }
  const std::uint16_t port = ipckit::or_throw(server->local_address()).port();
  std::printf("[server] bound %s (UDP): no listen, no accept\n", server->local_address()->to_string().c_str());

  const pid_t pid = demo::fork_child([&]() -> int {
    auto client = ipckit::Udp::connect("127.0.0.1", port, AF_INET);  // fixes the peer: send() goes there
    if (!client) return 1;
    for (const char* d : {"one", "two two", "a datagram longer than sixteen bytes"}) {
      auto st = client->send(ipckit::as_bytes(std::string(d)));
      if (!st) return 2;
      std::printf("[client %d] sent one datagram of %zu bytes\n", demo::me(), std::string(d).size());
    }
    std::array<std::byte, 16> buf{};
    auto reply = client->receive_until(buf, ipckit::deadline_after(std::chrono::seconds(5)));
    if (!reply || reply->status != ipckit::IoStatus::kOk) {
      std::printf("[client %d] no reply within 5 s: UDP cannot tell lost from never sent\n", demo::me());
      return 3;
    }
    std::printf("[client %d] reply: \"%s\"\n", demo::me(), text_of(buf, reply->bytes).c_str());
    return 0;
  });

  std::array<std::byte, 16> buf{};  // deliberately small: the third datagram does not fit
  bool ok = pid > 0;
  ipckit::SocketAddress from;
  for (int i = 0; ok && i < 3; ++i) {
    auto d = server->receive_until(buf, ipckit::deadline_after(std::chrono::seconds(5)));
    if (!d || d->status != ipckit::IoStatus::kOk) {
      std::fprintf(stderr, "[server] datagram %d did not arrive\n", i + 1);
      ok = false;
      break;
    }
    from = d->from;
    std::printf("[server] datagram %d from %s: \"%s\" (%zu bytes%s)\n", i + 1, d->from.to_string().c_str(),
                text_of(buf, d->bytes).c_str(), d->full_size,
                d->truncated ? "; truncated to the 16-byte buffer, the rest is gone" : ", whole");
  }
  if (ok) ok = server->send_to(from, ipckit::as_bytes(std::string("got 3"))).has_value();
  return demo::child_ok(pid) && ok ? 0 : 1;
}
