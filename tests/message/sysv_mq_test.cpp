// SPDX-License-Identifier: Apache-2.0
// System V message queues: two processes by ftok key, type selection, the three forms of each verb,
// truncation as an explicit option, IPC_STAT/IPC_SET/IPC_RMID, golden limit errors. Every queue is
// removed (IPC_RMID) by the test that made it.
#include "ipckit/message/sysv_mq.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <sys/msg.h>
#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Removes the queue when the test ends, pass or fail.
struct Remover {
  SysvMq q;
  ~Remover() {
    if (q.valid()) (void)q.remove();
  }
};

TEST(SysvMq, TwoProcessesByFtokKey) {
  test::TempDir dir;
  const std::string file = dir.file("key");
  { std::ofstream(file) << "k"; }
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, SysvMq::key_for(file, 7));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(key, OpenMode::kCreateExclusive));
  Remover rm{q};
  EXPECT_TRUE(test::FailsWith(SysvMq::open(key, OpenMode::kCreateExclusive), {"msgget(key 0x", "EEXIST"}));
  const std::size_t count = test::scaled(300);
  const pid_t child = test::spawn_child([&]() -> int {
    auto k = SysvMq::key_for(file, 7);
    if (!k) return 1;
    auto w = SysvMq::open(*k, OpenMode::kOpenExisting);
    if (!w || w->id() != q.id()) return 2;
    for (std::size_t i = 0; i < count; ++i) {
      if (!w->send(1, as_bytes(std::to_string(i)))) return 3;
    }
    return w->send(2, as_bytes("done")) ? 0 : 4;
  });
  for (std::size_t i = 0; i < count; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMessage m, q.receive(1));
    ASSERT_EQ(m.data, std::to_string(i));
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMessage done, q.receive());
  EXPECT_EQ(done.type, 2);
  EXPECT_EQ(done.data, "done");
  EXPECT_TRUE(test::wait_child(child).ok());
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMqStat st, q.stat());
  EXPECT_EQ(st.key, key);
  EXPECT_EQ(st.mode, 0600u);
  EXPECT_EQ(st.last_sender, child);
  EXPECT_EQ(st.last_receiver, ::getpid());
  EXPECT_TRUE(test::FailsWith(SysvMq::key_for(dir.file("missing")), {"ftok(", "ENOENT", "existing file"}));
  EXPECT_TRUE(test::FailsWith(SysvMq::key_for(file, 0x100), {"low 8 bits"}));
}

TEST(SysvMq, TypeSelectionFirstExactAndLowest) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive));
  Remover rm{q};
  const std::pair<long, const char*> sent[] = {{5, "five"}, {3, "three"}, {9, "nine"}, {1, "one"}, {3, "three-b"}};
  for (auto [t, text] : sent) IPCKIT_ASSERT_OK(q.send(t, as_bytes(text)));
  // > 0: first of exactly that type.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, q.try_receive(3));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "three");
  // < 0: lowest type <= |t|, FIFO among equals.
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(-4));
  EXPECT_EQ(m->data, "one");
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(-4));
  EXPECT_EQ(m->data, "three-b");
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(-4));
  EXPECT_FALSE(m.has_value());  // 5 and 9 are above 4
  // 0: first in the queue, whatever its type.
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(0));
  EXPECT_EQ(m->type, 5);
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(7));
  EXPECT_FALSE(m.has_value());
  IPCKIT_ASSERT_OK_AND_ASSIGN(m, q.try_receive(9));
  EXPECT_EQ(m->data, "nine");
  EXPECT_TRUE(test::FailsWith(q.send(0, as_bytes("x")), {"msgsnd(sysv-mq:", "must be > 0"}));
}

TEST(SysvMq, FullAndEmptyAreValuesDeadlinesPoll) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive));
  Remover rm{q};
  IPCKIT_ASSERT_OK(q.set_max_bytes(64));
  auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, q.receive_until(0, deadline_after(30ms)));
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(none.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus a, q.try_send(1, as_bytes(std::string(40, 'a'))));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus b, q.try_send(1, as_bytes(std::string(40, 'b'))));
  EXPECT_EQ(a, IoStatus::kOk);
  EXPECT_EQ(b, IoStatus::kWouldBlock);  // 80 bytes > msg_qbytes 64
  start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus c, q.send_until(1, as_bytes(std::string(40, 'c')), deadline_after(30ms)));
  EXPECT_EQ(c, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  // A message that can never fit is reported, not blocked on forever.
  EXPECT_TRUE(test::FailsWith(q.send(1, as_bytes(std::string(65, 'x'))),
                              {"msgsnd(sysv-mq:", "message of 65 bytes > this queue's msg_qbytes (64): it can never fit"}));
  // A receiver in another process waiting with a deadline gets the message sent meanwhile.
  const pid_t child = test::spawn_child([&]() -> int {
    auto m = SysvMq::from_id(q.id()).receive_until(2, deadline_after(10s));
    return m && *m && (*m)->data == "late" ? 0 : 1;
  });
  IPCKIT_ASSERT_OK(q.send(2, as_bytes("late")));
  EXPECT_TRUE(test::wait_child(child).ok());
}

TEST(SysvMq, OversizeFailsOrTruncatesOnlyWhenAsked) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive));
  Remover rm{q};
  IPCKIT_ASSERT_OK(q.send(1, as_bytes("0123456789")));
  SysvReceiveOptions small;
  small.max_size = 4;
  EXPECT_TRUE(test::FailsWith(q.try_receive(0, small), {"msgrcv(sysv-mq:", "E2BIG", "longer than max_size (4 bytes)",
                                                        "SysvOversize::kTruncate"}));
  // The message stayed queued; exactly max_size is not truncation.
  SysvReceiveOptions exact;
  exact.max_size = 10;
  exact.oversize = SysvOversize::kTruncate;
  IPCKIT_ASSERT_OK(q.send(1, as_bytes("abcdefghij")));
  small.oversize = SysvOversize::kTruncate;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto cut, q.try_receive(0, small));
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->data, "0123");
  EXPECT_TRUE(cut->truncated);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto whole, q.try_receive(0, exact));
  EXPECT_EQ(whole->data, "abcdefghij");
  EXPECT_FALSE(whole->truncated);
}

long blocked_syscall(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  f >> nr;
  return f ? nr : -1;
}

TEST(SysvMq, StatSetAndRemoveWakesWaiters) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive, 0640));
  Remover rm{q};
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMqStat st, q.stat());
  EXPECT_EQ(st.mode, 0640u);
  EXPECT_EQ(st.uid, ::geteuid());
  IPCKIT_ASSERT_OK(q.set(st.uid, st.gid, 0600, 1000));
  IPCKIT_ASSERT_OK_AND_ASSIGN(st, q.stat());
  EXPECT_EQ(st.mode, 0600u);
  EXPECT_EQ(st.max_bytes, 1000u);
  IPCKIT_ASSERT_OK(q.send(4, as_bytes("abc")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(st, q.stat());
  EXPECT_EQ(st.messages, 1u);
  EXPECT_EQ(st.bytes, 3u);
  // A process blocked in msgrcv is woken by IPC_RMID with EIDRM.
  const int id = q.id();
  const pid_t child = test::spawn_child([&]() -> int {
    auto m = SysvMq::from_id(id).receive(99);
    return !m && m.error().is(EIDRM) ? 0 : 1;
  });
  // Wait until it really sleeps in msgrcv (its /proc/PID/syscall names the call only while blocked).
  const Deadline limit = deadline_after(20s);
  while (blocked_syscall(child) != SYS_msgrcv && Clock::now() < limit) std::this_thread::yield();
  ASSERT_EQ(blocked_syscall(child), SYS_msgrcv);
  IPCKIT_ASSERT_OK(rm.q.remove());
  EXPECT_TRUE(test::wait_child(child).ok());
  EXPECT_TRUE(test::FailsWith(SysvMq::from_id(id).try_send(1, as_bytes("x")), {"msgsnd(sysv-mq:", "EINVAL"}));
}

// Limits, in a child with a fresh IPC namespace (default sysctls, no queues) and no CAP_SYS_RESOURCE.
void in_limited_child(const std::function<int()>& body) {
  if (!test::is_root()) GTEST_SKIP() << "needs root for unshare(CLONE_NEWIPC)";
  auto r = test::run_in_child([&]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return 90;
    if (!test::drop_capability(CAP_SYS_RESOURCE)) return 91;
    return body();
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

template <class T>
int expect_text(const Result<T>& r, const std::string& expected) {
  if (r) return 10;
  if (r.error().str() != expected) {
    std::fprintf(stderr, "got:      %s\nexpected: %s\n", r.error().str().c_str(), expected.c_str());
    return 11;
  }
  return 0;
}

TEST(SysvMqLimits, MsgmaxAndMsgmnbAreNamed) {
  in_limited_child([]() -> int {
    auto q = SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive);
    if (!q) return 20;
    const std::string obj = "sysv-mq:" + std::to_string(q->id());
    int rc = expect_text(q->send(1, as_bytes(std::string(8193, 'x'))),
                         "msgsnd(" + obj + "): EINVAL: message of 8193 bytes > /proc/sys/kernel/msgmax (8192): "
                         "raise it there (as root) or send smaller messages");
    if (rc == 0) {
      rc = expect_text(q->set_max_bytes(16385), "msgctl(IPC_SET)(" + obj + "): EPERM: msg_qbytes 16385 > "
                                                "/proc/sys/kernel/msgmnb (16384) needs CAP_SYS_RESOURCE: raise "
                                                "the sysctl (as root) or ask for less");
    }
    (void)q->remove();
    return rc;
  });
}

TEST(SysvMqLimits, MsgmniIsNamed) {
  in_limited_child([]() -> int {
    {
      std::ofstream f("/proc/sys/kernel/msgmni");
      f << 1;
      if (!f) return 30;
    }
    auto first = SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive);
    if (!first) return 31;
    const int rc = expect_text(SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive),
                               "msgget(IPC_PRIVATE): ENOSPC: /proc/sys/kernel/msgmni (1) queues already exist on "
                               "this system: remove unused ones (ipcrm -q ID) or raise it there (as root)");
    (void)first->remove();
    return rc;
  });
}


TEST(SysvMq, QueueWithAWiderModeThanAskedIsRefused) {
  test::TempDir dir;
  const std::string file = dir.file("key");
  { std::ofstream(file) << "k"; }
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, SysvMq::key_for(file, 9));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq q, SysvMq::open(key, OpenMode::kCreateExclusive, 0640));
  Remover rm{q};
  EXPECT_TRUE(test::FailsWith(SysvMq::open(key, OpenMode::kOpenExisting),
                              {"msgget(key 0x", "untrusted", "mode 0640 is wider than the 0600"}));
  EXPECT_TRUE(test::FailsWith(SysvMq::open(key, OpenMode::kOpenOrCreate), {"mode 0640 is wider"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq same, SysvMq::open(key, OpenMode::kOpenOrCreate, 0640));
  EXPECT_EQ(same.id(), q.id());
}

TEST(SysvMq, QueueOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a queue as another user (setresuid)";
  test::TempDir dir;
  const std::string file = dir.file("key");
  { std::ofstream(file) << "k"; }
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, SysvMq::key_for(file, 10));
  auto made = test::run_as_nobody([&] { return SysvMq::open(key, OpenMode::kCreateExclusive, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  Remover rm{SysvMq::from_id(::msgget(key, 0))};
  auto refused = SysvMq::open(key, OpenMode::kOpenExisting, 0666);
  EXPECT_TRUE(test::FailsWith(refused, {"msgget(key 0x", "untrusted", "owned by uid 65534", "mode 0666"}));
  TrustPolicy trust;
  trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvMq opened, SysvMq::open(key, OpenMode::kOpenOrCreate, 0666, trust));
  EXPECT_EQ(opened.id(), rm.q.id());
}

}  // namespace
}  // namespace ipckit
