// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// In-process (thread) use of the byte streams, also run under ThreadSanitizer: one reader and one
// writer thread per stream, a listener accepting while another thread connects.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/tcp.hpp"
#include "ipckit/stream/unix_stream.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(StreamThreads, PipeWriterAndReaderThreadsMoveEveryByte) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  const std::size_t n = test::scaled(2000);
  std::thread writer([&] {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string rec = std::to_string(i) + "\n";
      ASSERT_TRUE(p.writer.write_all(rec).has_value());
    }
    (void)p.writer.close();
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string all, p.reader.read_to_end());
  writer.join();
  std::string expected;
  for (std::size_t i = 0; i < n; ++i) expected += std::to_string(i) + "\n";
  EXPECT_TRUE(all == expected);
}

TEST(StreamThreads, SocketPairPingPongBetweenThreads) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixStream::pair());
  const std::size_t rounds = test::scaled(1000);
  std::thread echo([&] {
    std::string buf(8, '\0');
    for (;;) {
      auto r = pair.second.read_exact(as_writable_bytes(buf));
      if (!r || r->status != IoStatus::kOk) return;
      if (!pair.second.write_all(buf)) return;
    }
  });
  std::string msg(8, '\0');
  std::string back(8, '\0');
  for (std::size_t i = 0; i < rounds; ++i) {
    std::snprintf(msg.data(), msg.size() + 1, "%08zu", i % 100000000);
    IPCKIT_ASSERT_OK(pair.first.write_all(msg));
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, pair.first.read_exact(as_writable_bytes(back)));
    ASSERT_EQ(r.status, IoStatus::kOk);
    ASSERT_EQ(back, msg);
  }
  IPCKIT_ASSERT_OK(pair.first.shutdown(ShutdownHow::kWrite));
  echo.join();
}

TEST(StreamThreads, TcpAcceptInOneThreadConnectInAnother) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, Tcp::listen("127.0.0.1", 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  std::thread client([port = a.port()] {
    auto s = Tcp::connect("127.0.0.1", port);
    ASSERT_TRUE(s.has_value()) << s.error().str();
    ASSERT_TRUE(s->write_all("from a thread").has_value());
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, l.accept_until(deadline_after(std::chrono::seconds(10))));
  ASSERT_TRUE(c.has_value());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, c->read_to_end());
  client.join();
  EXPECT_EQ(got, "from a thread");
}

}  // namespace
}  // namespace ipckit
