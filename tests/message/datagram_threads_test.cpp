// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// Several threads on one socket (also run under TSan): each message is atomic, none is lost or torn,
// and descriptors passed from several threads at once all arrive.
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "ipckit/message/unix_datagram.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(DatagramThreads, ConcurrentSendersOnOneSeqpacketSocket) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kSeqPacket));
  DatagramSocket& tx = pair.first;
  DatagramSocket& rx = pair.second;
  const int senders = 3;
  const std::size_t per = test::scaled(500);
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&tx, t, per] {
      for (std::size_t i = 0; i < per; ++i) {
        const std::string msg = std::to_string(t) + ":" + std::to_string(i) + ":" + std::string(i % 50, 'p');
        auto s = tx.send(as_bytes(msg));  // blocks while the receiver is behind
        ASSERT_TRUE(s && *s == IoStatus::kOk);
      }
    });
  }
  std::vector<std::size_t> next(senders, 0);
  std::array<std::byte, 128> buf{};
  for (std::size_t n = 0; n < senders * per; ++n) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Datagram d, rx.receive(buf));
    ASSERT_EQ(d.status, IoStatus::kOk);
    const std::string msg(reinterpret_cast<const char*>(buf.data()), d.bytes);
    const int t = std::stoi(msg);
    const std::size_t i = std::stoul(msg.substr(msg.find(':') + 1));
    ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "per-sender order";
    ASSERT_EQ(msg, std::to_string(t) + ":" + std::to_string(i) + ":" + std::string(i % 50, 'p')) << "torn";
    ++next[static_cast<std::size_t>(t)];
  }
  for (auto& th : threads) th.join();
}

TEST(DatagramThreads, ConcurrentFdPassing) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  const std::size_t per = test::scaled(200);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&a, per] {
      for (std::size_t i = 0; i < per; ++i) {
        const int fds[] = {a.get(), a.get()};
        auto s = send_fds(a.get(), as_bytes("fds"), fds);
        ASSERT_TRUE(s && *s == IoStatus::kOk);
      }
    });
  }
  std::array<std::byte, 8> buf{};
  for (std::size_t n = 0; n < 2 * per; ++n) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(b.get(), buf));
    ASSERT_EQ(m.fds.size(), 2u);
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace ipckit
