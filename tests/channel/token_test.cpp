// SPDX-License-Identifier: Apache-2.0
// Liveness tokens (src/channel/token.cpp; docs/channel.md "Liveness"): a holder is judged by an
// OFD lock the kernel releases when the process dies, never by what /proc shows. Each test is a
// case that the pid + start time + pid-ns check got wrong: a process whose main thread exited, a
// /proc mounted with hidepid=2, a pid reused by the successor, a holder in another pid namespace,
// and a forked child holding the parent's descriptors. Real processes throughout; the root-only
// cases skip with a reason otherwise.
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "channel/channel_name.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"
#include "support/own_proc.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using SpscName = test::ChannelName<SpscChannel>;
using MpmcName = test::ChannelName<MpmcChannel>;

ChannelOptions fast_checks() {
  ChannelOptions o;
  o.capacity = 1 << 16;
  o.max_message = 256;
  o.wait = WaitStrategy::kBlocking;
  o.liveness_interval = 10ms;  // many checks within each test's few hundred milliseconds
  return o;
}

std::array<std::byte, 8> word(std::uint64_t v) {
  std::array<std::byte, 8> b{};
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

std::uint64_t word_of(std::span<const std::byte> data) {
  std::uint64_t v = ~std::uint64_t{0};
  if (data.size() == sizeof v) std::memcpy(&v, data.data(), sizeof v);
  return v;
}

// Receives `count` messages numbered from `first`, then returns the status that follows them
// (kTimedOut after `limit`): no message may be missing, repeated or out of order.
ChannelStatus receive_run(SpscConsumer& rx, std::uint64_t first, std::uint64_t count, Clock::duration limit) {
  const Deadline deadline = deadline_after(limit);
  for (std::uint64_t i = 0;; ++i) {
    auto v = rx.receive_until(deadline);
    if (!v) {
      ADD_FAILURE() << v.error().str();
      return ChannelStatus::kTimedOut;
    }
    if (v->status != ChannelStatus::kOk) {
      EXPECT_EQ(i, count) << "messages before " << to_string(v->status);
      return v->status;
    }
    EXPECT_EQ(word_of(v->data), first + i);
    EXPECT_TRUE(rx.release());
    if (i >= count) {
      ADD_FAILURE() << "more messages than sent";
      return ChannelStatus::kOk;
    }
  }
}

// Case 1: the main thread calls pthread_exit while a worker thread sends. /proc/PID/stat shows
// the process as a zombie ('Z'), which the /proc check took for dead: the consumer reported
// kPeerDied and a second producer took the role over, losing the live one's messages.
TEST(LivenessToken, MainThreadExitedWhileAWorkerSendsKeepsTheRole) {
  SpscName n;
  const auto o = fast_checks();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  constexpr std::uint64_t kMessages = 300;
  test::ReadyPipe main_gone;
  const pid_t child = test::spawn_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx) return 10;
    static SpscProducer* producer = nullptr;
    producer = &*tx;
    static test::ReadyPipe* gone = nullptr;
    gone = &main_gone;
    pthread_t worker;
    if (::pthread_create(
            &worker, nullptr,
            [](void*) -> void* {
              // Sends only after the main thread has gone, for ~300 ms.
              for (std::uint64_t i = 0; i < kMessages; ++i) {
                if (i == 0) gone->signal();
                std::this_thread::sleep_for(1ms);
                auto st = producer->send(word(i));
                if (!st || *st != ChannelStatus::kOk) ::_exit(11);
              }
              (void)producer->close();
              ::_exit(0);
            },
            nullptr) != 0) {
      return 12;
    }
    // The main thread alone exits (SYS_exit, not exit_group; pthread_exit would unwind through
    // the test harness's catch): the process lives on in its worker.
    ::syscall(SYS_exit, 0);
    return 13;
  });
  ASSERT_TRUE(main_gone.wait(deadline_after(10s)));
  // While the worker sends, the role stays taken: no second producer gets in.
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenExisting, o), {"role taken", "alive"}));
  EXPECT_EQ(receive_run(rx, 0, kMessages, 20s), ChannelStatus::kPeerClosed);
  EXPECT_TRUE(test::wait_child(child).ok());
}

// Case 2: /proc mounted with hidepid=2 hides root's processes from another user, and ENOENT was
// read as dead: a uid-65534 process took root's live SPSC producer role and reaped a live MPMC
// producer. Root only (a private mount namespace with its own /proc, and a second user).
TEST(LivenessToken, HidepidProcDoesNotMakeAnotherUsersLiveHolderDead) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: mounts /proc with hidepid=2 and switches to uid 65534";
  SpscName spsc;
  MpmcName mpmc;
  auto o = fast_checks();
  o.mode = 0666;  // the other user may open it: what it may not do is take a live holder's role
  o.trust.allowed_uids = {0};  // and it trusts root's objects
  const test::ChildResult r = test::run_in_child([&] {
    if (::unshare(CLONE_NEWNS) != 0) return 80;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 81;
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0) return 82;
    auto tx = SpscProducer::open(spsc.name, OpenMode::kCreateExclusive, o);
    auto mtx = MpmcProducer::open(mpmc.name, OpenMode::kCreateExclusive, o);
    if (!tx || !mtx) return 83;
    // The live MPMC producer sends once the other user's consumer has checked it a few times.
    std::thread sender([&] {
      std::this_thread::sleep_for(300ms);
      (void)mtx->send(word(42));
    });
    const test::ChildResult other = test::run_as_nobody([&] {
      char path[64];
      std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(::getppid()));
      if (::access(path, F_OK) == 0) return 20;  // hidepid=2 must hide root's process here
      // SPSC: the live producer keeps its role.
      auto thief = SpscProducer::open(spsc.name, OpenMode::kOpenExisting, o);
      if (thief) return 21;
      if (thief.error().str().find("role taken") == std::string::npos) return 22;
      // MPMC: a consumer of the other user does not reap the live producer: it waits (each
      // 20 ms wait runs two liveness checks) and then gets the producer's message.
      auto rx = MpmcConsumer::open(mpmc.name, OpenMode::kOpenExisting, o);
      if (!rx) return 23;
      for (int i = 0; i < 5; ++i) {
        auto v = rx->receive_until(deadline_after(20ms));
        if (!v) return 24;
        if (v->status != ChannelStatus::kTimedOut) return 25;  // not kPeerDied, not kPeerClosed
      }
      auto v = rx->receive_until(deadline_after(10s));
      if (!v || v->status != ChannelStatus::kOk || word_of(v->data) != 42) return 26;
      return 0;
    });
    sender.join();
    return other.ok() ? 0 : 30 + (other.exited ? other.code : 100);
  });
  EXPECT_TRUE(r.ok()) << r.describe() << " (see the codes in the test)";
}

// clone3() with set_tid: a child with exactly pid `pid` in this process's pid namespace (needs
// CAP_SYS_ADMIN over it). Returns as fork() does. No atfork handlers run: the child must not use
// endpoints it inherited.
pid_t fork_with_pid(pid_t pid) {
  clone_args args{};
  args.exit_signal = SIGCHLD;
  pid_t tid = pid;
  args.set_tid = reinterpret_cast<std::uint64_t>(&tid);
  args.set_tid_size = 1;
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

// Case 3: the successor got the dead producer's pid. The claim word was pid + namespace bits
// only, so the consumer, which remembers the dead claim, took the new producer for the dead one:
// 20 messages arrived, then kPeerDied over and over. In a fresh pid namespace (never the one
// ctest runs in), both producers get pid 300 through clone3's set_tid.
TEST(LivenessToken, ASuccessorWithTheDeadProducersPidIsANewSession) {
  test::expect_in_own_proc([] {
    SpscName n;
    const auto o = fast_checks();
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
    constexpr pid_t kPid = 300;
    auto producer = [&](std::uint64_t first, bool die) -> int {
      auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
      if (!tx) return 10;
      if (tx->reclaimed() != (first != 0)) return 11;  // the second one takes over from the dead one
      for (std::uint64_t i = first; i < first + 20; ++i) {
        auto st = tx->send(word(i));
        if (!st || *st != ChannelStatus::kOk) return 12;
      }
      if (die) ::kill(::getpid(), SIGKILL);
      return tx->close() ? 0 : 13;
    };
    const pid_t first = fork_with_pid(kPid);
    ASSERT_GE(first, 0) << "clone3(set_tid): " << std::strerror(errno);
    if (first == 0) ::_exit(producer(0, true));
    ASSERT_EQ(first, kPid);
    EXPECT_EQ(test::wait_child(first).signal, SIGKILL);
    EXPECT_EQ(receive_run(rx, 0, 20, 10s), ChannelStatus::kPeerDied);

    const pid_t second = fork_with_pid(kPid);
    ASSERT_GE(second, 0) << "clone3(set_tid): " << std::strerror(errno);
    if (second == 0) ::_exit(producer(20, false));
    ASSERT_EQ(second, kPid);
    EXPECT_TRUE(test::wait_child(second).ok());
    // Its messages, then its orderly end: not the dead one's kPeerDied again.
    EXPECT_EQ(receive_run(rx, 20, 20, 10s), ChannelStatus::kPeerClosed);
  });
}

// Case 4: a producer in another pid namespace (containers sharing /dev/shm) killed with SIGKILL.
// Its pid meant nothing here, so liveness was "unknown" forever: the consumer waited for good and
// a new producer got kRoleTaken. Now the death is seen within a few liveness intervals and a new
// producer takes over.
TEST(LivenessToken, ProducerInAnotherPidNamespaceKilledIsSeenDead) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: runs the producer in a new pid namespace";
  SpscName n;
  const auto o = fast_checks();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  test::ReadyPipe sent;
  const test::ChildResult r = test::run_in_child([&] {
    if (::unshare(CLONE_NEWPID) != 0) return 80;
    const pid_t inner = ::fork();  // pid 1 of the new namespace
    if (inner < 0) return 81;
    if (inner == 0) {
      auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
      if (!tx) ::_exit(10);
      for (std::uint64_t i = 0; i < 5; ++i) {
        auto st = tx->send(word(i));
        if (!st || *st != ChannelStatus::kOk) ::_exit(11);
      }
      sent.signal();
      for (;;) ::pause();
    }
    if (!sent.wait(deadline_after(10s))) return 82;
    ::kill(inner, SIGKILL);
    return test::wait_child(inner).signal == SIGKILL ? 0 : 83;
  });
  ASSERT_TRUE(r.ok()) << r.describe();
  const auto killed = Clock::now();
  EXPECT_EQ(receive_run(rx, 0, 5, 10s), ChannelStatus::kPeerDied);
  EXPECT_LT(Clock::now() - killed, 3s) << "the death took longer than 3 s to see";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, o));
  EXPECT_TRUE(tx.reclaimed());
}

// A forked child shares its parent's open file descriptions; had the token been on a description
// the child inherited, a child outliving its parent would keep the dead parent "alive". The fork
// handler gives the child descriptions of its own: the parent's death is seen while the child lives.
TEST(LivenessToken, AForkedChildDoesNotKeepADeadParentAlive) {
  SpscName n;
  const auto o = fast_checks();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  test::ReadyPipe ready;
  test::ReadyPipe grandchild_pid;
  const pid_t parent = test::spawn_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx) return 10;
    auto st = tx->send(word(0));
    if (!st || *st != ChannelStatus::kOk) return 11;
    const pid_t child = ::fork();  // inherits the producer endpoint and its descriptors
    if (child < 0) return 12;
    if (child == 0) {
      ::sleep(30);  // outlives its parent by far; killed by the test
      ::_exit(0);
    }
    const auto pid = static_cast<std::uint32_t>(child);
    if (::write(grandchild_pid.write_fd(), &pid, sizeof pid) != sizeof pid) return 13;
    ready.signal();
    for (;;) ::pause();
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  std::uint32_t orphan = 0;
  ASSERT_EQ(::read(grandchild_pid.read_fd(), &orphan, sizeof orphan), static_cast<ssize_t>(sizeof orphan));
  ASSERT_EQ(::kill(parent, SIGKILL), 0);
  EXPECT_EQ(test::wait_child(parent).signal, SIGKILL);
  EXPECT_EQ(::kill(static_cast<pid_t>(orphan), 0), 0) << "the forked child must still live during the check";
  EXPECT_EQ(receive_run(rx, 0, 1, 10s), ChannelStatus::kPeerDied);
  ::kill(static_cast<pid_t>(orphan), SIGKILL);  // reparented to init (or a subreaper), which reaps it
}

}  // namespace
}  // namespace ipckit
