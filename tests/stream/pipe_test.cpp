// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/pipe.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

std::span<std::byte> bytes_of(std::string& s) { return as_writable_bytes(s); }

TEST(Pipe, RoundTripThenEndOfStreamAfterLastWriterCloses) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult w, p.writer.write_all("hello, pipe"));
  EXPECT_EQ(w.status, IoStatus::kOk);
  EXPECT_EQ(w.bytes, 11u);
  (void)p.writer.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string all, p.reader.read_to_end());
  EXPECT_EQ(all, "hello, pipe");
  std::string buf(4, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, p.reader.read_some(bytes_of(buf)));
  EXPECT_EQ(r.status, IoStatus::kEndOfStream);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(Pipe, EndsAreCloseOnExecAndNonBlocking) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  for (int fd : {p.reader.native_handle(), p.writer.native_handle()}) {
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  }
}

TEST(Pipe, WriteWithNoReaderIsPeerClosedNotSigpipeDeath) {
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_DFL);  // the default action kills: prove ipckit never lets it fire
    auto p = Pipe::create();
    if (!p) return 2;
    if (p->writer.skips_sigpipe_block()) return 3;
    (void)p->reader.close();
    auto w = p->writer.write_all("nobody reads this");
    if (!w || w->status != IoStatus::kPeerClosed || w->bytes != 0) return 4;
    auto t = p->writer.try_write("again");
    if (!t || t->status != IoStatus::kPeerClosed) return 5;
    sigset_t pending;
    ::sigpending(&pending);
    return sigismember(&pending, SIGPIPE) ? 6 : 0;  // the raised SIGPIPE was consumed
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

TEST(Pipe, IgnoredSigpipeIsDetectedOnceAndSkipsTheBlock) {
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_IGN);
    auto p = Pipe::create();
    if (!p || !p->writer.skips_sigpipe_block()) return 2;
    (void)p->reader.close();
    auto w = p->writer.write_all("x");
    if (!w || w->status != IoStatus::kPeerClosed) return 3;
    ::signal(SIGPIPE, SIG_DFL);
    p->writer.recheck_sigpipe();
    if (p->writer.skips_sigpipe_block()) return 4;
    auto again = p->writer.write_all("y");
    return (again && again->status == IoStatus::kPeerClosed) ? 0 : 5;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

TEST(Pipe, TryReadWouldBlockAndReadUntilTimesOut) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  std::string buf(8, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult t, p.reader.try_read(bytes_of(buf)));
  EXPECT_EQ(t.status, IoStatus::kWouldBlock);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, p.reader.read_some_until(bytes_of(buf), start + std::chrono::milliseconds(30)));
  EXPECT_EQ(r.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(30));
  // read_exact_until reports the partial count with the timeout.
  IPCKIT_ASSERT_OK(p.writer.write_all("abc"));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult e, p.reader.read_exact_until(bytes_of(buf), deadline_after(std::chrono::milliseconds(20))));
  EXPECT_EQ(e.status, IoStatus::kTimedOut);
  EXPECT_EQ(e.bytes, 3u);
  EXPECT_EQ(buf.substr(0, 3), "abc");
}

TEST(Pipe, TryWriteFillsTheCapacityThenWouldBlock) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t cap, p.writer.set_capacity(4096));
  EXPECT_EQ(cap, 4096u);
  std::string big(3 * cap, 'x');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult t, p.writer.try_write(big));
  EXPECT_EQ(t.status, IoStatus::kWouldBlock);
  EXPECT_EQ(t.bytes, cap);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult w, p.writer.write_all_until(big, start + std::chrono::milliseconds(30)));
  EXPECT_EQ(w.status, IoStatus::kTimedOut);
  EXPECT_EQ(w.bytes, 0u);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(30));
}

TEST(Pipe, CapacityCanBeReadAndRaised) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t before, p.reader.capacity());
  EXPECT_GE(before, 4096u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t set, p.writer.set_capacity(100000));  // rounded up to pages
  EXPECT_GE(set, 100000u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t after, p.reader.capacity());
  EXPECT_EQ(after, set);
  // Shrinking below the bytes held fails with EBUSY and says why.
  std::string data(8192, 'd');
  IPCKIT_ASSERT_OK(p.writer.write_all(data));
  EXPECT_TRUE(test::FailsWith(p.writer.set_capacity(4096), {"fcntl(F_SETPIPE_SZ)(\"pipe\")", "EBUSY", "less than the data"}));
}

TEST(Pipe, OversizedCapacityWithoutCapSysResourceNamesTheLimit) {
  std::ifstream in("/proc/sys/fs/pipe-max-size");
  std::size_t max_size = 0;
  ASSERT_TRUE(in >> max_size);
  auto child = test::run_in_child([max_size] {
    if (!test::drop_capability(CAP_SYS_RESOURCE)) return 2;
    auto p = Pipe::create();
    if (!p) return 3;
    auto r = p->writer.set_capacity(max_size * 2);
    const std::string expected_max = "(" + std::to_string(max_size) + ")";
    const auto check = test::FailsWith(r, {"fcntl(F_SETPIPE_SZ)(\"pipe\")", "EPERM", "/proc/sys/fs/pipe-max-size",
                                           expected_max, "CAP_SYS_RESOURCE"});
    if (!check) {
      std::fprintf(stderr, "%s\n", check.message());
      return 4;
    }
    return 0;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

// Records of 8..PIPE_BUF bytes from several writer processes: each is one write(), so the reader
// must see them whole, never interleaved, and each writer's in order.
TEST(Pipe, RecordsUpToPipeBufFromManyWritersNeverInterleave) {
  constexpr int kWriters = 4;
  const std::size_t per_writer = test::scaled(1500);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pids.push_back(test::spawn_child([&, w] {
      (void)p.reader.close();
      std::string rec;
      for (std::size_t i = 0; i < per_writer; ++i) {
        // [u16 length][u8 writer][u32 seq][fill with the writer id]; length varies 8..PIPE_BUF.
        const std::size_t len = 8 + (i * 977 + static_cast<std::size_t>(w) * 131) % (kPipeAtomicWrite - 7);
        rec.assign(len, static_cast<char>('A' + w));
        const auto l16 = static_cast<std::uint16_t>(len);
        const auto seq = static_cast<std::uint32_t>(i);
        std::memcpy(rec.data(), &l16, 2);
        rec[2] = static_cast<char>(w);
        std::memcpy(rec.data() + 3, &seq, 4);
        auto r = p.writer.write_all(rec);
        if (!r || r->status != IoStatus::kOk) return 2;
      }
      return 0;
    }));
  }
  (void)p.writer.close();
  std::vector<std::uint32_t> next(kWriters, 0);
  std::string rec;
  std::size_t total = 0;
  for (;;) {
    std::string head(2, '\0');
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult h, p.reader.read_exact(bytes_of(head)));
    if (h.status == IoStatus::kEndOfStream) {
      ASSERT_EQ(h.bytes, 0u) << "a torn record header";
      break;
    }
    std::uint16_t len = 0;
    std::memcpy(&len, head.data(), 2);
    ASSERT_GE(len, 8u);
    ASSERT_LE(len, kPipeAtomicWrite);
    rec.assign(len - 2u, '\0');
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult b, p.reader.read_exact(bytes_of(rec)));
    ASSERT_EQ(b.status, IoStatus::kOk);
    const int w = rec[0];
    ASSERT_GE(w, 0);
    ASSERT_LT(w, kWriters);
    std::uint32_t seq = 0;
    std::memcpy(&seq, rec.data() + 1, 4);
    ASSERT_EQ(seq, next[static_cast<std::size_t>(w)]) << "writer " << w << " out of order";
    ++next[static_cast<std::size_t>(w)];
    ASSERT_EQ(rec.find_first_not_of(static_cast<char>('A' + w), 5), std::string::npos)
        << "record of writer " << w << " holds another writer's bytes";
    ++total;
  }
  for (pid_t pid : pids) EXPECT_TRUE(test::wait_child(pid).ok());
  EXPECT_EQ(total, kWriters * per_writer);
}

TEST(Pipe, WriteAllLargerThanCapacityReachesAnotherProcessIntact) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  std::string data(test::scaled(4) << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 12));
  const pid_t pid = test::spawn_child([&] {
    (void)p.reader.close();
    auto r = p.writer.write_all(data);
    return (r && r->status == IoStatus::kOk && r->bytes == data.size()) ? 0 : 2;
  });
  (void)p.writer.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, p.reader.read_to_end());
  EXPECT_TRUE(test::wait_child(pid).ok());
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST(Pipe, PacketModeKeepsEveryWriteAsOneRead) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create({.packet = true}));
  EXPECT_NE(::fcntl(p.writer.native_handle(), F_GETFL) & O_DIRECT, 0);
  const std::vector<std::string> sent = {"a", "bc", std::string(kPipeAtomicWrite, 'x'), "def"};
  for (const auto& m : sent) IPCKIT_ASSERT_OK(p.writer.write_all(m));
  // A plain pipe would hand all of it to the first large read; packet mode returns one write each.
  for (const auto& m : sent) {
    std::string buf(2 * kPipeAtomicWrite, '\0');
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, p.reader.read_some(bytes_of(buf)));
    ASSERT_EQ(r.status, IoStatus::kOk);
    EXPECT_EQ(buf.substr(0, r.bytes), m);
  }
}

TEST(Pipe, PacketModeDiscardsWhatASmallReadLeaves) {
  // pipe(7): a read smaller than the packet gets its start; the rest of that packet is gone.
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create({.packet = true}));
  IPCKIT_ASSERT_OK(p.writer.write_all("0123456789"));
  IPCKIT_ASSERT_OK(p.writer.write_all("next"));
  std::string small(4, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult a, p.reader.read_some(bytes_of(small)));
  EXPECT_EQ(small.substr(0, a.bytes), "0123");
  std::string buf(kPipeAtomicWrite, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult b, p.reader.read_some(bytes_of(buf)));
  EXPECT_EQ(buf.substr(0, b.bytes), "next");
}

TEST(Pipe, PacketModeCutsWritesAbovePipeBuf) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create({.packet = true}));
  std::string big(kPipeAtomicWrite + 100, 'y');
  IPCKIT_ASSERT_OK(p.writer.write_all(big));
  std::string buf(2 * kPipeAtomicWrite, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult first, p.reader.read_some(bytes_of(buf)));
  EXPECT_EQ(first.bytes, kPipeAtomicWrite);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult second, p.reader.read_some(bytes_of(buf)));
  EXPECT_EQ(second.bytes, 100u);
}

TEST(Pipe, ReadToEndLimitIsAnErrorNamingThePipe) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK(p.writer.write_all("0123456789"));
  (void)p.writer.close();
  EXPECT_TRUE(test::FailsWith(p.reader.read_to_end(4), {"read(\"pipe\")", "too large", "4-byte limit"}));
}

}  // namespace
}  // namespace ipckit
