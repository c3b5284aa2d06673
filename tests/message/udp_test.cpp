// SPDX-License-Identifier: Apache-2.0
// UDP over IPv4 and IPv6 loopback: boundaries between two processes, truncation reported, the
// payload limit named, ICMP "port unreachable" as a value. Loss and reordering are possible by
// design (docs/udp.md); on loopback with a small count and a reply per datagram none is expected,
// and a lost datagram would show up as a timeout, not a hang.
#include "ipckit/message/udp.hpp"

#include <array>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

bool have_ipv6_loopback() {
  auto s = Udp::bind("::1", 0, AF_INET6);
  return s.has_value();
}

void ping_pong(const char* host, int family) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket server, Udp::bind(host, 0, family));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress local, server.local_address());
  const std::uint16_t port = local.port();
  ASSERT_NE(port, 0);
  const std::size_t count = test::scaled(100);
  const pid_t child = test::spawn_child([&]() -> int {
    auto c = Udp::connect(host, port, family);
    if (!c) return 1;
    std::array<std::byte, 64> buf{};
    for (std::size_t i = 0; i < count; ++i) {
      if (!c->send(as_bytes("d" + std::to_string(i)))) return 2;
      auto d = c->receive_until(buf, deadline_after(10s));
      if (!d || d->status != IoStatus::kOk) return 3;
      if (std::string(reinterpret_cast<const char*>(buf.data()), d->bytes) != "r" + std::to_string(i)) return 4;
    }
    return 0;
  });
  std::array<std::byte, 64> buf{};
  for (std::size_t i = 0; i < count; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, server.receive_until(buf, deadline_after(10s)));
    ASSERT_EQ(d.status, IoStatus::kOk) << "datagram " << i << " lost";
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), d.bytes), "d" + std::to_string(i));
    EXPECT_EQ(d.from.family(), family);
    IPCKIT_ASSERT_OK(server.send_to(d.from, as_bytes("r" + std::to_string(i))));
  }
  EXPECT_TRUE(test::wait_child(child).ok());
}

TEST(Udp, TwoProcessesIPv4) { ping_pong("127.0.0.1", AF_INET); }

TEST(Udp, TwoProcessesIPv6) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  ping_pong("::1", AF_INET6);
}

TEST(Udp, TruncationReportedAndLimitNamed) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket server, Udp::bind("127.0.0.1", 0, AF_INET));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress local, server.local_address());
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket client, Udp::connect("127.0.0.1", local.port(), AF_INET));
  IPCKIT_ASSERT_OK(client.send(as_bytes(std::string(1000, 'u'))));
  IPCKIT_ASSERT_OK(client.send(as_bytes("short")));
  std::array<std::byte, 10> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, server.receive_until(buf, deadline_after(10s)));
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.full_size, 1000u);
  EXPECT_EQ(d.bytes, 10u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d2, server.receive_until(buf, deadline_after(10s)));
  EXPECT_FALSE(d2.truncated);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), d2.bytes), "short");
  const std::string object = "send(\"127.0.0.1:" + std::to_string(local.port()) + "\")";
  EXPECT_TRUE(test::FailsWith(client.send(as_bytes(std::string(65508, 'x'))),
                              {object, "EMSGSIZE", "message of 65508 bytes is too long: a UDP datagram over IPv4 "
                                                   "carries at most 65507 bytes"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram none, server.try_receive(buf));
  EXPECT_EQ(none.status, IoStatus::kWouldBlock);
}

TEST(Udp, PortUnreachableIsAValue) {
  // Bind and close a socket to find a port nobody listens on.
  std::uint16_t port = 0;
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket tmp, Udp::bind("127.0.0.1", 0, AF_INET));
    IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, tmp.local_address());
    port = a.port();
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket c, Udp::connect("127.0.0.1", port, AF_INET));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus first, c.send(as_bytes("hello?")));
  EXPECT_EQ(first, IoStatus::kOk);  // UDP cannot know yet
  std::array<std::byte, 8> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, c.receive_until(buf, deadline_after(5s)));
  EXPECT_EQ(d.status, IoStatus::kPeerClosed);  // the ICMP error, reported on the next call
}

}  // namespace
}  // namespace ipckit
