// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/robust_mutex.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// The shared state of these tests: a mutex, a condvar and the data they protect, all in one
// MAP_SHARED page inherited by forked children. Standard layout, no pointers.
struct Shared {
  RobustMutex& mutex() { return *std::launder(reinterpret_cast<RobustMutex*>(mutex_bytes)); }
  SharedCondvar& cond() { return *std::launder(reinterpret_cast<SharedCondvar*>(cond_bytes)); }
  alignas(RobustMutex) unsigned char mutex_bytes[sizeof(RobustMutex)];
  alignas(SharedCondvar) unsigned char cond_bytes[sizeof(SharedCondvar)];
  // The "invariant" a dead owner may have broken: a == b whenever the mutex is free and consistent.
  std::uint64_t a;
  std::uint64_t b;
  std::uint64_t ready;
};

struct Fixture {
  Mapping map;
  Shared* s = nullptr;
};

Result<Fixture> make_shared() {
  auto m = Mapping::anonymous(4096);
  if (!m) return fail(m.error());
  Fixture f{std::move(*m), nullptr};
  f.s = new (f.map.data()) Shared{};
  if (auto r = RobustMutex::create_at(f.s->mutex_bytes); !r) return fail(r.error());
  if (auto r = SharedCondvar::create_at(f.s->cond_bytes); !r) return fail(r.error());
  return f;
}

TEST(RobustMutex, OwnerKilledWhileHoldingIsReportedAndRepaired) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  const std::size_t rounds = test::scaled(200);
  for (std::size_t round = 0; round < rounds; ++round) {
    test::ReadyPipe ready;
    const pid_t pid = test::spawn_child([&] {
      auto st = s->mutex().lock();
      if (!st || *st != LockStatus::kLocked) return 2;
      ++s->a;  // half of an update: b is not yet incremented when we die
      ready.signal();
      for (;;) ::pause();  // killed here, holding the mutex
    });
    ASSERT_TRUE(ready.wait(deadline_after(10s))) << "round " << round;
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    auto r = test::wait_child(pid);
    ASSERT_FALSE(r.exited);
    ASSERT_EQ(r.signal, SIGKILL);

    // Never a hang: a bounded wait must get the lock with "owner died".
    IPCKIT_ASSERT_OK_AND_ASSIGN(LockStatus st, s->mutex().lock_for(10s));
    ASSERT_EQ(st, LockStatus::kOwnerDied) << "round " << round;
    EXPECT_EQ(s->a, s->b + 1) << "the dead owner's half update is visible to the repairer";
    s->b = s->a;  // repair
    IPCKIT_ASSERT_OK(s->mutex().mark_consistent());
    IPCKIT_ASSERT_OK(s->mutex().unlock());
    // Consistent again: an ordinary lock from here.
    IPCKIT_ASSERT_OK_AND_ASSIGN(st, s->mutex().try_lock());
    ASSERT_EQ(st, LockStatus::kLocked);
    IPCKIT_ASSERT_OK(s->mutex().unlock());
  }
  EXPECT_EQ(s->a, rounds);
  IPCKIT_EXPECT_OK(s->mutex().destroy());
}

TEST(RobustMutex, UnrepairedMutexBecomesNotRecoverable) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  auto child = test::run_in_child([&] {
    auto st = s->mutex().lock();
    return st && *st == LockStatus::kLocked ? 0 : 2;  // exits holding it
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(LockStatus st, s->mutex().lock());
  ASSERT_EQ(st, LockStatus::kOwnerDied);
  IPCKIT_ASSERT_OK(s->mutex().unlock());  // without mark_consistent()
  EXPECT_TRUE(test::FailsWith(s->mutex().lock(), {"pthread_mutex_lock(robust mutex at", "ENOTRECOVERABLE",
                                                  "mark_consistent"}));
  EXPECT_TRUE(test::FailsWith(s->mutex().try_lock(), {"ENOTRECOVERABLE"}));
  // glibc's trylock leaves the lock word holding our TID in this state; RobustMutex undoes that, so
  // neither this thread (EDEADLK) nor another process (a hang) is wedged afterwards.
  EXPECT_TRUE(test::FailsWith(s->mutex().lock_for(10ms), {"ENOTRECOVERABLE"}));
  auto other = test::run_in_child([&] {
    auto r = s->mutex().lock_for(10s);
    return !r && r.error().is(ENOTRECOVERABLE) ? 0 : 2;
  });
  EXPECT_TRUE(other.ok()) << other.describe();
  // Re-creating it in place makes it usable again.
  IPCKIT_ASSERT_OK(RobustMutex::create_at(s->mutex_bytes));
  IPCKIT_ASSERT_OK_AND_ASSIGN(st, s->mutex().lock());
  EXPECT_EQ(st, LockStatus::kLocked);
  IPCKIT_ASSERT_OK(s->mutex().unlock());
}

TEST(RobustMutex, SelfRelockAndForeignUnlockAreErrorsNotHangs) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  IPCKIT_ASSERT_OK_AND_ASSIGN(LockStatus st, s->mutex().lock());
  ASSERT_EQ(st, LockStatus::kLocked);
  EXPECT_TRUE(test::FailsWith(s->mutex().lock(), {"EDEADLK"}));
  // Another process sees it busy and cannot unlock it.
  auto child = test::run_in_child([&] {
    auto t = s->mutex().try_lock();
    if (!t || *t != LockStatus::kWouldBlock) return 2;
    auto start = Clock::now();
    auto timed = s->mutex().lock_for(30ms);
    if (!timed || *timed != LockStatus::kTimedOut) return 3;
    if (Clock::now() - start < 30ms) return 4;  // lower bound only
    auto u = s->mutex().unlock();
    if (u || !u.error().is(EPERM)) return 5;
    return 0;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  IPCKIT_ASSERT_OK(s->mutex().unlock());
}

TEST(RobustMutex, ContentionAcrossProcessesKeepsTheInvariant) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  constexpr int kProcs = 4;
  const std::size_t per = test::scaled(5000);
  pid_t pids[kProcs];
  for (auto& pid : pids) {
    pid = test::spawn_child([&] {
      for (std::size_t i = 0; i < per; ++i) {
        auto st = s->mutex().lock();
        if (!st || *st != LockStatus::kLocked) return 2;
        if (s->a != s->b) return 3;
        ++s->a;
        ++s->b;
        if (!s->mutex().unlock()) return 4;
      }
      return 0;
    });
  }
  for (pid_t pid : pids) {
    auto r = test::wait_child(pid);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  EXPECT_EQ(s->a, kProcs * per);
  EXPECT_EQ(s->b, kProcs * per);
}

TEST(SharedCondvar, WaitsForAPredicateSetByAnotherProcess) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  const pid_t pid = test::spawn_child([&] {
    auto st = s->mutex().lock();
    if (!st) return 2;
    s->ready = 1;
    if (!s->cond().notify_all()) return 3;
    return s->mutex().unlock() ? 0 : 4;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(LockStatus st, s->mutex().lock());
  ASSERT_EQ(st, LockStatus::kLocked);
  const auto deadline = deadline_after(10s);
  while (s->ready == 0) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(st, s->cond().wait_until(s->mutex(), deadline));
    ASSERT_TRUE(owns_lock(st) || st == LockStatus::kTimedOut);
    ASSERT_NE(st, LockStatus::kTimedOut) << "the notifier never got the mutex";
  }
  IPCKIT_ASSERT_OK(s->mutex().unlock());
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(SharedCondvar, TimedWaitReturnsTimedOutWithTheMutexHeld) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  IPCKIT_ASSERT_OK_AND_ASSIGN(LockStatus st, s->mutex().lock());
  ASSERT_EQ(st, LockStatus::kLocked);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(st, s->cond().wait_for(s->mutex(), 30ms));
  EXPECT_EQ(st, LockStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  // Still ours: unlocking succeeds (an error-checking mutex would say EPERM otherwise).
  IPCKIT_ASSERT_OK(s->mutex().unlock());
  IPCKIT_EXPECT_OK(s->cond().destroy());
}

TEST(SharedCondvar, WaiterReacquiresWithOwnerDiedWhenTheHolderIsKilled) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Fixture f, make_shared());
  Shared* s = f.s;
  // W waits on the condvar. H locks the mutex — which it can only do once W has released it by
  // entering wait() — announces that, and is SIGKILLed holding it. A notify then wakes W, whose
  // re-acquisition finds the dead owner.
  const pid_t waiter = test::spawn_child([&] {
    auto st = s->mutex().lock();
    if (!st || *st != LockStatus::kLocked) return 2;
    s->ready = 1;  // "W is about to wait"; read by H under the mutex
    for (;;) {
      auto w = s->cond().wait_until(s->mutex(), deadline_after(10s));
      if (!w) return 3;
      if (*w == LockStatus::kTimedOut) return 4;
      if (*w == LockStatus::kOwnerDied) break;
      // kLocked: a spurious wake-up, or the notify raced ahead of H's death: wait again
    }
    s->b = s->a;  // repair
    if (!s->mutex().mark_consistent() || !s->mutex().unlock()) return 5;
    return 0;
  });
  test::ReadyPipe holding;
  const pid_t holder = test::spawn_child([&] {
    for (;;) {
      auto st = s->mutex().lock();
      if (!st) return 2;
      if (s->ready == 1) break;  // W is inside wait()
      if (!s->mutex().unlock()) return 3;
      std::this_thread::yield();
    }
    ++s->a;
    holding.signal();
    for (;;) ::pause();
  });
  ASSERT_TRUE(holding.wait(deadline_after(10s)));
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  (void)test::wait_child(holder);
  IPCKIT_ASSERT_OK(s->cond().notify_all());
  auto r = test::wait_child(waiter);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(s->a, s->b);
}

}  // namespace
}  // namespace ipckit
