// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/deadline.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipckit/core/poll.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, NoDeadlineNeverPasses) {
  EXPECT_EQ(poll_timeout_ms(kNoDeadline), -1);
  EXPECT_EQ(deadline_after(std::chrono::hours(24 * 365 * 1000)), kNoDeadline);
  EXPECT_GT(remaining_timespec(kNoDeadline).tv_sec, 1'000'000);
}

TEST(Deadline, PollTimeoutRoundsUp) {
  const auto d = Clock::now() + 1500us;
  const int ms = poll_timeout_ms(d);
  EXPECT_GE(ms, 1);
  EXPECT_LE(ms, 2);
  EXPECT_EQ(poll_timeout_ms(Clock::now() - 1s), 0);
}

TEST(Deadline, ConversionsPointAtTheSameInstant) {
  const auto d = deadline_after(2s);
  const timespec rel = remaining_timespec(d);
  EXPECT_GE(rel.tv_sec, 1);
  EXPECT_LE(rel.tv_sec, 2);
  timespec now_rt{};
  ::clock_gettime(CLOCK_REALTIME, &now_rt);
  const timespec rt = to_realtime_timespec(d);
  EXPECT_GE(rt.tv_sec - now_rt.tv_sec, 1);
  EXPECT_LE(rt.tv_sec - now_rt.tv_sec, 2);
  const timespec mono = to_monotonic_timespec(d);
  timespec now_mono{};
  ::clock_gettime(CLOCK_MONOTONIC, &now_mono);
  EXPECT_GE(mono.tv_sec - now_mono.tv_sec, 1);
}

TEST(Poll, WaitReadableTimesOutThenSeesData) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus ready, wait_readable(r.get(), start + 20ms));
  EXPECT_EQ(ready, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 20ms);
  ASSERT_EQ(::write(w.get(), "x", 1), 1);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus ready2, wait_readable(r.get(), kNoDeadline));
  EXPECT_EQ(ready2, IoStatus::kOk);
}

TEST(Poll, BadFdIsReportedNotHidden) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(short revents, poll_one(1'000'000, POLLIN, deadline_after(10ms)));
  EXPECT_TRUE(revents & POLLNVAL);
}

}  // namespace
}  // namespace ipckit
