// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// In-process thread tests for SIGEV_THREAD notification: the callback runs on glibc's notification
// thread while this thread re-registers, cancels and closes. Not in the TSan pass: glibc starts its
// mq_notify helper thread with its internal pthread_create, which TSan does not intercept, so the
// first allocation on that thread crashes inside TSan's allocator (seen with g++ 12 / glibc 2.36).
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(PosixMqThread, RearmDrainLoopSeesEveryMessage) {
  const std::string name = test::unique_name();
  MqOptions o;
  o.open = OpenMode::kCreateExclusive;
  o.attributes = {4, 16};
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, o));
  UniqueFd ev(::eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(ev.valid());
  const int evfd = ev.get();
  std::atomic<int> fired{0};
  auto callback = [evfd, &fired] {
    fired.fetch_add(1, std::memory_order_relaxed);  // read after the eventfd handshake below
    const std::uint64_t one = 1;
    (void)!::write(evfd, &one, sizeof one);
  };
  const std::size_t rounds = test::scaled(50);
  for (std::size_t i = 0; i < rounds; ++i) {
    // The documented pattern: register, then send to the empty queue, wait, drain.
    IPCKIT_ASSERT_OK(q.notify_thread(callback));
    IPCKIT_ASSERT_OK(q.send(as_bytes(std::to_string(i))));
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus ready, wait_readable(evfd, deadline_after(10s)));
    ASSERT_EQ(ready, IoStatus::kOk) << "round " << i;
    std::uint64_t n = 0;
    ASSERT_EQ(::read(evfd, &n, sizeof n), static_cast<ssize_t>(sizeof n));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, q.try_receive());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->data, std::to_string(i));
  }
  EXPECT_EQ(fired.load(std::memory_order_relaxed), static_cast<int>(rounds));
  // Registered and closed without firing: the callback must never run (and nothing leaks).
  IPCKIT_ASSERT_OK(q.notify_thread(callback));
  IPCKIT_ASSERT_OK(q.close());
  IPCKIT_ASSERT_OK(PosixMq::unlink(name));
  EXPECT_EQ(fired.load(std::memory_order_relaxed), static_cast<int>(rounds));
}

}  // namespace
}  // namespace ipckit
