// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// In-process thread tests of the sync primitives (no fork), also run under ThreadSanitizer.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/futex.hpp"
#include "ipckit/sync/robust_mutex.hpp"
#include "ipckit/sync/semaphore.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(SyncThreads, RobustMutexExcludesThreads) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(RobustMutex * mutex, RobustMutex::create_at(m.data()));
  std::uint64_t counter = 0;  // plain: only touched under the mutex (TSan checks that)
  const std::size_t per = test::scaled(20000);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = 0; i < per; ++i) {
        auto st = mutex->lock();
        if (!st || *st != LockStatus::kLocked) {
          failures.fetch_add(1);
          return;
        }
        ++counter;
        if (!mutex->unlock()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter, 4 * per);
  IPCKIT_EXPECT_OK(mutex->destroy());
}

TEST(SyncThreads, FutexHandsOffBetweenThreads) {
  alignas(4) std::uint32_t turn = 0;
  std::uint64_t payload = 0;  // published by the release store of `turn`
  const std::size_t rounds = test::scaled(5000);
  std::atomic<int> failures{0};
  std::thread consumer([&] {
    std::atomic_ref<std::uint32_t> t(turn);
    for (std::size_t i = 0; i < rounds; ++i) {
      while (t.load(std::memory_order_acquire) != 1) {  // pairs with the producer's release store
        auto w = futex_wait_for(turn, 0, 10s);
        if (!w || *w == FutexWait::kTimedOut) {
          failures.fetch_add(1);
          return;
        }
      }
      if (payload != i) failures.fetch_add(1);
      t.store(0, std::memory_order_release);  // pairs with the producer's acquire load
      (void)futex_wake(turn);
    }
  });
  std::atomic_ref<std::uint32_t> t(turn);
  for (std::size_t i = 0; i < rounds && failures.load() == 0; ++i) {
    payload = i;
    t.store(1, std::memory_order_release);  // publishes payload; pairs with the consumer's acquire
    IPCKIT_ASSERT_OK(futex_wake(turn));
    while (t.load(std::memory_order_acquire) != 0) {  // pairs with the consumer's release store
      auto w = futex_wait_for(turn, 1, 10s);
      ASSERT_TRUE(w.has_value());
      ASSERT_NE(*w, FutexWait::kTimedOut);
    }
  }
  consumer.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(SyncThreads, SemaphoreAndEventFdCountEveryPost) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SharedSemaphore * sem, SharedSemaphore::create_at(m.data(), 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(EventFd ev, EventFd::create(0, EventFdMode::kSemaphore));
  const std::size_t n = test::scaled(2000);
  std::atomic<std::size_t> taken{0};
  std::atomic<std::size_t> events{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 2; ++c) {
    consumers.emplace_back([&] {
      // Short timed waits so each consumer notices when the other took the last one.
      const auto give_up = deadline_after(60s);
      while (taken.load() < n && Clock::now() < give_up) {
        auto got = sem->wait_for(20ms);
        if (!got) return;
        if (*got == IoStatus::kOk) taken.fetch_add(1);
      }
      while (events.load() < n && Clock::now() < give_up) {
        auto r = ev.read_for(20ms);
        if (!r) return;
        if (r->has_value()) events.fetch_add(**r);
      }
    });
  }
  std::thread producer([&] {
    for (std::size_t i = 0; i < n; ++i) {
      (void)sem->post();
      (void)ev.write(1);
    }
  });
  producer.join();
  for (auto& c : consumers) c.join();
  EXPECT_EQ(taken.load(), n);
  EXPECT_EQ(events.load(), n);
  IPCKIT_EXPECT_OK(sem->destroy());
}

}  // namespace
}  // namespace ipckit
