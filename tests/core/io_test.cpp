// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/sigpipe.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

// A fake descriptor: a byte source/sink whose syscalls fail with EINTR every other call and move
// at most 3 bytes at a time, to prove the loops finish partial transfers.
struct FakeFile {
  std::string data;
  std::size_t pos = 0;
  int calls = 0;
  int fail_errno = 0;  // returned once after the data runs out (0: EOF)
};
FakeFile* g_fake = nullptr;

ssize_t fake_read(int, void* buf, std::size_t n) {
  if (g_fake->calls++ % 2 == 0) {
    errno = EINTR;
    return -1;
  }
  if (g_fake->pos == g_fake->data.size()) {
    if (g_fake->fail_errno != 0) {
      errno = g_fake->fail_errno;
      return -1;
    }
    return 0;
  }
  const std::size_t k = std::min({n, std::size_t{3}, g_fake->data.size() - g_fake->pos});
  std::memcpy(buf, g_fake->data.data() + g_fake->pos, k);
  g_fake->pos += k;
  return static_cast<ssize_t>(k);
}

ssize_t fake_write(int, const void* buf, std::size_t n) {
  if (g_fake->calls++ % 2 == 0) {
    errno = EINTR;
    return -1;
  }
  if (g_fake->fail_errno != 0 && g_fake->data.size() >= 5) {
    errno = g_fake->fail_errno;
    return -1;
  }
  const std::size_t k = std::min(n, std::size_t{3});
  g_fake->data.append(static_cast<const char*>(buf), k);
  return static_cast<ssize_t>(k);
}

TEST(ReadFull, RetriesEintrAndFinishesShortReads) {
  FakeFile f{"hello, world", 0, 0, 0};
  g_fake = &f;
  std::string buf(12, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, read_full(3, as_writable_bytes(buf), fake_read));
  EXPECT_EQ(r.status, IoStatus::kOk);
  EXPECT_EQ(r.bytes, 12u);
  EXPECT_EQ(buf, "hello, world");
}

TEST(ReadFull, ReportsEndOfStreamWithCount) {
  FakeFile f{"abcde", 0, 0, 0};
  g_fake = &f;
  std::string buf(10, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, read_full(3, as_writable_bytes(buf), fake_read));
  EXPECT_EQ(r.status, IoStatus::kEndOfStream);
  EXPECT_EQ(r.bytes, 5u);
  EXPECT_EQ(buf.substr(0, 5), "abcde");
}

TEST(ReadFull, ErrorNamesCallAndObject) {
  FakeFile f{"ab", 0, 0, EIO};
  g_fake = &f;
  std::string buf(10, '\0');
  auto r = read_full(3, as_writable_bytes(buf), fake_read, "fifo \"/tmp/f\"");
  EXPECT_TRUE(test::FailsWith(r, {"read(fifo \"/tmp/f\"): EIO"}));
}

TEST(WriteFull, RetriesEintrAndFinishesShortWrites) {
  FakeFile f;
  g_fake = &f;
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, write_full(3, as_bytes("0123456789"), fake_write));
  EXPECT_EQ(r.status, IoStatus::kOk);
  EXPECT_EQ(r.bytes, 10u);
  EXPECT_EQ(f.data, "0123456789");
}

TEST(WriteFull, EpipeIsPeerClosedNotError) {
  FakeFile f{"", 0, 0, EPIPE};
  g_fake = &f;
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, write_full(3, as_bytes("0123456789"), fake_write));
  EXPECT_EQ(r.status, IoStatus::kPeerClosed);
  EXPECT_EQ(r.bytes, 6u);
}

// A descriptor whose write() accepts 4 bytes and then returns 0 (a device or a broken driver): the
// loop must stop with an error naming the fd, not spin forever.
int g_zero_write_calls = 0;
ssize_t write_then_zero(int, const void*, std::size_t n) {
  if (++g_zero_write_calls > 1000) return -1;  // the old loop would spin here: fail loudly instead
  return g_zero_write_calls == 1 ? static_cast<ssize_t>(std::min(n, std::size_t{4})) : 0;
}

TEST(WriteFull, ZeroReturningWriteIsAnErrorNamingTheFd) {
  g_zero_write_calls = 0;
  auto r = write_full(7, as_bytes("0123456789"), write_then_zero);
  EXPECT_TRUE(test::FailsWith(r, {"write(fd 7): truncated: write() returned 0 with 4 of 10 bytes written"}));
  EXPECT_EQ(g_zero_write_calls, 2);
}

TEST(WriteFull, RealPipeWithNoReaderDoesNotKillTheProcess) {
  // SIGPIPE keeps its default action (terminate) in a child; the write must still come back EPIPE.
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_DFL);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return 1;
    UniqueFd r(fds[0]), w(fds[1]);
    r.reset();
    SigpipeBlock guard;
    auto res = write_full(w.get(), as_bytes("data"));
    if (!res) return 2;
    return res->status == IoStatus::kPeerClosed ? 0 : 3;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

TEST(ReadSome, NonBlockingEmptyPipeWouldBlock) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  std::byte buf[8];
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult res, read_some(r.get(), buf));
  EXPECT_EQ(res.status, IoStatus::kWouldBlock);
  w.reset();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult eof, read_some(r.get(), buf));
  EXPECT_EQ(eof.status, IoStatus::kEndOfStream);
}

TEST(ReadFullUntil, TimesOutNoEarlierThanDeadline) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  std::byte buf[8];
  const auto start = Clock::now();
  const auto d = std::chrono::milliseconds(30);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult res, read_full_until(r.get(), buf, start + d));
  EXPECT_EQ(res.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, d);  // lower bound only
}

TEST(ReadAll, ReadsUntilEndOfStreamAcrossProcesses) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  const std::string payload(100'000, 'x');
  const pid_t pid = test::spawn_child([&] {
    r.reset();
    auto res = write_full(w.get(), as_bytes(payload));
    return res && res->ok() ? 0 : 1;
  });
  w.reset();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, read_all(r.get()));
  EXPECT_EQ(got, payload);
  EXPECT_TRUE(test::wait_child(pid).ok());
}

}  // namespace
}  // namespace ipckit
