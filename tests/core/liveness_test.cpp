// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/liveness.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(Liveness, SelfIsAlive) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(ProcessIdentity me, self_identity());
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_GT(me.start_time, 0u);
  EXPECT_GT(me.pid_ns, 0u);
  EXPECT_EQ(liveness(me), Liveness::kAlive);
}

TEST(Liveness, ExitedChildIsDeadEvenBeforeReaping) {
  test::ReadyPipe ready;
  const pid_t pid = test::spawn_child([&] {
    ready.signal();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.wait(deadline_after(std::chrono::seconds(10))));
  IPCKIT_ASSERT_OK_AND_ASSIGN(ProcessIdentity child, identity_of(pid));
  EXPECT_EQ(liveness(child), Liveness::kAlive);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Wait until it is a zombie without reaping it: waitid with WNOWAIT.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(liveness(child), Liveness::kDead);  // a zombie will never touch shared memory again
  auto r = test::wait_child(pid);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(liveness(child), Liveness::kDead);
}

TEST(Liveness, ReusedPidWithOtherStartTimeIsDead) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(ProcessIdentity me, self_identity());
  ProcessIdentity impostor = me;
  impostor.start_time += 1;  // same pid, different start: the original process is gone
  EXPECT_EQ(liveness(impostor), Liveness::kDead);
}

TEST(Liveness, OtherPidNamespaceIsUnknown) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(ProcessIdentity me, self_identity());
  ProcessIdentity foreign = me;
  foreign.pid_ns += 1;  // recorded in a namespace we cannot see into: never guess
  EXPECT_EQ(liveness(foreign), Liveness::kUnknown);
  EXPECT_EQ(liveness(ProcessIdentity{}), Liveness::kUnknown);
  EXPECT_STREQ(to_string(Liveness::kUnknown), "unknown");
}

TEST(Liveness, IdentityOfMissingPidFailsWithPath) {
  // Pids above pid_max never exist.
  EXPECT_TRUE(test::FailsWith(identity_of(0x7ffffff0), {"open(\"/proc/2147483632/stat\")", "ENOENT"}));
}

}  // namespace
}  // namespace ipckit
