// SPDX-License-Identifier: Apache-2.0
// The broadcast channel between real processes: block-policy delivery to several subscriber
// processes, lapse accounting under a concurrent publisher, subscribers and publishers SIGKILLed at
// random points. Waits are blocking / spin-then-futex (never more spinners than CPUs).
// ipckit-test: timeout 120
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "channel/message_check.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using BcName = test::ChannelName<BroadcastChannel>;

BroadcastOptions bopts(BroadcastPolicy p, WaitStrategy w = WaitStrategy::kSpinThenFutex) {
  BroadcastOptions o;
  o.channel.capacity = 1 << 14;
  o.channel.max_message = 240;  // 64 slots of 256 bytes
  o.channel.liveness_interval = 20ms;
  o.channel.wait = w;
  o.channel.spin_iterations = 256;
  o.policy = p;
  o.evict_after = 2s;
  return o;
}

std::vector<std::byte> msg(std::uint64_t seq, std::size_t max) {
  std::vector<std::byte> b(test::message_size(11, seq, max));
  test::fill_message(11, seq, b);
  return b;
}

// Receives until the publisher closes or dies; every message must be the next in order (first =
// the first seq expected). Returns the number received or ~0 on a failure (printed).
std::uint64_t drain_verified(BroadcastSubscriber& s, std::uint64_t first, std::uint64_t die_after = ~0ULL) {
  std::vector<std::byte> buf(s.max_message());
  std::uint64_t expect = first;
  for (;;) {
    if (expect - first == die_after) ::raise(SIGKILL);
    auto r = s.receive_until(buf, deadline_after(20s));
    if (!r) {
      std::fprintf(stderr, "receive: %s\n", r.error().str().c_str());
      return ~0ULL;
    }
    if (r->status == BroadcastStatus::kPeerClosed || r->status == BroadcastStatus::kPeerDied) return expect - first;
    if (r->status != BroadcastStatus::kOk) {
      std::fprintf(stderr, "status %s after %llu\n", to_string(r->status), static_cast<unsigned long long>(expect));
      return ~0ULL;
    }
    const std::uint64_t seq = test::check_message({buf.data(), r->size});
    if (seq != expect) {
      std::fprintf(stderr, "got %llu, expected %llu\n", static_cast<unsigned long long>(seq),
                   static_cast<unsigned long long>(expect));
      return ~0ULL;
    }
    ++expect;
  }
}

TEST(BroadcastProcess, BlockPolicyDeliversEveryMessageToEverySubscriberProcess) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  const std::uint64_t total = test::scaled(30000);
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) {
    test::ReadyPipe ready;
    kids.push_back(test::spawn_child([&] {
      auto s = BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o);
      if (!s) return 10;
      ready.signal();
      return drain_verified(*s, 0) == total ? 0 : 11;
    }));
    ASSERT_TRUE(ready.wait(deadline_after(10s)));
  }
  for (std::uint64_t seq = 0; seq < total; ++seq) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.send_until(msg(seq, o.channel.max_message), deadline_after(10s)));
    ASSERT_EQ(st, BroadcastStatus::kOk) << seq;
  }
  (void)pub.close();
  for (pid_t k : kids) EXPECT_TRUE(test::wait_child(k).ok());
  EXPECT_EQ(pub.counters().evictions, 0u);
}

TEST(BroadcastProcess, LapseAccountingIsExactWithAConcurrentPublisher) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kCreateExclusive, o));
  const std::uint64_t total = test::scaled(50000);
  const pid_t child = test::spawn_child([&] {
    auto pub = BroadcastPublisher::open(n.name, OpenMode::kOpenExisting, o);
    if (!pub) return 10;
    for (std::uint64_t seq = 0; seq < total; ++seq) {
      if (!pub->send(msg(seq, o.channel.max_message))) return 11;
    }
    return 0;
  });
  std::vector<std::byte> buf(o.channel.max_message);
  std::uint64_t expect = 0, received = 0, lost = 0;
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.receive_until(buf, deadline_after(20s)));
    if (r.status == BroadcastStatus::kPeerClosed) break;
    if (r.status == BroadcastStatus::kLapsed) {
      lost += r.lost;
      expect += r.lost;
      continue;
    }
    ASSERT_EQ(r.status, BroadcastStatus::kOk) << to_string(r.status);
    ASSERT_EQ(test::check_message({buf.data(), r.size}), expect) << "never torn, never out of order";
    ++expect;
    ++received;
    if (received % 64 == 0) std::this_thread::yield();  // a slow subscriber
  }
  EXPECT_TRUE(test::wait_child(child).ok());
  EXPECT_EQ(received + lost, total) << "lost = published - received exactly";
  EXPECT_EQ(s.lost(), lost);
}

TEST(BroadcastProcess, SubscribersKilledAtRandomPointsStopHoldingThePublisherBack) {
  std::mt19937_64 rng(42);
  const auto o = bopts(BroadcastPolicy::kBlock, WaitStrategy::kBlocking);
  for (std::size_t round = 0; round < test::scaled(6) + 1; ++round) {
    BcName n;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
    const std::uint64_t total = 2000;
    const std::uint64_t die_after = rng() % 1000;
    test::ReadyPipe r1, r2;
    const pid_t victim = test::spawn_child([&] {
      auto s = BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o);
      if (!s) return 10;
      r1.signal();
      (void)drain_verified(*s, 0, die_after);
      return 12;  // not reached: killed itself
    });
    ASSERT_TRUE(r1.wait(deadline_after(10s)));
    const pid_t good = test::spawn_child([&] {
      auto s = BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o);
      if (!s) return 10;
      r2.signal();
      return drain_verified(*s, 0) == total ? 0 : 11;
    });
    ASSERT_TRUE(r2.wait(deadline_after(10s)));
    for (std::uint64_t seq = 0; seq < total; ++seq) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.send_until(msg(seq, o.channel.max_message), deadline_after(10s)));
      ASSERT_EQ(st, BroadcastStatus::kOk) << seq;
    }
    // It died before message 1000 of 2000 with a 64-slot ring: the publisher found it dead while
    // waiting for it, dropped it and removed its object (no eviction needed).
    const auto c = pub.counters();
    EXPECT_EQ(c.dead_removed, 1u);
    EXPECT_EQ(c.evictions, 0u) << "dead, not evicted";
    EXPECT_EQ(c.subscribers, 1u);
    (void)pub.close();
    const auto vr = test::wait_child(victim);
    EXPECT_EQ(vr.signal, SIGKILL) << vr.describe();
    EXPECT_TRUE(test::wait_child(good).ok());
  }
}

TEST(BroadcastProcess, PublisherKilledAtRandomPointsNeverExposesATornMessage) {
  std::mt19937_64 rng(7);
  const auto o = bopts(BroadcastPolicy::kBlock, WaitStrategy::kBlocking);
  for (std::size_t round = 0; round < test::scaled(6) + 1; ++round) {
    BcName n;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kCreateExclusive, o));
    test::ReadyPipe started;
    const pid_t child = test::spawn_child([&] {
      auto pub = BroadcastPublisher::open(n.name, OpenMode::kOpenExisting, o);
      if (!pub) return 10;
      started.signal();
      for (std::uint64_t seq = 0;; ++seq) {
        if (!pub->send(msg(seq, o.channel.max_message))) return 11;
      }
    });
    ASSERT_TRUE(started.wait(deadline_after(10s)));
    std::vector<std::byte> buf(o.channel.max_message);
    const std::uint64_t kill_at = rng() % 3000;
    std::uint64_t expect = 0;
    bool killed = false;
    for (;;) {
      if (!killed && expect == kill_at) {
        ::kill(child, SIGKILL);
        killed = true;
      }
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.receive_until(buf, deadline_after(20s)));
      if (r.status == BroadcastStatus::kPeerDied) break;
      ASSERT_EQ(r.status, BroadcastStatus::kOk) << to_string(r.status);
      ASSERT_EQ(test::check_message({buf.data(), r.size}), expect);
      ++expect;
    }
    EXPECT_TRUE(killed);
    EXPECT_EQ(test::wait_child(child).signal, SIGKILL);
    // A new publisher takes the role over and continues exactly after the last complete message.
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kOpenExisting, o));
    EXPECT_TRUE(pub.reclaimed());
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(msg(expect, o.channel.max_message)));
    ASSERT_EQ(st, BroadcastStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
    ASSERT_EQ(r.status, BroadcastStatus::kOk);
    EXPECT_EQ(test::check_message({buf.data(), r.size}), expect);
  }
}

}  // namespace
}  // namespace ipckit
