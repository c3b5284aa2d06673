// SPDX-License-Identifier: Apache-2.0
#include <poll.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/futex.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Futex, WakesAWaiterInAnotherProcess) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  // Plain words in shared memory, reached through atomic_ref (no std::atomic object in the layout).
  auto* words = static_cast<std::uint32_t*>(m.data());
  std::uint32_t& turn = words[0];  // 0: parent's turn, 1: child's
  const std::size_t rounds = test::scaled(2000);
  const pid_t pid = test::spawn_child([&] {
    std::atomic_ref<std::uint32_t> t(turn);
    for (std::size_t i = 0; i < rounds; ++i) {
      // acquire pairs with the parent's release store of 1
      while (t.load(std::memory_order_acquire) != 1) {
        auto w = futex_wait_for(turn, 0, 10s);
        if (!w || *w == FutexWait::kTimedOut) return 2;
      }
      t.store(0, std::memory_order_release);  // pairs with the parent's acquire load
      if (!futex_wake(turn)) return 3;
    }
    return 0;
  });
  std::atomic_ref<std::uint32_t> t(turn);
  for (std::size_t i = 0; i < rounds; ++i) {
    t.store(1, std::memory_order_release);  // pairs with the child's acquire load
    IPCKIT_ASSERT_OK(futex_wake(turn));
    while (t.load(std::memory_order_acquire) != 0) {  // pairs with the child's release store of 0
      IPCKIT_ASSERT_OK_AND_ASSIGN(FutexWait w, futex_wait_for(turn, 1, 10s));
      ASSERT_NE(w, FutexWait::kTimedOut) << "round " << i;
    }
  }
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Futex, MismatchReturnsAtOnceAndTimeoutIsALowerBound) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  auto& word = *static_cast<std::uint32_t*>(m.data());
  std::atomic_ref<std::uint32_t>(word).store(5);
  IPCKIT_ASSERT_OK_AND_ASSIGN(FutexWait w, futex_wait(word, 4, deadline_after(10s)));
  EXPECT_EQ(w, FutexWait::kValueMismatch);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(w, futex_wait_for(word, 5, 30ms));
  EXPECT_EQ(w, FutexWait::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(int woken, futex_wake_all(word));
  EXPECT_EQ(woken, 0);
}

TEST(EventFd, CounterModeSumsAndSemaphoreModeCounts) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(EventFd counter, EventFd::create());
  IPCKIT_ASSERT_OK(counter.write(3));
  IPCKIT_ASSERT_OK(counter.write(4));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, counter.try_read());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 7u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(v, counter.try_read());
  EXPECT_FALSE(v.has_value()) << "counter mode resets to 0 on read";
  EXPECT_EQ(v.status, IoStatus::kWouldBlock);

  IPCKIT_ASSERT_OK_AND_ASSIGN(EventFd sem, EventFd::create(2, EventFdMode::kSemaphore));
  IPCKIT_ASSERT_OK(sem.write(1));
  for (int i = 0; i < 3; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(v, sem.try_read());
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 1u);
  }
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(v, sem.read_for(30ms));
  EXPECT_FALSE(v.has_value());
  EXPECT_EQ(v.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);

  // Overflow: a write that would pass the maximum does not fit now.
  IPCKIT_ASSERT_OK(counter.write(EventFd::kMaxCount));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus fit, counter.try_write(1));
  EXPECT_EQ(fit, IoStatus::kWouldBlock);
  EXPECT_TRUE(test::FailsWith(counter.try_write(0), {"invalid argument", "1.."}));
}

TEST(EventFd, WakesAnEpollWaiterInAnotherProcess) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(EventFd ev, EventFd::create(0, EventFdMode::kSemaphore));
  IPCKIT_ASSERT_OK_AND_ASSIGN(EventFd done, EventFd::create());
  const std::size_t n = test::scaled(200);
  const pid_t pid = test::spawn_child([&] {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event e{};
    e.events = EPOLLIN;
    if (!ep || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.native_handle(), &e) != 0) return 2;
    std::size_t got = 0;
    while (got < n) {
      epoll_event out{};
      const int k = ::epoll_wait(ep.get(), &out, 1, 10'000);
      if (k < 0 && errno == EINTR) continue;
      if (k != 1) return 3;
      // Level-triggered: drain with try_read until would-block.
      for (;;) {
        auto r = ev.try_read();
        if (!r) return 4;
        if (!r->has_value()) break;
        ++got;
      }
    }
    return done.write(got) ? 0 : 5;
  });
  for (std::size_t i = 0; i < n; ++i) IPCKIT_ASSERT_OK(ev.write(1));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto total, done.read_for(10s));
  ASSERT_TRUE(total.has_value());
  EXPECT_EQ(*total, n);
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace ipckit
