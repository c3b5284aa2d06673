// SPDX-License-Identifier: Apache-2.0
// UNIX datagram and seqpacket sockets: boundaries, path and abstract names, connected and
// unconnected, truncation reported, buffer sizes and EMSGSIZE naming SO_SNDBUF, two processes.
#include "ipckit/message/unix_datagram.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::string text(std::span<const std::byte> buf, const Datagram& d) {
  return std::string(reinterpret_cast<const char*>(buf.data()), d.bytes);
}

// A bound server in this process, a client in a child that sends to it and reads the replies.
void two_process_exchange(const std::string& server_addr, const std::string& client_addr) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket server, UnixDatagram::bind(server_addr));
  const std::size_t count = test::scaled(100);
  const pid_t child = test::spawn_child([&]() -> int {
    auto c = UnixDatagram::connect(server_addr, client_addr);
    if (!c) return 1;
    std::array<std::byte, 64> buf{};
    for (std::size_t i = 0; i < count; ++i) {
      const std::string msg = "ping " + std::to_string(i);
      if (!c->send(as_bytes(msg)) ) return 2;
      auto d = c->receive(buf);
      if (!d || d->status != IoStatus::kOk) return 3;
      if (std::string(reinterpret_cast<const char*>(buf.data()), d->bytes) != "pong " + std::to_string(i)) return 4;
    }
    return 0;
  });
  std::array<std::byte, 64> buf{};
  for (std::size_t i = 0; i < count; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, server.receive(buf));
    ASSERT_EQ(text(buf, d), "ping " + std::to_string(i));  // one message per receive: boundaries kept
    EXPECT_EQ(d.from.to_string(), client_addr);
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, server.send_to(d.from, as_bytes("pong " + std::to_string(i))));
    ASSERT_EQ(s, IoStatus::kOk);
  }
  EXPECT_TRUE(test::wait_child(child).ok());
}

TEST(UnixDatagram, TwoProcessesOverPaths) {
  test::TempDir dir;
  two_process_exchange(dir.file("server.sock"), dir.file("client.sock"));
}

TEST(UnixDatagram, TwoProcessesOverAbstractNames) {
  two_process_exchange(test::unique_abstract_name(), test::unique_abstract_name());
}

TEST(UnixDatagram, BoundariesKeptAndTruncationReported) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kDatagram));
  auto& [a, b] = pair;
  IPCKIT_ASSERT_OK(a.send(as_bytes("one")));
  IPCKIT_ASSERT_OK(a.send(as_bytes("")));
  IPCKIT_ASSERT_OK(a.send(as_bytes("three33")));
  IPCKIT_ASSERT_OK(a.send(as_bytes(std::string(300, 'L'))));
  std::array<std::byte, 100> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t next, b.next_size());
  EXPECT_EQ(next, 3u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d1, b.receive(buf));
  EXPECT_EQ(text(buf, d1), "one");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d2, b.receive(buf));
  EXPECT_EQ(d2.status, IoStatus::kOk);  // an empty datagram is a message, not end of stream
  EXPECT_EQ(d2.bytes, 0u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d3, b.receive(buf));
  EXPECT_EQ(text(buf, d3), "three33");
  EXPECT_FALSE(d3.truncated);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d4, b.receive(buf));
  EXPECT_TRUE(d4.truncated);
  EXPECT_EQ(d4.bytes, 100u);
  EXPECT_EQ(d4.full_size, 300u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram none, b.try_receive(buf));
  EXPECT_EQ(none.status, IoStatus::kWouldBlock);  // the tail of the long one is gone, not queued
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram late, b.receive_until(buf, deadline_after(30ms)));
  EXPECT_EQ(late.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
}

TEST(UnixDatagram, TooLongNamesSndbufAndBuffersAreSettable) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kDatagram));
  auto& [a, b] = pair;
  IPCKIT_ASSERT_OK(a.set_send_buffer_size(8192));
  IPCKIT_ASSERT_OK_AND_ASSIGN(int snd, a.send_buffer_size());
  EXPECT_EQ(snd, 16384);  // the kernel doubles what is asked for
  IPCKIT_ASSERT_OK(b.set_receive_buffer_size(8192));
  IPCKIT_ASSERT_OK_AND_ASSIGN(int rcv, b.receive_buffer_size());
  EXPECT_EQ(rcv, 16384);
  EXPECT_TRUE(test::FailsWith(a.send(as_bytes(std::string(20000, 'x'))),
                              {"send(\"socketpair[0]\"): EMSGSIZE: message of 20000 bytes is too long for SO_SNDBUF "
                               "(16384 bytes)",
                               "/proc/sys/net/core/wmem_max"}));
}

TEST(UnixDatagram, FullReceiverMakesSenderWaitNotLose) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kDatagram));
  auto& [a, b] = pair;
  std::size_t sent = 0;
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, a.try_send(as_bytes(std::string(1000, 'q'))));
    if (s == IoStatus::kWouldBlock) break;
    ASSERT_EQ(s, IoStatus::kOk);
    ++sent;
  }
  EXPECT_GT(sent, 0u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus late, a.send_until(as_bytes("x"), deadline_after(20ms)));
  EXPECT_EQ(late, IoStatus::kTimedOut);
  std::array<std::byte, 1000> buf{};
  for (std::size_t i = 0; i < sent; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, b.try_receive(buf));
    ASSERT_EQ(d.status, IoStatus::kOk) << i;
  }
}

TEST(UnixDatagram, BindErrorsNameTheAddress) {
  test::TempDir dir;
  const std::string path = dir.file("s.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket s, UnixDatagram::bind(path));
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // A live socket's file is refused, naming it live (never "remove it").
  EXPECT_TRUE(test::FailsWith(UnixDatagram::bind(path), {"bind(\"" + path + "\"): EADDRINUSE", "a live server"}));
  IPCKIT_ASSERT_OK(s.close());
  IPCKIT_ASSERT_OK(unlink_socket(path));
  EXPECT_TRUE(test::FailsWith(UnixDatagram::connect(path), {"connect(\"" + path + "\"): ENOENT"}));
  EXPECT_TRUE(test::FailsWith(UnixDatagram::bind("/" + std::string(200, 'p')), {"sockaddr_un(", "at most 107"}));
}

TEST(UnixSeqPacket, ListenerAndChildClientKeepBoundariesAndSeeEnd) {
  const std::string addr = test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(SeqPacketListener l, SeqPacketListener::listen(addr));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Attempt<DatagramSocket> none, l.try_accept());
  EXPECT_FALSE(none);
  EXPECT_EQ(none.status, IoStatus::kWouldBlock);
  const pid_t child = test::spawn_child([&]() -> int {
    auto c = UnixDatagram::connect_seqpacket(addr);
    if (!c) return 1;
    for (const char* m : {"alpha", "be", "gamma-gamma"}) {
      auto s = c->send(as_bytes(m));
      if (!s || *s != IoStatus::kOk) return 2;
    }
    std::array<std::byte, 16> buf{};
    auto d = c->receive(buf);  // wait for the server's answer before closing
    return d && d->status == IoStatus::kOk && d->bytes == 2 ? 0 : 3;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(Attempt<DatagramSocket> accepted, l.accept_until(deadline_after(10s)));
  ASSERT_TRUE(accepted);
  DatagramSocket conn = *std::move(accepted);
  ASSERT_TRUE(conn.valid());
  std::array<std::byte, 8> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d1, conn.receive(buf));
  EXPECT_EQ(text(buf, d1), "alpha");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d2, conn.receive(buf));
  EXPECT_EQ(text(buf, d2), "be");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d3, conn.receive(buf));
  EXPECT_TRUE(d3.truncated);
  EXPECT_EQ(d3.full_size, 11u);
  EXPECT_EQ(text(buf, d3), "gamma-ga");
  IPCKIT_ASSERT_OK(conn.send(as_bytes("ok")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram end, conn.receive(buf));
  EXPECT_EQ(end.status, IoStatus::kEndOfStream);
  EXPECT_TRUE(test::wait_child(child).ok());
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, conn.send(as_bytes("anyone?")));
  EXPECT_EQ(s, IoStatus::kPeerClosed);  // EPIPE as a value, no SIGPIPE
}

TEST(UnixSeqPacket, PathListenerAndAcceptDeadline) {
  test::TempDir dir;
  const std::string addr = dir.file("seq.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(SeqPacketListener l, SeqPacketListener::listen(addr));
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(Attempt<DatagramSocket> late, l.accept_until(deadline_after(30ms)));
  EXPECT_FALSE(late);
  EXPECT_EQ(late.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket c, UnixDatagram::connect_seqpacket(addr));
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket s, l.accept());
  IPCKIT_ASSERT_OK(c.send(as_bytes("hi")));
  std::array<std::byte, 8> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, s.receive(buf));
  EXPECT_EQ(text(buf, d), "hi");
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(::fcntl(s.native_handle(), F_GETFL) & O_NONBLOCK, 0);
  IPCKIT_ASSERT_OK(unlink_socket(addr));
}

}  // namespace
}  // namespace ipckit
