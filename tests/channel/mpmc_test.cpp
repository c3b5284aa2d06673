// SPDX-License-Identifier: Apache-2.0
// The MPMC channel inside one process: the API contract (sizes, full and empty rings, zero-copy,
// errors), abandoned slots on close, and producers and consumers in threads, run here so
// ThreadSanitizer checks the slot protocol's memory orders (payloads are plain memory published by
// release/acquire on the slot words).
// ipckit-test: tsan
// ipckit-test: resource-lock cpu-spin
// (threads spin then sleep: never more spinning threads than the 2 CPUs of CI machines for long)
#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "channel/message_check.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using ChannelName = test::ChannelName<MpmcChannel>;

ChannelOptions small(WaitStrategy wait = WaitStrategy::kSpinThenFutex) {
  ChannelOptions o;
  o.capacity = 1 << 15;   // 16 KiB member table + 16 KiB of slots
  o.max_message = 240;    // 256-byte slots: 64 of them
  o.wait = wait;
  o.spin_iterations = 256;
  o.liveness_interval = 20ms;
  return o;
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

TEST(Mpmc, SlotsArePowerOfTwoAfterTheMemberTable) {
  EXPECT_EQ(MpmcChannel::slots_for(1 << 15, 240), 64u);
  EXPECT_EQ(MpmcChannel::slots_for(1 << 20, 64), 4096u);   // 128-byte slots: (1 MiB - 16 KiB) / 128 = 8064, floored
  EXPECT_EQ(MpmcChannel::slots_for(1 << 14, 64), 0u);      // only the member table fits
}

TEST(Mpmc, MessagesOfEverySizeRoundTripInOrderWithOneOfEach) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  EXPECT_EQ(tx.slots(), 64u);
  std::vector<std::byte> buf(rx.max_message());
  for (std::size_t size = 0; size <= 240; ++size) {
    std::vector<std::byte> m(size);
    for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::byte>(size + i);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.send(m));
    ASSERT_EQ(st, ChannelStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx.try_receive(buf));
    ASSERT_EQ(r.status, ChannelStatus::kOk);
    ASSERT_EQ(r.size, size);
    EXPECT_FALSE(r.redelivered);
    if (size != 0) {
      EXPECT_EQ(std::memcmp(buf.data(), m.data(), size), 0) << size;
    }
  }
  const auto c = rx.counters();
  EXPECT_EQ(c.sent, 241u);
  EXPECT_EQ(c.received, 241u);
}

TEST(Mpmc, FullRingIsWouldBlockAndFreesSlotByEmptySlot) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  for (std::uint64_t i = 0; i < tx.slots(); ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(bytes(std::to_string(i))));
    ASSERT_EQ(st, ChannelStatus::kOk) << i;
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto full, tx.try_send(bytes("x")));
  EXPECT_EQ(full, ChannelStatus::kWouldBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto timed, tx.send_until(bytes("x"), deadline_after(30ms)));
  EXPECT_EQ(timed, ChannelStatus::kTimedOut);
  // Laps: drain and refill three times; order is kept with one producer and one consumer.
  std::uint64_t next = 0, sent = tx.slots();
  for (int lap = 0; lap < 3; ++lap) {
    for (std::uint64_t i = 0; i < tx.slots(); ++i) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
      ASSERT_EQ(v.status, ChannelStatus::kOk);
      EXPECT_EQ(text(v.data), std::to_string(next++));
      ASSERT_TRUE(rx.release());
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(bytes(std::to_string(sent++))));
      ASSERT_EQ(st, ChannelStatus::kOk);
    }
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto still_full, tx.try_send(bytes("x")));
  EXPECT_EQ(still_full, ChannelStatus::kWouldBlock);
}

TEST(Mpmc, EmptyRingIsWouldBlockThenTimeout) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kCreateExclusive, small()));
  std::vector<std::byte> buf(rx.max_message());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto a, rx.try_receive(buf));
  EXPECT_EQ(a.status, ChannelStatus::kWouldBlock);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto b, rx.receive_until(buf, deadline_after(40ms)));
  EXPECT_EQ(b.status, ChannelStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 40ms);
}

TEST(Mpmc, ErrorsNameWhatWasWrong) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  std::vector<std::byte> big(241);
  EXPECT_TRUE(test::FailsWith(tx.send(big), {"241", "max_message 240"}));
  std::vector<std::byte> tiny(10);
  IPCKIT_ASSERT_OK(tx.send(bytes("hello")));
  EXPECT_TRUE(test::FailsWith(rx.receive(tiny), {"buffer of 10 bytes", "240"}));
  // The message was not taken by the failed call.
  std::vector<std::byte> buf(240);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx.try_receive(buf));
  ASSERT_EQ(r.status, ChannelStatus::kOk);
  EXPECT_EQ(text({buf.data(), r.size}), "hello");
  EXPECT_TRUE(test::FailsWith(tx.commit(), {"nothing reserved"}));
  EXPECT_TRUE(test::FailsWith(rx.release(), {"nothing to release"}));
  IPCKIT_ASSERT_OK(tx.send(bytes("again")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
  ASSERT_EQ(v.status, ChannelStatus::kOk);
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"release()"}));
  ASSERT_TRUE(rx.release());
}

TEST(Mpmc, CreationWithTooFewSlotsIsRefusedWithTheArithmetic) {
  ChannelName n;
  ChannelOptions o = small();
  o.capacity = 1 << 14;
  EXPECT_TRUE(test::FailsWith(MpmcProducer::open(n.name, OpenMode::kCreateExclusive, o), {"member table", "at least 2", "raise capacity"}));
}

TEST(Mpmc, OtherPatternsRefuseTheObjectAndItRefusesThem) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  ChannelOptions o = small();
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, o), {"mpmc channel", "not spsc"}));
  ChannelName s;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto spsc, SpscProducer::open(s.name, OpenMode::kCreateExclusive, o));
  EXPECT_TRUE(test::FailsWith(MpmcConsumer::open(s.name, OpenMode::kOpenExisting, o), {"spsc channel", "not mpmc"}));
  (void)SpscChannel::unlink(s.name);
}

TEST(Mpmc, ZeroCopyReserveCommitSizeAndReceiveView) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, tx.reserve(100));
  ASSERT_EQ(r.status, ChannelStatus::kOk);
  ASSERT_EQ(r.data.size(), 100u);
  // A second reserve before commit keeps the slot and takes the new size.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, tx.reserve(200));
  EXPECT_EQ(r2.data.data(), r.data.data());
  std::memcpy(r2.data.data(), "zero-copy", 9);
  EXPECT_TRUE(test::FailsWith(tx.commit_size(201), {"201", "200"}));
  IPCKIT_ASSERT_OK(tx.commit_size(9));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive());
  ASSERT_EQ(v.status, ChannelStatus::kOk);
  EXPECT_EQ(text(v.data), "zero-copy");
  IPCKIT_ASSERT_OK(rx.release());
}

TEST(Mpmc, ReservationAbandonedByCloseIsSkippedNeverDelivered) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kCreateExclusive, small()));
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, tx.reserve(50));
    std::memset(r.data.data(), 'x', 50);
  }  // closed without commit
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK(tx.send(bytes("after")));
  std::vector<std::byte> buf(240);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx.receive_until(buf, deadline_after(2s)));
  ASSERT_EQ(r.status, ChannelStatus::kOk);
  EXPECT_EQ(text({buf.data(), r.size}), "after");
  EXPECT_EQ(rx.counters().skipped, 1u);
}

TEST(Mpmc, ViewAbandonedByCloseGoesToAnotherConsumerFlagged) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto b, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK(tx.send(bytes("held")));
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto a, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, small()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, a.receive());
    ASSERT_EQ(v.status, ChannelStatus::kOk);
  }  // closed without release: the ring is otherwise idle, so b finds it through the orphan scan
  std::vector<std::byte> buf(240);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, b.receive_until(buf, deadline_after(2s)));
  ASSERT_EQ(r.status, ChannelStatus::kOk);
  EXPECT_TRUE(r.redelivered);
  EXPECT_EQ(text({buf.data(), r.size}), "held");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto again, b.try_receive(buf));
  EXPECT_EQ(again.status, ChannelStatus::kWouldBlock);  // exactly once more, not twice
  // The orphaned slot was freed: a full lap of sends and receives still works.
  for (std::uint64_t i = 0; i < tx.slots() * 2; ++i) {
    IPCKIT_ASSERT_OK(tx.send(bytes("lap")));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto x, b.try_receive(buf));
    ASSERT_EQ(x.status, ChannelStatus::kOk) << i;
    EXPECT_FALSE(x.redelivered);
  }
  EXPECT_EQ(b.counters().redelivered, 1u);
}

TEST(Mpmc, ConsumerLearnsTheLastProducerClosedAfterDraining) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kCreateExclusive, small()));
  std::vector<std::byte> buf(240);
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto p1, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto p2, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
    IPCKIT_ASSERT_OK(p1.send(bytes("one")));
    IPCKIT_ASSERT_OK(p2.send(bytes("two")));
    (void)p1.close();
    // One producer left: still open.
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx.receive_until(buf, deadline_after(2s)));
    EXPECT_EQ(r.status, ChannelStatus::kOk);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, rx.receive_until(buf, deadline_after(2s)));
  ASSERT_EQ(r2.status, ChannelStatus::kOk);  // drained first
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r3, rx.receive_until(buf, deadline_after(2s)));
  EXPECT_EQ(r3.status, ChannelStatus::kPeerClosed);
}

TEST(Mpmc, MemberTableFullIsRoleTakenNamingTheLimit) {
  ChannelName n;
  std::vector<MpmcConsumer> held;
  for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, MpmcConsumer::open(n.name, OpenMode::kOpenOrCreate, small()));
    held.push_back(std::move(c));
  }
  EXPECT_TRUE(test::FailsWith(MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()), {"all 128 MPMC member slots", "close an endpoint"}));
  held.pop_back();  // one leaves: one may join
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto p, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
  EXPECT_TRUE(p.valid());
}

TEST(Mpmc, MovedEndpointKeepsItsReservationAndAssignedOverOneAbandonsIt) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto a, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, a.reserve(5));
  std::memcpy(r.data.data(), "moved", 5);
  MpmcProducer b(std::move(a));
  IPCKIT_ASSERT_OK(b.commit());
  std::vector<std::byte> buf(240);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.try_receive(buf));
  ASSERT_EQ(got.status, ChannelStatus::kOk);
  EXPECT_EQ(text({buf.data(), got.size}), "moved");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, b.reserve(5));
  (void)r2;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, MpmcProducer::open(n.name, OpenMode::kOpenExisting, small()));
  b = std::move(c);  // b's reservation is abandoned, not left held
  IPCKIT_ASSERT_OK(b.send(bytes("next")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto next, rx.receive_until(buf, deadline_after(2s)));
  ASSERT_EQ(next.status, ChannelStatus::kOk);
  EXPECT_EQ(text({buf.data(), next.size}), "next");
  EXPECT_EQ(rx.counters().skipped, 1u);
}

struct ThreadCase {
  int producers;
  int consumers;
  WaitStrategy wait;
  const char* label;
};
void PrintTo(const ThreadCase& c, std::ostream* os) { *os << c.label; }

class MpmcThreads : public ::testing::TestWithParam<ThreadCase> {};

// Every message reaches exactly one consumer, intact; per producer, each consumer sees that
// producer's messages in increasing order.
TEST_P(MpmcThreads, EveryMessageExactlyOnceIntact) {
  const ThreadCase c = GetParam();
  ChannelName n;
  ChannelOptions o = small(c.wait);
  o.capacity = 1 << 16;  // 192 slots: laps go round many times
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto first, MpmcConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  (void)first.close();
  const std::uint64_t per_producer = test::scaled(20000);
  std::vector<std::vector<std::atomic<std::uint8_t>>> seen(c.producers);
  for (auto& s : seen) s = std::vector<std::atomic<std::uint8_t>>(per_producer);
  std::atomic<std::uint64_t> bad{0};
  std::atomic<int> producers_left{c.producers};
  std::vector<std::thread> threads;
  std::vector<MpmcProducer> txs;
  std::vector<MpmcConsumer> rxs;
  for (int p = 0; p < c.producers; ++p) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kOpenExisting, o));
    txs.push_back(std::move(tx));
  }
  for (int k = 0; k < c.consumers; ++k) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenExisting, o));
    rxs.push_back(std::move(rx));
  }
  for (int p = 0; p < c.producers; ++p) {
    threads.emplace_back([&, p] {
      std::vector<std::byte> m(o.max_message);
      for (std::uint64_t s = 0; s < per_producer; ++s) {
        const std::uint64_t id = (static_cast<std::uint64_t>(p) << 40) | s;
        std::span<std::byte> out(m.data(), test::message_size(p + 1, s, o.max_message));
        test::fill_message(p + 1, id, out);
        auto r = txs[p].send(out);
        if (!r || *r != ChannelStatus::kOk) bad.fetch_add(1);
      }
      (void)txs[p].close();
      producers_left.fetch_sub(1);
    });
  }
  for (int k = 0; k < c.consumers; ++k) {
    threads.emplace_back([&, k] {
      std::vector<std::byte> buf(o.max_message);
      std::vector<std::uint64_t> last(c.producers, ~std::uint64_t{0});
      for (;;) {
        auto r = rxs[k].receive_until(buf, deadline_after(20s));
        if (!r) {
          bad.fetch_add(1);
          return;
        }
        if (r->status == ChannelStatus::kPeerClosed) return;
        if (r->status != ChannelStatus::kOk) {
          bad.fetch_add(1);
          return;
        }
        const std::uint64_t id = test::check_message({buf.data(), r->size});
        const std::uint64_t p = id >> 40, s = id & ((std::uint64_t{1} << 40) - 1);
        if (id == ~std::uint64_t{0} || p >= static_cast<std::uint64_t>(c.producers) || s >= per_producer ||
            r->redelivered) {
          bad.fetch_add(1);
          continue;
        }
        if (last[p] != ~std::uint64_t{0} && s <= last[p]) bad.fetch_add(1);  // out of order per producer
        last[p] = s;
        seen[p][s].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0u);
  std::uint64_t missing = 0, duplicated = 0;
  for (auto& s : seen) {
    for (auto& x : s) {
      missing += x.load() == 0;
      duplicated += x.load() > 1;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(duplicated, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MpmcThreads,
    ::testing::Values(ThreadCase{1, 1, WaitStrategy::kSpinThenFutex, "1x1_spin_futex"},
                      ThreadCase{2, 2, WaitStrategy::kSpinThenFutex, "2x2_spin_futex"},
                      ThreadCase{4, 4, WaitStrategy::kBlocking, "4x4_blocking"},
                      ThreadCase{3, 1, WaitStrategy::kBlocking, "3x1_blocking"},
                      ThreadCase{1, 3, WaitStrategy::kSpinThenFutex, "1x3_spin_futex"}),
    [](const auto& tp) { return std::string(tp.param.label); });

}  // namespace
}  // namespace ipckit
