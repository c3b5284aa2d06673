// SPDX-License-Identifier: Apache-2.0
// Proof that the busy-poll send/receive path makes no heap allocation and no system call after
// setup: a forked child opens both ends, counts operator new, installs a seccomp filter that kills
// the process on any syscall but exit_group, then moves messages with every fast-path call.
// Skipped under sanitizers (their runtimes allocate and make syscalls of their own).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include <gtest/gtest.h>

#if defined(IPCKIT_HAVE_SECCOMP)
#include <seccomp.h>
#endif

#include "channel/message_check.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/channel/typed.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (this test binary only). g++ pairs the
// inlined malloc of our operator new with the free of our operator delete and warns about a
// mismatch that is not one: both sides are replaced together.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using ChannelName = test::ChannelName<SpscChannel>;

TEST(NoSyscall, AllocationCounterSeesAllocations) {
  // The counter is real: a std::string of 100 chars allocates.
  const auto before = g_allocations.load();
  std::string s(100, 'x');
  EXPECT_GT(g_allocations.load(), before);
  EXPECT_EQ(s.size(), 100u);
}

TEST(NoSyscall, BusyPollSendReceiveMakeNoSyscallAndNoAllocation) {
#if !defined(IPCKIT_HAVE_SECCOMP)
  GTEST_SKIP() << "built without libseccomp";
#else
  if (test::under_sanitizer()) GTEST_SKIP() << "sanitizer runtimes allocate and make syscalls";
  ChannelName n;
  auto child = test::run_in_child([&]() -> int {
    ChannelOptions o;
    o.capacity = 1 << 16;
    o.max_message = 1024;
    o.wait = WaitStrategy::kBusyPoll;
    o.liveness_interval = std::chrono::hours(1);  // no /proc read inside the measured window
    auto tx = SpscProducer::open(n.name, OpenMode::kCreateExclusive, o);
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx || !rx) return 1;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == nullptr) return 2;
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) != 0) return 3;
    const std::uint64_t allocations_before = g_allocations.load();
    if (seccomp_load(ctx) != 0) return 4;
    // From here on any syscall kills the child with SIGSYS, and the exit code reports allocations.
    std::byte buf[1024];
    std::uint64_t bad = 0;
    std::uint64_t next = 0;  // next sequence number expected by the consumer
    for (std::uint64_t seq = 0; seq < 100000; ++seq) {
      const std::size_t size = test::message_size(3, seq, 1024);
      const bool publish = seq % 8 == 7;
      if (seq % 2 == 0) {  // zero-copy
        auto r = tx->reserve(size);
        if (!r || !*r) return 5;
        test::fill_message(3, seq, r->data);
        if (!tx->commit(publish)) return 5;
      } else {  // copying
        test::fill_message(3, seq, std::span(buf).first(size));
        auto st = tx->try_send(std::span(buf).first(size), publish);
        if (!st || *st != ChannelStatus::kOk) return 5;
      }
      if (!publish) continue;
      // Drain the batch: the waiting receive (data is there: it returns at once), the zero-copy
      // try_receive and the copying receive; finally an empty try_receive.
      while (next <= seq) {
        if (next % 3 == 2) {
          auto c = rx->try_receive(std::span(buf));
          if (!c || !*c || test::check_message(std::span(buf).first(c->size)) != next) ++bad;
        } else {
          auto v = next % 3 == 0 ? rx->receive() : rx->try_receive();
          if (!v || !*v || test::check_message(v->data) != next) ++bad;
          if (!rx->release()) ++bad;
        }
        ++next;
      }
      auto empty = rx->try_receive();
      if (!empty || empty->status != ChannelStatus::kWouldBlock) ++bad;
    }
    if (rx->counters().received != next) ++bad;
    const std::uint64_t allocations = g_allocations.load() - allocations_before;
    ::_exit(bad != 0 ? 7 : allocations != 0 ? 6 : 0);  // exit_group is the one syscall allowed
  });
  EXPECT_TRUE(child.ok()) << child.describe()
                          << " (SIGSYS: a syscall on the fast path; exit 6: an allocation; 5/7: a failed call or bad message)";
  EXPECT_NE(child.signal, SIGSYS);
#endif
}

}  // namespace
}  // namespace ipckit
