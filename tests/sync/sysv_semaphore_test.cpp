// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/sysv_semaphore.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include <sys/sem.h>
#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// IPC_RMID at scope exit so a failed ASSERT leaks no set (the leak audit counts System V ids).
struct SetRemover {
  SysvSemaphoreSet* set;
  ~SetRemover() {
    if (set->valid()) (void)set->remove();
  }
};

TEST(SysvSemaphoreSet, SetAllGetAllSetValueAndRemove) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(IPC_PRIVATE, 3));
  SetRemover cleanup{&set};
  EXPECT_EQ(set.size(), 3);
  const std::vector<std::uint16_t> init{1, 2, 3};
  IPCKIT_ASSERT_OK(set.set_all(init));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto all, set.values());
  EXPECT_EQ(all, init);
  IPCKIT_ASSERT_OK(set.set_value(1, 7));
  IPCKIT_ASSERT_OK_AND_ASSIGN(int v, set.value(1));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(test::FailsWith(set.set_value(0, kSysvSemValueMax + 1), {"semctl(SETVAL)(sysv-sem:", "ERANGE", "SEMVMX (32767)"}));
  EXPECT_TRUE(test::FailsWith(set.set_all(std::vector<std::uint16_t>{1}), {"1 values for a set of 3"}));

  // Another handle from the id alone, as another process would get it.
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet other, SysvSemaphoreSet::attach(set.id()));
  EXPECT_EQ(other.size(), 3);
  const int id = set.id();
  IPCKIT_ASSERT_OK(set.remove());
  EXPECT_FALSE(set.valid());
  EXPECT_TRUE(test::FailsWith(SysvSemaphoreSet::attach(id), {"sysv-sem:" + std::to_string(id)}));
}

TEST(SysvSemaphoreSet, SeveralOperationsApplyAtomicallyOrNotAtAll) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(IPC_PRIVATE, 2));
  SetRemover cleanup{&set};
  IPCKIT_ASSERT_OK(set.set_all(std::vector<std::uint16_t>{1, 0}));
  // Take one from each: semaphore 1 is 0, so nothing at all may be applied (0 stays at 1).
  const SemOp both[] = {{0, -1, false}, {1, -1, false}};
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus applied, set.try_apply(both));
  EXPECT_EQ(applied, IoStatus::kWouldBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(int v0, set.value(0));
  EXPECT_EQ(v0, 1) << "a blocked multi-op semop must not apply its first operation";

  // A child blocks on the pair; a single post of semaphore 1 lets it take both at once.
  test::ReadyPipe ready;
  const pid_t pid = test::spawn_child([&] {
    ready.signal();
    auto r = set.apply_for(both, 10s);
    return r && *r == IoStatus::kOk ? 0 : 2;
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  const SemOp post1[] = {{1, 1, false}};
  IPCKIT_ASSERT_OK(set.apply(post1));
  auto r = test::wait_child(pid);
  ASSERT_TRUE(r.ok()) << r.describe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto all, set.values());
  EXPECT_EQ(all, (std::vector<std::uint16_t>{0, 0}));

  // Wait-for-zero succeeds at once now.
  const SemOp zero[] = {{0, 0, false}, {1, 0, false}};
  IPCKIT_ASSERT_OK_AND_ASSIGN(applied, set.try_apply(zero));
  EXPECT_EQ(applied, IoStatus::kOk);
}

TEST(SysvSemaphoreSet, SemUndoRevertsAKilledProcessesAdjustment) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(IPC_PRIVATE, 1));
  SetRemover cleanup{&set};
  IPCKIT_ASSERT_OK(set.set_value(0, 1));
  test::ReadyPipe ready;
  const pid_t pid = test::spawn_child([&] {
    const SemOp take[] = {{0, -1, true}};  // SEM_UNDO: the kernel gives it back when we die
    if (!set.apply(take)) return 2;
    ready.signal();
    for (;;) ::pause();
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(int v, set.value(0));
  EXPECT_EQ(v, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  (void)test::wait_child(pid);
  IPCKIT_ASSERT_OK_AND_ASSIGN(v, set.value(0));
  EXPECT_EQ(v, 1) << "SEM_UNDO must restore the value when the holder is killed";
}

TEST(SysvSemaphoreSet, TimedApplyIsALowerBoundAndRemovalWakesWaiters) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(IPC_PRIVATE, 1));
  SetRemover cleanup{&set};
  const SemOp take[] = {{0, -1, false}};
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus applied, set.apply_for(take, 30ms));
  EXPECT_EQ(applied, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);

  // A waiter blocked without a deadline fails with EIDRM (not a hang) when the set is removed.
  const pid_t pid = test::spawn_child([&] {
    auto r = set.apply(take);
    return !r && r.error().is(EIDRM) ? 0 : 2;
  });
  // Wait until the child is really queued on the semaphore (GETNCNT), not a sleep.
  const auto deadline = deadline_after(10s);
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(int waiting, set.waiting_count(0));
    if (waiting == 1) break;
    ASSERT_LT(Clock::now(), deadline) << "child never blocked";
    std::this_thread::yield();
  }
  IPCKIT_ASSERT_OK(set.remove());
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(SysvSemaphoreSet, LimitsAreNamedInErrors) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemLimits limits, sysv_sem_limits());
  ASSERT_GT(limits.semmsl, 0);
  const int too_many = static_cast<int>(limits.semmsl + 1);
  EXPECT_TRUE(test::FailsWith(SysvSemaphoreSet::create(IPC_PRIVATE, too_many),
                              {"semget(IPC_PRIVATE): EINVAL", "> SEMMSL (" + std::to_string(limits.semmsl) + ",",
                               "/proc/sys/kernel/sem"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(IPC_PRIVATE, 1));
  SetRemover cleanup{&set};
  std::vector<SemOp> ops(static_cast<std::size_t>(limits.semopm + 1), SemOp{0, 1, false});
  EXPECT_TRUE(test::FailsWith(set.try_apply(ops), {"semop(sysv-sem:", "E2BIG", "> SEMOPM (" + std::to_string(limits.semopm)}));
  const SemOp bad_index[] = {{5, 1, false}};
  EXPECT_TRUE(test::FailsWith(set.try_apply(bad_index), {"EFBIG", "outside the set of 1"}));
  EXPECT_TRUE(test::FailsWith(SysvSemaphoreSet::create(IPC_PRIVATE, 0), {"invalid argument"}));
}

TEST(SysvSemaphoreSet, SemmniLimitIsNamedWhenReached) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: unshare(CLONE_NEWIPC) and writing /proc/sys/kernel/sem";
  // A private IPC namespace: its own limits and its own sets, all gone when the child exits, so the
  // host's limits are never touched and nothing can leak.
  constexpr int kNoNamespace = 77;
  auto child = test::run_in_child([&]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return kNoNamespace;
    {
      std::ofstream sem("/proc/sys/kernel/sem");
      sem << "32000 1024000000 500 3";
      if (!sem.flush()) return 2;
    }
    std::vector<SysvSemaphoreSet> sets;
    for (int i = 0; i < 3; ++i) {
      auto s = SysvSemaphoreSet::create(IPC_PRIVATE, 1);
      if (!s) {
        std::fprintf(stderr, "%s\n", s.error().str().c_str());
        return 3;
      }
      sets.push_back(*s);
    }
    auto fourth = SysvSemaphoreSet::create(IPC_PRIVATE, 1);
    if (fourth) return 4;
    const std::string text = fourth.error().str();
    if (text.find("semget(IPC_PRIVATE): ENOSPC") == std::string::npos || text.find("SEMMNI (3,") == std::string::npos) {
      std::fprintf(stderr, "%s\n", text.c_str());
      return 5;
    }
    for (auto& s : sets) (void)s.remove();
    return 0;
  });
  if (child.exited && child.code == kNoNamespace) GTEST_SKIP() << "unshare(CLONE_NEWIPC) is not permitted here";
  EXPECT_TRUE(child.ok()) << child.describe();
}


TEST(SysvSemaphoreSet, SetWithAWiderModeThanAskedIsRefused) {
  test::TempDir dir;
  const std::string file = dir.file("key");
  { std::ofstream(file) << "k"; }
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, SysvSemaphoreSet::key_for(file, 11));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet set, SysvSemaphoreSet::create(key, 2, 0640));
  SetRemover rm{&set};
  EXPECT_TRUE(test::FailsWith(SysvSemaphoreSet::open(key, OpenMode::kOpenExisting, 2),
                              {"semget(key 0x", "untrusted", "mode 0640 is wider than the 0600"}));
  EXPECT_TRUE(test::FailsWith(SysvSemaphoreSet::open(key, OpenMode::kOpenOrCreate, 2), {"mode 0640 is wider"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet same, SysvSemaphoreSet::open(key, OpenMode::kOpenOrCreate, 2, 0640));
  EXPECT_EQ(same.id(), set.id());
}

TEST(SysvSemaphoreSet, SetOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a set as another user (setresuid)";
  test::TempDir dir;
  const std::string file = dir.file("key");
  { std::ofstream(file) << "k"; }
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, SysvSemaphoreSet::key_for(file, 12));
  auto made = test::run_as_nobody([&] { return SysvSemaphoreSet::create(key, 1, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet theirs, SysvSemaphoreSet::attach(::semget(key, 1, 0)));
  SetRemover rm{&theirs};
  auto refused = SysvSemaphoreSet::open(key, OpenMode::kOpenExisting, 1, 0666);
  EXPECT_TRUE(test::FailsWith(refused, {"semget(key 0x", "untrusted", "owned by uid 65534", "mode 0666"}));
  TrustPolicy trust;
  trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvSemaphoreSet opened, SysvSemaphoreSet::open(key, OpenMode::kOpenOrCreate, 1, 0666, trust));
  EXPECT_EQ(opened.id(), theirs.id());
}

}  // namespace
}  // namespace ipckit
