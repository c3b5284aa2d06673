// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// mq_notify in every mode (signal with value, thread) and every rule: fires only on empty ->
// non-empty, once per registration; one process per queue (EBUSY); NULL deregisters; no
// notification while another process is blocked in mq_receive.
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <thread>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

// Opens a queue that must exist (the default OpenMode is kCreateExclusive).
MqOptions existing_opts() {
  MqOptions o;
  o.open = OpenMode::kOpenExisting;
  return o;
}

using namespace std::chrono_literals;

const int kSig = SIGRTMIN + 3;

// Blocks kSig for the test (so notifications stay pending and are read with sigtimedwait) and
// discards any left over when the test ends.
class BlockedSignal {
 public:
  BlockedSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, kSig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~BlockedSignal() {
    while (take(0ms)) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  // The sigval of a pending/arriving kSig, or nullopt when none comes within `wait`.
  std::optional<int> take(std::chrono::milliseconds wait) {
    timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1'000'000};
    siginfo_t info{};
    for (;;) {
      const int s = ::sigtimedwait(&set_, &info, &ts);
      if (s == kSig) return info.si_value.sival_int;
      if (s < 0 && errno == EINTR) continue;
      return std::nullopt;
    }
  }

 private:
  sigset_t set_{};
  sigset_t old_{};
};

struct Queue {
  std::string name = test::unique_name();
  PosixMq q;
  Queue() {
    MqOptions o;
    o.open = OpenMode::kCreateExclusive;
    o.attributes = {4, 32};
    auto r = PosixMq::open(name, o);
    EXPECT_TRUE(r.has_value()) << r.error().str();
    if (r) q = std::move(*r);
  }
  ~Queue() { (void)PosixMq::unlink(name); }
};

TEST(PosixMqNotify, SignalCarriesValueAndFiresOncePerRegistration) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 1234));
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("a")));
  EXPECT_EQ(sig.take(5s), 1234);
  // Fired once: the registration is gone, a send to an empty queue no longer notifies.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto a, qq.q.try_receive());
  ASSERT_TRUE(a.has_value());
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("b")));
  EXPECT_EQ(sig.take(0ms), std::nullopt);
  // Re-registering works (and a second registration by the same process replaces the first).
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto b, qq.q.try_receive());
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 7));
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 8));
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("c")));
  EXPECT_EQ(sig.take(5s), 8);
}

TEST(PosixMqNotify, FiresOnlyOnEmptyToNonEmpty) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("already there")));
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 1));
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("second")));  // non-empty -> non-empty: no notification
  EXPECT_EQ(sig.take(0ms), std::nullopt);
  while (true) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, qq.q.try_receive());
    if (!m) break;
  }
  EXPECT_EQ(sig.take(0ms), std::nullopt);
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("third")));  // empty -> non-empty: notification
  EXPECT_EQ(sig.take(5s), 1);
}

TEST(PosixMqNotify, SignalFromAnotherProcessesSend) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 99));
  auto child = test::run_in_child([&]() -> int {
    auto w = PosixMq::open(qq.name, existing_opts());
    return w && w->send(as_bytes("from child")) ? 0 : 1;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  EXPECT_EQ(sig.take(5s), 99);
}

TEST(PosixMqNotify, ThreadCallbackRunsOnce) {
  Queue qq;
  UniqueFd ev(::eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(ev.valid());
  const int evfd = ev.get();
  IPCKIT_ASSERT_OK(qq.q.notify_thread([evfd] {
    const std::uint64_t one = 1;
    (void)!::write(evfd, &one, sizeof one);
  }));
  auto child = test::run_in_child([&]() -> int {
    auto w = PosixMq::open(qq.name, existing_opts());
    return w && w->send(as_bytes("x")) ? 0 : 1;
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus fired, wait_readable(evfd, deadline_after(10s)));
  ASSERT_EQ(fired, IoStatus::kOk);
  std::uint64_t count = 0;
  ASSERT_EQ(::read(evfd, &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 1u);
  // Once per registration: drain and send again, nothing more arrives.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, qq.q.try_receive());
  ASSERT_TRUE(m.has_value());
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("y")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus again, wait_readable(evfd, deadline_after(100ms)));
  EXPECT_EQ(again, IoStatus::kTimedOut);
}

TEST(PosixMqNotify, SecondProcessGetsEbusyClearly) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 1));
  const std::string name = qq.name;
  auto child = test::run_in_child([&]() -> int {
    auto other = PosixMq::open(name, existing_opts());
    if (!other) return 1;
    auto r = other->notify_signal(SIGUSR2, 2);
    if (r) return 2;
    const std::string text = r.error().str();
    return text.find("mq_notify(\"" + name + "\"): EBUSY: another process is registered") == 0 ? 0 : 3;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  // After we deregister, another process may register.
  IPCKIT_ASSERT_OK(qq.q.cancel_notification());
  auto child2 = test::run_in_child([&]() -> int {
    auto other = PosixMq::open(name, existing_opts());
    return other && other->notify_signal(SIGUSR2, 2) ? 0 : 1;
  });
  EXPECT_TRUE(child2.ok()) << child2.describe();
}

TEST(PosixMqNotify, NullRegistrationDeregisters) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 5));
  IPCKIT_ASSERT_OK(qq.q.cancel_notification());
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("a")));
  EXPECT_EQ(sig.take(0ms), std::nullopt);
  // A thread callback cancelled before it fires never runs either.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto drained, qq.q.try_receive());
  int runs = 0;
  IPCKIT_ASSERT_OK(qq.q.notify_thread([&runs] { ++runs; }));
  IPCKIT_ASSERT_OK(qq.q.cancel_notification());
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("b")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto b, qq.q.receive());
  EXPECT_EQ(runs, 0);
}

// The syscall a process is blocked in, from /proc/PID/syscall (first field), or -1.
long blocked_syscall(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  f >> nr;
  return f ? nr : -1;
}

TEST(PosixMqNotify, NoNotificationWhileAnotherProcessIsBlockedInReceive) {
  BlockedSignal sig;
  Queue qq;
  IPCKIT_ASSERT_OK(qq.q.notify_signal(kSig, 11));
  test::ReadyPipe got;
  const std::string name = qq.name;
  const pid_t child = test::spawn_child([&]() -> int {
    auto r = PosixMq::open(name, existing_opts());
    if (!r) return 1;
    auto m = r->receive();  // blocks on the empty queue
    if (!m || m->data != "for the receiver") return 2;
    got.signal();
    return 0;
  });
  // Wait until the child is really blocked in mq_timedreceive (no sleeping: poll its state).
  const Deadline limit = deadline_after(20s);
  while (blocked_syscall(child) != SYS_mq_timedreceive && Clock::now() < limit) {
    std::this_thread::yield();
  }
  ASSERT_EQ(blocked_syscall(child), SYS_mq_timedreceive);
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("for the receiver")));
  ASSERT_TRUE(got.wait(deadline_after(10s)));
  EXPECT_TRUE(test::wait_child(child).ok());
  EXPECT_EQ(sig.take(0ms), std::nullopt);  // the message went to the blocked receiver, no signal
  // The registration remains in effect: the next empty -> non-empty transition notifies.
  IPCKIT_ASSERT_OK(qq.q.send(as_bytes("next")));
  EXPECT_EQ(sig.take(5s), 11);
}

}  // namespace
}  // namespace ipckit
