// SPDX-License-Identifier: Apache-2.0
// The SPSC channel between two threads of one process: the same protocol as between processes,
// run here so ThreadSanitizer checks every memory order (payload bytes are plain memory published
// by release/acquire on the commit words and the consumer index).
// ipckit-test: tsan
// ipckit-test: resource-lock cpu-spin
// (busy-polling pairs: never more spinning processes than the 2 CPUs of CI machines)
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "channel/message_check.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/channel/typed.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using ChannelName = test::ChannelName<SpscChannel>;

struct Case {
  WaitStrategy wait;
  std::size_t capacity;
  std::size_t max;
  std::uint32_t batch;  // publish every batch-th commit
  const char* label;
};

// Printed in test names instead of the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

class Threads : public ::testing::TestWithParam<Case> {};

TEST_P(Threads, VerifiedTrafficBetweenThreads) {
  const Case c = GetParam();
  ChannelName n;
  ChannelOptions o;
  o.capacity = c.capacity;
  o.max_message = c.max;
  o.wait = c.wait;
  o.liveness_interval = 20ms;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
  const std::uint64_t total = test::scaled(c.wait == WaitStrategy::kBusyPoll || c.max > 1000 ? 50000 : 200000);
  const std::uint64_t seed = 7;
  std::thread producer([&] {
    for (std::uint64_t seq = 0; seq < total; ++seq) {
      auto r = tx.reserve(test::message_size(seed, seq, c.max));
      ASSERT_TRUE(r && *r);
      test::fill_message(seed, seq, r->data);
      ASSERT_TRUE(tx.commit(c.batch <= 1 || seq % c.batch == c.batch - 1));
    }
    (void)tx.close();
  });
  std::uint64_t expect = 0;
  for (;;) {
    auto v = rx.receive_until(deadline_after(30s));
    ASSERT_TRUE(v) << v.error().str();
    if (v->status == ChannelStatus::kPeerClosed) break;
    ASSERT_EQ(v->status, ChannelStatus::kOk) << to_string(v->status);
    ASSERT_EQ(v->data.size(), test::message_size(seed, expect, c.max));
    ASSERT_EQ(test::check_message(v->data), expect);
    IPCKIT_ASSERT_OK(rx.release());
    ++expect;
  }
  producer.join();
  EXPECT_EQ(expect, total);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Threads,
    ::testing::Values(Case{WaitStrategy::kBusyPoll, 1 << 16, 512, 1, "BusyPoll"},
                      Case{WaitStrategy::kSpinThenFutex, 1 << 16, 512, 16, "SpinThenFutexBatched"},
                      Case{WaitStrategy::kBlocking, 1 << 10, 100, 1, "BlockingTinyRing"},
                      Case{WaitStrategy::kSpinThenFutex, 1 << 14, 2000, 64, "LargeRecordsBatch64"}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ThreadsTyped, TypedChannelCopiesValues) {
  ChannelName n;
  ChannelOptions o;
  o.wait = WaitStrategy::kBlocking;
  o.capacity = 4096;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, Channel<std::uint64_t>::producer(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, Channel<std::uint64_t>::consumer(n.name, OpenMode::kOpenExisting, o));
  const std::uint64_t total = test::scaled(100000);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < total; ++i) ASSERT_TRUE(tx.send(i * 3));
    (void)tx.close();
  });
  std::uint64_t sum = 0, count = 0;
  for (;;) {
    auto v = rx.receive();
    ASSERT_TRUE(v);
    if (v->status == ChannelStatus::kPeerClosed) break;
    ASSERT_EQ(v->value, count * 3);
    sum += v->value;
    ++count;
  }
  producer.join();
  EXPECT_EQ(count, total);
  EXPECT_EQ(sum, 3 * total * (total - 1) / 2);
}

}  // namespace
}  // namespace ipckit
