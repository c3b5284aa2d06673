// SPDX-License-Identifier: Apache-2.0
// Every test runs its signal work in a forked child, so masks, handlers and pending signals never
// leak into the gtest process (or into other tests).
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/signal/send.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_handler.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/signal/signal_set.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// In a child: turn a failed Result into a distinct exit code, printing why.
#define CHILD_OK(expr, code)                                                   \
  do {                                                                         \
    auto&& r_ = (expr);                                                        \
    if (!r_) {                                                                 \
      std::fprintf(stderr, "%s: %s\n", #expr, r_.error().str().c_str());       \
      return code;                                                             \
    }                                                                          \
  } while (0)

void expect_child_ok(const test::ChildResult& r) { EXPECT_TRUE(r.ok()) << r.describe(); }

TEST(Signals, RealtimeSignalsQueueOnePerSendWithPayloadsInOrder) {
  const int n = static_cast<int>(test::scaled(200));
  expect_child_ok(test::run_in_child([&] {
    auto rt = realtime_signal(1);
    CHILD_OK(rt, 2);
    auto mask = ScopedSignalMask::block(SignalSet{*rt});
    CHILD_OK(mask, 3);
    auto sfd = SignalFd::create(SignalSet{*rt});
    CHILD_OK(sfd, 4);
    for (int i = 0; i < n; ++i) CHILD_OK(queue_signal(::getpid(), *rt, i * 7 - 3), 5);
    for (int i = 0; i < n; ++i) {
      auto info = sfd->try_read();
      CHILD_OK(info, 6);
      if (!info->has_value()) return 7;  // a send was lost
      if ((*info)->signo != *rt || (*info)->code != SI_QUEUE) return 8;
      if ((*info)->int_value != i * 7 - 3) return 9;  // payloads arrive intact and in order
    }
    auto extra = sfd->try_read();
    CHILD_OK(extra, 10);
    return extra->has_value() ? 11 : 0;
  }));
}

TEST(Signals, StandardSignalSentManyTimesWhileBlockedArrivesOnce) {
  const int n = static_cast<int>(test::scaled(50)) + 1;
  expect_child_ok(test::run_in_child([&] {
    auto mask = ScopedSignalMask::block(SignalSet{SIGUSR1});
    CHILD_OK(mask, 2);
    auto sfd = SignalFd::create(SignalSet{SIGUSR1});
    CHILD_OK(sfd, 3);
    for (int i = 0; i < n; ++i) CHILD_OK(send_signal(::getpid(), SIGUSR1), 4);
    if (!pending_signals().contains(SIGUSR1)) return 5;
    auto first = sfd->try_read();
    CHILD_OK(first, 6);
    if (!first->has_value() || (*first)->signo != SIGUSR1 || (*first)->code != SI_USER) return 7;
    auto second = sfd->try_read();
    CHILD_OK(second, 8);
    return second->has_value() ? 9 : 0;  // standard signals do not queue
  }));
}

std::atomic<int> g_handled_value{0};
std::atomic<int> g_handled_code{0};
std::atomic<int> g_handled_count{0};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

void record_handler(int, siginfo_t* info, void*) {
  g_handled_value.store(info->si_value.sival_int);
  g_handled_code.store(info->si_code);
  g_handled_count.fetch_add(1);
}

TEST(Signals, HandlerGetsTheIntPayloadAndIsRemovedAtScopeEnd) {
  expect_child_ok(test::run_in_child([&] {
    auto rt = realtime_signal(2);
    CHILD_OK(rt, 2);
    {
      auto handler = ScopedSignalHandler::install(*rt, record_handler, Restart::kYes);
      CHILD_OK(handler, 3);
      {
        auto mask = ScopedSignalMask::block(SignalSet{*rt});
        CHILD_OK(mask, 4);
        CHILD_OK(queue_signal(::getpid(), *rt, -123456789), 5);
        if (g_handled_count.load() != 0) return 6;  // blocked: not delivered yet
      }  // unblocking delivers the pending signal before pthread_sigmask returns
      if (g_handled_count.load() != 1) return 7;
      if (g_handled_value.load() != -123456789 || g_handled_code.load() != SI_QUEUE) return 8;
    }
    struct sigaction now {};
    if (::sigaction(*rt, nullptr, &now) != 0 || now.sa_handler != SIG_DFL) return 9;  // restored
    return 0;
  }));
}

TEST(Signals, PointerSizedPayloadCrossesProcessesIntact) {
  const std::vector<std::uintptr_t> payloads{0, 1, UINTPTR_MAX, static_cast<std::uintptr_t>(0xdeadbeefcafef00dULL),
                                             reinterpret_cast<std::uintptr_t>(&payloads)};
  const pid_t parent = ::getpid();
  test::ReadyPipe ready;
  auto rt = realtime_signal(3);
  ASSERT_TRUE(rt.has_value());
  const pid_t pid = test::spawn_child([&] {
    // Block before announcing readiness, so no signal can arrive unblocked.
    auto mask = ScopedSignalMask::block(SignalSet{*rt});
    CHILD_OK(mask, 2);
    auto sfd = SignalFd::create(SignalSet{*rt});
    CHILD_OK(sfd, 3);
    ready.signal();
    for (std::uintptr_t want : payloads) {
      auto info = sfd->read_for(10s);
      CHILD_OK(info, 4);
      if (!info->has_value()) return 5;
      if ((*info)->ptr_value != static_cast<std::uint64_t>(want)) return 6;
      if ((*info)->sender_pid != parent || (*info)->sender_uid != ::getuid()) return 7;
    }
    return 0;
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  for (std::uintptr_t p : payloads) IPCKIT_ASSERT_OK(queue_signal_ptr(pid, *rt, p));
  expect_child_ok(test::wait_child(pid));
  // The receiver is gone now: sending to its reaped pid is ESRCH, named in the error.
  EXPECT_TRUE(test::FailsWith(queue_signal(pid, *rt, 1), {"sigqueue(pid " + std::to_string(pid) + ", SIGRTMIN+3): ESRCH"}));
}

TEST(Signals, SignalFdIsReadableInEpollAndTimesOut) {
  expect_child_ok(test::run_in_child([&] {
    auto mask = ScopedSignalMask::block(SignalSet{SIGUSR2});
    CHILD_OK(mask, 2);
    auto sfd = SignalFd::create(SignalSet{SIGUSR2});
    CHILD_OK(sfd, 3);
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event e{};
    e.events = EPOLLIN;
    if (!ep || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, sfd->native_handle(), &e) != 0) return 4;
    epoll_event out{};
    if (::epoll_wait(ep.get(), &out, 1, 0) != 0) return 5;  // nothing pending
    const auto start = Clock::now();
    auto none = sfd->read_for(30ms);
    CHILD_OK(none, 6);
    if (none->has_value() || Clock::now() - start < 30ms) return 7;  // lower bound only
    CHILD_OK(send_signal(::getpid(), SIGUSR2), 8);
    if (::epoll_wait(ep.get(), &out, 1, 10'000) != 1 || (out.events & EPOLLIN) == 0) return 9;
    auto info = sfd->read();
    CHILD_OK(info, 10);
    return info->signo == SIGUSR2 ? 0 : 11;
  }));
}

TEST(Signals, SignalFdRefusesSignalsThatAreNotBlocked) {
  expect_child_ok(test::run_in_child([&] {
    auto sfd = SignalFd::create(SignalSet{SIGUSR1});
    if (sfd) return 2;
    if (sfd.error().str().find("signalfd(SIGUSR1): invalid argument: the signal is not blocked") == std::string::npos) {
      std::fprintf(stderr, "%s\n", sfd.error().str().c_str());
      return 3;
    }
    return 0;
  }));
}

TEST(Signals, ScopedMasksNestAndRestore) {
  expect_child_ok(test::run_in_child([&] {
    if (blocked_signals().contains(SIGUSR1)) return 2;
    {
      auto outer = ScopedSignalMask::block(SignalSet{SIGUSR1, SIGUSR2});
      CHILD_OK(outer, 3);
      {
        auto inner = ScopedSignalMask::unblock(SignalSet{SIGUSR2});
        CHILD_OK(inner, 4);
        const SignalSet now = blocked_signals();
        if (!now.contains(SIGUSR1) || now.contains(SIGUSR2)) return 5;
      }
      const SignalSet now = blocked_signals();
      if (!now.contains(SIGUSR1) || !now.contains(SIGUSR2)) return 6;
    }
    const SignalSet now = blocked_signals();
    return now.contains(SIGUSR1) || now.contains(SIGUSR2) ? 7 : 0;
  }));
}

std::atomic<int> g_alarms{0};
void count_alarm(int, siginfo_t*, void*) { g_alarms.fetch_add(1); }

// A read() on an empty pipe while SIGALRM fires every 2 ms: with Restart::kNo it fails with EINTR;
// with Restart::kYes the kernel restarts it and it returns the byte a thread writes after 3 alarms.
int read_under_alarms(Restart restart) {
  g_alarms.store(0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 20;
  UniqueFd r(fds[0]), w(fds[1]);
  auto handler = ScopedSignalHandler::install(SIGALRM, count_alarm, restart);
  CHILD_OK(handler, 21);
  auto flag = restarts_syscalls(SIGALRM);
  CHILD_OK(flag, 22);
  if (*flag != (restart == Restart::kYes)) return 23;
  std::thread writer([&] {
    // SIGALRM is process-directed: keep it off this thread so it interrupts the reader.
    auto mask = ScopedSignalMask::block(SignalSet{SIGALRM});
    while (g_alarms.load() < 3) std::this_thread::yield();
    if (restart == Restart::kYes) (void)!::write(w.get(), "x", 1);
  });
  itimerval every{{0, 2000}, {0, 2000}};
  ::setitimer(ITIMER_REAL, &every, nullptr);
  char c = 0;
  const ssize_t n = ::read(r.get(), &c, 1);  // raw read on purpose: ipckit's own reads retry EINTR
  const int err = errno;
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  if (restart == Restart::kNo) g_alarms.store(3);  // release the writer if it is still waiting
  writer.join();
  if (restart == Restart::kNo) return n == -1 && err == EINTR ? 0 : 24;
  return n == 1 && c == 'x' ? 0 : 25;
}

TEST(Signals, RestartIsAnExplicitChoiceWithVisibleEffect) {
  expect_child_ok(test::run_in_child([] { return read_under_alarms(Restart::kNo); }));
  expect_child_ok(test::run_in_child([] { return read_under_alarms(Restart::kYes); }));
}

TEST(Signals, FullSignalQueueNamesRlimitSigpending) {
  expect_child_ok(test::run_in_child([&] {
    // The limit applies to root too (no capability bypasses it), and is per real user: other
    // processes' pending signals may count, so only "EAGAIN within a few sends" is asserted.
    rlimit small{4, 4};
    if (::setrlimit(RLIMIT_SIGPENDING, &small) != 0) return 2;
    auto rt = realtime_signal(4);
    CHILD_OK(rt, 3);
    // Ignored, so the signals still pending when the mask scope ends are discarded instead of killing
    // us (blocked signals are queued even when ignored).
    auto ignored = ScopedSignalHandler::ignore(*rt);
    CHILD_OK(ignored, 7);
    auto mask = ScopedSignalMask::block(SignalSet{*rt});
    CHILD_OK(mask, 4);
    for (int i = 0; i < 64; ++i) {
      auto r = queue_signal(::getpid(), *rt, i);
      if (r) continue;
      const std::string text = r.error().str();
      if (text.find("EAGAIN") != std::string::npos && text.find("RLIMIT_SIGPENDING (4") != std::string::npos) return 0;
      std::fprintf(stderr, "%s\n", text.c_str());
      return 5;
    }
    return 6;
  }));
  EXPECT_TRUE(test::FailsWith(realtime_signal(1000), {"SIGRTMIN+1000", "invalid argument", "real-time signals here are"}));
}

}  // namespace
}  // namespace ipckit
