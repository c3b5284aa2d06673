// SPDX-License-Identifier: Apache-2.0
// Every wait in the sync layer under a storm of signals whose handler does NOT set SA_RESTART:
// EINTR must be retried, timed waits must keep their absolute deadline (never end early, never
// report an error), and blocking waits must still complete. Runs in a forked child so the handler and
// the interval timer never touch the gtest process.
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/signal/signal_handler.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "ipckit/sync/futex.hpp"
#include "ipckit/sync/semaphore.hpp"
#include "ipckit/sync/sysv_semaphore.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_alarms{0};
void on_alarm(int, siginfo_t*, void*) { g_alarms.fetch_add(1); }

constexpr auto kWait = 40ms;

// Runs one timed wait that must time out; returns 0 when it did so without error and not early.
template <class F>
int times_out_cleanly(const char* what, F&& wait) {
  const int before = g_alarms.load();
  const auto start = Clock::now();
  const int rc = wait();
  const auto took = Clock::now() - start;
  if (rc != 0) {
    std::fprintf(stderr, "%s: failed (%d)\n", what, rc);
    return rc;
  }
  if (took < kWait) {
    std::fprintf(stderr, "%s: ended early\n", what);
    return 50;
  }
  if (g_alarms.load() == before) {
    std::fprintf(stderr, "%s: no signal arrived during the wait\n", what);
    return 51;
  }
  return 0;
}

TEST(Eintr, TimedAndBlockingWaitsSurviveASignalStorm) {
  const std::string sem_name = test::unique_name();
  test::TempDir dir;
  auto child = test::run_in_child([&]() -> int {
    auto handler = ScopedSignalHandler::install(SIGALRM, on_alarm, Restart::kNo);
    if (!handler) return 2;
    itimerval every{{0, 1000}, {0, 1000}};  // a signal every millisecond
    if (::setitimer(ITIMER_REAL, &every, nullptr) != 0) return 3;
    int rc = 0;

    auto named = NamedSemaphore::open(sem_name, OpenMode::kCreateExclusive, 0);
    if (!named) return 4;
    (void)NamedSemaphore::unlink(sem_name);  // the handle keeps working; nothing to leak
    rc |= times_out_cleanly("NamedSemaphore::wait_for", [&] {
      auto r = named->wait_for(kWait);
      return !r ? 10 : (*r != IoStatus::kTimedOut ? 11 : 0);
    });

    auto map = Mapping::anonymous(4096);
    if (!map) return 5;
    auto shared = SharedSemaphore::create_at(map->data(), 0);
    if (!shared) return 6;
    rc |= times_out_cleanly("SharedSemaphore::wait_for", [&] {
      auto r = (*shared)->wait_for(kWait);
      return !r ? 12 : (*r != IoStatus::kTimedOut ? 13 : 0);
    });

    auto set = SysvSemaphoreSet::create(IPC_PRIVATE, 1);
    if (!set) return 7;
    const SemOp take[] = {{0, -1, false}};
    rc |= times_out_cleanly("SysvSemaphoreSet::apply_for", [&] {
      auto r = set->apply_for(take, kWait);
      return !r ? 14 : (*r != IoStatus::kTimedOut ? 15 : 0);
    });
    (void)set->remove();

    std::uint32_t* futex_word = static_cast<std::uint32_t*>(map->data()) + 16;  // past the semaphore
    rc |= times_out_cleanly("futex_wait_for", [&] {
      auto r = futex_wait_for(*futex_word, 0, kWait);
      return !r ? 16 : (*r == FutexWait::kTimedOut ? 0 : 17);
    });

    auto ev = EventFd::create();
    if (!ev) return 8;
    rc |= times_out_cleanly("EventFd::read_for", [&] {
      auto r = ev->read_for(kWait);
      return !r ? 18 : (r->has_value() ? 19 : 0);
    });

    const std::string path = dir.file("lock");
    UniqueFd a(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    UniqueFd b(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    auto held = FileLock::lock(a.get(), LockSpec{LockStyle::kOfd, LockKind::kExclusive}, path);
    if (!held) return 9;
    rc |= times_out_cleanly("FileLock::lock_for", [&] {
      auto r = FileLock::lock_for(b.get(), LockSpec{LockStyle::kOfd, LockKind::kExclusive}, kWait, path);
      return !r ? 20 : (r->has_value() ? 21 : 0);
    });

    // A blocking wait (no deadline) completes once a post arrives, however many EINTRs come first.
    std::thread poster([&] {
      auto mask = ScopedSignalMask::block(SignalSet{SIGALRM});  // keep the signals on the waiter
      const int start = g_alarms.load();
      while (g_alarms.load() < start + 5) std::this_thread::yield();
      (void)named->post();
    });
    auto w = named->wait();
    poster.join();
    if (!w) rc |= 22;

    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    return rc;
  });
  (void)NamedSemaphore::unlink(sem_name);  // in case the child failed before unlinking
  EXPECT_TRUE(child.ok()) << child.describe();
}

}  // namespace
}  // namespace ipckit
