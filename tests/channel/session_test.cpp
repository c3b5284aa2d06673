// SPDX-License-Identifier: Apache-2.0
// Sessions on one channel name (docs/channel.md, "Sessions"): the five data-loss scenarios of the
// channel's part 4 issue through the library, for every pattern they concern. A session is one
// claim of the producer role; an end of stream belongs to its session and never ends a consumer
// that had no part in it.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"
#include "channel/channel_name.hpp"
#include "support/held_child.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

ChannelOptions small() {
  ChannelOptions o;
  o.capacity = 4096;
  o.max_message = 64;
  o.liveness_interval = 50ms;
  return o;
}

ChannelOptions small_mpmc() {
  ChannelOptions o = small();
  o.capacity = 32768;  // the 16 KiB member table comes out of the capacity
  return o;
}

BroadcastOptions small_broadcast(BroadcastPolicy policy = BroadcastPolicy::kBlock) {
  BroadcastOptions o;
  o.channel = small();
  o.channel.capacity = 1024;  // 12 slots of 16 + 64 bytes
  o.policy = policy;
  return o;
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Scenario 1 and 2 (SPSC): one session sends `msgs` and closes; `take` of them are received by a
// consumer that then leaves, before or after the producer closed.
void spsc_session(const std::string& name, const std::vector<std::string>& msgs, std::size_t take,
                  bool consumer_first) {
  std::optional<SpscConsumer> rx;
  if (consumer_first) {
    auto c = SpscConsumer::open(name, OpenMode::kOpenOrCreate, small());
    ASSERT_TRUE(c) << c.error().str();
    rx.emplace(std::move(*c));
  }
  {
    auto tx = SpscProducer::open(name, OpenMode::kOpenOrCreate, small());
    ASSERT_TRUE(tx) << tx.error().str();
    for (const auto& m : msgs) IPCKIT_ASSERT_OK(tx->send(bytes(m)));
  }
  if (!rx) {
    auto c = SpscConsumer::open(name, OpenMode::kOpenOrCreate, small());
    ASSERT_TRUE(c) << c.error().str();
    rx.emplace(std::move(*c));
  }
  std::vector<std::byte> buf(64);
  for (std::size_t i = 0; i < take; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx->try_receive(buf));
    ASSERT_EQ(r.status, ChannelStatus::kOk) << "message " << i;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), r.size), msgs[i]);
  }
  if (take == msgs.size()) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto end, rx->try_receive(buf));
    EXPECT_EQ(end.status, ChannelStatus::kPeerClosed);
  }
}

// Scenario 1: a name works for any number of sessions in a row.
TEST(Sessions, SpscSecondSessionIsNotEndedByTheFirstOnesEnd) {
  test::ChannelName<SpscChannel> n;
  spsc_session(n.name, {"1", "2", "3"}, 3, true);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenOrCreate, small()));
  std::vector<std::byte> buf(64);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto idle, rx.try_receive(buf));
  EXPECT_EQ(idle.status, ChannelStatus::kWouldBlock) << "the first session's end of stream ended the second";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto timed, rx.receive_until(buf, deadline_after(100ms)));
  EXPECT_EQ(timed.status, ChannelStatus::kTimedOut);
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()));
    IPCKIT_ASSERT_OK(tx.send(bytes("4")));
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.receive_until(buf, deadline_after(5s)));
  ASSERT_EQ(got.status, ChannelStatus::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), got.size), "4");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto end, rx.receive_until(buf, deadline_after(5s)));
  EXPECT_EQ(end.status, ChannelStatus::kPeerClosed);
}

// A consumer that attaches after a producer closed gets that session's pending messages, then its
// end of stream (sender first).
TEST(Sessions, SpscConsumerAfterTheProducerClosedGetsPendingThenEnd) {
  test::ChannelName<SpscChannel> n;
  spsc_session(n.name, {"a", "b"}, 2, false);
}

// Scenario 2: a consumer that left before the end (recv --count) leaves no end of stream behind.
TEST(Sessions, SpscCountReceiverLeavesNoEndForTheNextSession) {
  test::ChannelName<SpscChannel> n;
  spsc_session(n.name, {"a"}, 1, true);  // takes 1 of 1, leaves before reading the end
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenOrCreate, small()));
  std::vector<std::byte> buf(64);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto idle, rx.try_receive(buf));
  EXPECT_EQ(idle.status, ChannelStatus::kWouldBlock) << "an end of stream nobody read ended the next session";
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()));
    IPCKIT_ASSERT_OK(tx.send(bytes("b")));
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.try_receive(buf));
  ASSERT_EQ(got.status, ChannelStatus::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), got.size), "b");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto end, rx.try_receive(buf));
  EXPECT_EQ(end.status, ChannelStatus::kPeerClosed);
}

// A producer whose session starts after the previous consumer left is not told "consumer closed".
TEST(Sessions, SpscProducerOfANewSessionWaitsForItsConsumer) {
  test::ChannelName<SpscChannel> n;
  spsc_session(n.name, {"a"}, 1, true);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()));
  const std::string big(64, 'x');
  for (;;) {  // fill the ring: a full ring with the previous session's consumer gone must wait
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(bytes(big)));
    if (st != ChannelStatus::kOk) {
      EXPECT_EQ(st, ChannelStatus::kWouldBlock);
      break;
    }
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto timed, tx.send_until(bytes(big), deadline_after(100ms)));
  EXPECT_EQ(timed, ChannelStatus::kTimedOut);
}

// Scenario 1 (broadcast): the second session's subscriber is not ended by the first's end.
TEST(Sessions, BroadcastSecondSessionIsNotEndedByTheFirstOnesEnd) {
  test::ChannelName<BroadcastChannel> n;
  std::vector<std::byte> buf(64);
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto sub, BroadcastSubscriber::open(n.name, OpenMode::kOpenOrCreate, small_broadcast()));
    {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kOpenOrCreate, small_broadcast()));
      IPCKIT_ASSERT_OK(pub.send(bytes("1")));
    }
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, sub.try_receive(buf));
    EXPECT_EQ(r.status, BroadcastStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto end, sub.try_receive(buf));
    EXPECT_EQ(end.status, BroadcastStatus::kPeerClosed);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto sub, BroadcastSubscriber::open(n.name, OpenMode::kOpenOrCreate, small_broadcast()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto idle, sub.try_receive(buf));
  EXPECT_EQ(idle.status, BroadcastStatus::kWouldBlock) << "the first session's end of stream ended the second";
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kOpenOrCreate, small_broadcast()));
    IPCKIT_ASSERT_OK(pub.send(bytes("2")));
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, sub.try_receive(buf));
  ASSERT_EQ(got.status, BroadcastStatus::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), got.size), "2");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto end, sub.try_receive(buf));
  EXPECT_EQ(end.status, BroadcastStatus::kPeerClosed);
}

// Scenario 1 and 2 (MPMC, which already kept sessions apart): guards it.
TEST(Sessions, MpmcSecondSessionIsNotEndedByTheFirstOnesEnd) {
  test::ChannelName<MpmcChannel> n;
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenOrCreate, small_mpmc()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, MpmcProducer::open(n.name, OpenMode::kOpenOrCreate, small_mpmc()));
    IPCKIT_ASSERT_OK(tx.send(bytes("a")));
    IPCKIT_ASSERT_OK(tx.send(bytes("b")));
    std::vector<std::byte> buf(64);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, rx.try_receive(buf));
    EXPECT_EQ(r.status, ChannelStatus::kOk);  // takes 1 of 2: the other stays for the next consumer
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, MpmcConsumer::open(n.name, OpenMode::kOpenOrCreate, small_mpmc()));
  std::vector<std::byte> buf(64);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto left, rx.try_receive(buf));
  ASSERT_EQ(left.status, ChannelStatus::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), left.size), "b");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto idle, rx.try_receive(buf));
  EXPECT_EQ(idle.status, ChannelStatus::kWouldBlock);
}

// Scenario 4: a SIGKILLed subscriber is found dead by a publisher whose sends time out in short
// slices (as `ipckit send` makes them), its record removed, and the publisher learns it has none.
TEST(Sessions, BroadcastPublisherFindsAKilledSubscriberAcrossShortSends) {
  test::ChannelName<BroadcastChannel> n;
  const auto o = small_broadcast();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kOpenOrCreate, o));
  test::HeldChild child([&] {
    auto sub = BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o);
    if (!sub) return false;
    new BroadcastSubscriber(std::move(*sub));  // held until the child is killed: never closed
    return true;
  });
  ASSERT_TRUE(child.ok());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto first, pub.send(bytes("known")));  // the publisher knows it alive
  ASSERT_EQ(first, BroadcastStatus::kOk);
  ASSERT_EQ(pub.counters().subscribers, 1u);
  child.kill();
  const std::string msg = "m";
  // 12 slots fill up; then every send waits. 40 slices of 20 ms = 800 ms > 16 liveness intervals.
  std::uint64_t removed = 0;
  for (int slice = 0; slice < 40 && removed == 0; ++slice) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.send_until(bytes(msg), deadline_after(20ms)));
    (void)st;
    removed = pub.counters().dead_removed;
  }
  EXPECT_EQ(removed, 1u) << "a killed subscriber was never found dead";
  EXPECT_EQ(pub.counters().subscribers, 0u);
  const std::string rec = n.name + ".sub.0";
  const int fd = ::shm_open(rec.c_str(), O_RDONLY, 0);
  EXPECT_LT(fd, 0) << "the dead subscriber's record stays in /dev/shm";
  if (fd >= 0) ::close(fd);
}

// Scenario 5: a name that fits but whose derived names (".ctl", ".sub.<id>") do not is refused at
// create, before any object exists.
TEST(Sessions, BroadcastNameTooLongWithItsSuffixesIsRefusedBeforeCreating) {
  std::string name = test::unique_name() + ".long.";  // unique across runs, padded below
  name += std::string(250 - name.size(), 'n');  // 250 bytes: fits NAME_MAX, ".sub.<id>" does not
  auto pub = BroadcastPublisher::open(name, OpenMode::kOpenOrCreate, small_broadcast());
  EXPECT_TRUE(test::FailsWith(std::move(pub), {"too long", ".sub."}));
  for (const std::string& obj : {name, name + ".ctl"}) {
    const int fd = ::shm_open(obj.c_str(), O_RDONLY, 0);
    EXPECT_LT(fd, 0) << obj.substr(0, 40) << "... was created";
    if (fd >= 0) {
      ::close(fd);
      ::shm_unlink(obj.c_str());
    }
  }
  auto sub = BroadcastSubscriber::open(name, OpenMode::kOpenOrCreate, small_broadcast());
  EXPECT_TRUE(test::FailsWith(std::move(sub), {"too long", ".sub."}));
  (void)BroadcastChannel::unlink(name);
}

}  // namespace
}  // namespace ipckit
