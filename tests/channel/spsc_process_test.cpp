// SPDX-License-Identifier: Apache-2.0
// The SPSC channel between real processes: verified traffic for every wait strategy, producers and
// consumers SIGKILLed at random points, death detection, idle CPU.
// ipckit-test: timeout 300
// ipckit-test: resource-lock cpu-spin
// (busy-polling pairs: never more spinning processes than the 2 CPUs of CI machines)
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "channel/message_check.hpp"
#include "ipckit/channel/spsc.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using ChannelName = test::ChannelName<SpscChannel>;

ChannelOptions opts(WaitStrategy w, std::size_t capacity = 1 << 16, std::size_t max = 1024) {
  ChannelOptions o;
  o.capacity = capacity;
  o.max_message = max;
  o.wait = w;
  o.liveness_interval = 20ms;
  return o;
}

// Sends messages [first, first+count) (count = ~0: until killed) with random sizes; every
// `batch`-th message publishes. `attached` (if any) is signalled once open() has returned the
// endpoint: the role is claimed.
int produce(const std::string& name, const ChannelOptions& o, std::uint64_t seed, std::uint64_t first,
            std::uint64_t count, std::uint32_t batch, test::ReadyPipe* attached = nullptr) {
  auto tx = SpscProducer::open(name, OpenMode::kOpenExisting, o);
  if (!tx) {
    std::fprintf(stderr, "producer open: %s\n", tx.error().str().c_str());
    return 10;
  }
  if (attached != nullptr) attached->signal();
  for (std::uint64_t seq = first; count == ~std::uint64_t{0} || seq < first + count; ++seq) {
    const std::size_t size = test::message_size(seed, seq, o.max_message);
    auto r = tx->reserve(size);
    if (!r || !*r) {
      std::fprintf(stderr, "reserve: %s\n", r ? to_string(r->status) : r.error().str().c_str());
      return 11;
    }
    test::fill_message(seed, seq, r->data);
    if (!tx->commit(batch <= 1 || seq % batch == batch - 1)) return 12;
  }
  tx->flush();
  return 0;
}

// Waits (20 s at most) for `child` to signal `ready`; if it does not, kills and reaps it, so a failed
// round leaves no producer running behind the test.
bool ready_or_killed(test::ReadyPipe& ready, pid_t child) {
  if (ready.wait(deadline_after(20s))) return true;
  ::kill(child, SIGKILL);
  (void)test::wait_child(child);
  return false;
}

// Kills and reaps `pid` unless release()d: a test that leaves early (a failed ASSERT) leaves no
// child running behind it.
struct KillOnExit {
  pid_t pid;
  ~KillOnExit() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      (void)test::wait_child(pid);
    }
  }
  pid_t release() { return std::exchange(pid, -1); }
};

// The producer role slot of channel `name`, read through a mapping of its own.
struct RoleRecord {
  std::uint64_t claim = 0;   // non-zero while held (a killed holder leaves it set)
  std::uint64_t claims = 0;  // how many times the role was claimed
};
RoleRecord producer_role(const std::string& name) {
  const UniqueFd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (!fd.valid()) {
    ADD_FAILURE() << "shm_open(" << name << "): " << std::strerror(errno);
    return {};
  }
  void* p = ::mmap(nullptr, channel_layout::kHeaderSize, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    ADD_FAILURE() << "mmap(" << name << "): " << std::strerror(errno);
    return {};
  }
  auto& slot = static_cast<channel_layout::Header*>(p)->producer;
  const RoleRecord r{std::atomic_ref<std::uint64_t>(slot.claim).load(),
                     std::atomic_ref<std::uint64_t>(slot.claims).load()};
  ::munmap(p, channel_layout::kHeaderSize);
  return r;
}

class MultiProcess : public ::testing::TestWithParam<WaitStrategy> {};

TEST_P(MultiProcess, RandomSizesArriveInOrderVerified) {
  ChannelName n;
  const auto o = opts(GetParam());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  const std::uint64_t total =
      test::scaled(GetParam() == WaitStrategy::kSpinThenFutex ? 1000000 : 200000);  // busy-poll: 2 vCPUs are shared
  const std::uint64_t seed = 0x1234;
  const pid_t child = test::spawn_child([&] { return produce(n.name, o, seed, 0, total, 16); });
  std::uint64_t expect = 0;
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive_until(deadline_after(30s)));
    if (v.status == ChannelStatus::kPeerClosed) break;
    ASSERT_EQ(v.status, ChannelStatus::kOk) << to_string(v.status) << " after " << expect;
    ASSERT_EQ(v.data.size(), test::message_size(seed, expect, o.max_message)) << "message " << expect;
    ASSERT_EQ(test::check_message(v.data), expect);
    IPCKIT_ASSERT_OK(rx.release());
    ++expect;
  }
  EXPECT_EQ(expect, total);
  EXPECT_TRUE(test::wait_child(child).ok());
  const auto c = rx.counters();
  EXPECT_EQ(c.sent, total);
  EXPECT_EQ(c.received, total);
  EXPECT_EQ(c.redelivered, 0u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, MultiProcess,
                         ::testing::Values(WaitStrategy::kBusyPoll, WaitStrategy::kSpinThenFutex,
                                           WaitStrategy::kBlocking),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case WaitStrategy::kBusyPoll: return std::string("BusyPoll");
                             case WaitStrategy::kSpinThenFutex: return std::string("SpinThenFutex");
                             default: return std::string("Blocking");
                           }
                         });

TEST(CrashSafety, ProducerKilledAtRandomPointsNeverTearsAndIsDetected) {
  std::mt19937_64 rng(std::random_device{}());
  const std::size_t rounds = test::scaled(40);
  for (std::size_t round = 0; round < rounds; ++round) {
    ChannelName n;
    // A small ring wraps often, so kills land in padding, mid-payload and mid-batch.
    const auto o = opts(WaitStrategy::kSpinThenFutex, 4096, 300);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
    const std::uint64_t seed = rng();
    const std::uint32_t batch = static_cast<std::uint32_t>(rng() % 4 == 0 ? 1 + rng() % 64 : 1);
    // The kill must find the producer attached: killed before it claimed the role, it leaves a
    // channel with no producer, on which a consumer rightly waits for one (a hang here; kills
    // inside the attach have a test of their own, ProducerKilledWhileAttaching...).
    test::ReadyPipe attached;
    const pid_t child =
        test::spawn_child([&] { return produce(n.name, o, seed, 0, ~std::uint64_t{0}, batch, &attached); });
    ASSERT_TRUE(ready_or_killed(attached, child)) << "round " << round << ": the producer never attached";
    // Consume a random number of messages, then kill the producer while it runs.
    const std::uint64_t before_kill = rng() % 3000;
    std::uint64_t expect = 0;
    for (; expect < before_kill; ++expect) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive_until(deadline_after(20s)));
      ASSERT_EQ(v.status, ChannelStatus::kOk) << to_string(v.status);
      ASSERT_EQ(test::check_message(v.data), expect);
      IPCKIT_ASSERT_OK(rx.release());
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    EXPECT_EQ(test::wait_child(child).signal, SIGKILL);
    // Everything published arrives intact, then the death is reported within a few liveness
    // intervals (the deadline, 1000 of them, only turns a missed death into a failure, not a hang).
    for (;;) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive_until(deadline_after(20s)));
      ASSERT_NE(v.status, ChannelStatus::kTimedOut) << "round " << round << ": the producer's death went unnoticed";
      if (v.status == ChannelStatus::kPeerDied) break;
      ASSERT_EQ(v.status, ChannelStatus::kOk) << to_string(v.status);
      ASSERT_EQ(v.data.size(), test::message_size(seed, expect, o.max_message)) << "round " << round;
      ASSERT_EQ(test::check_message(v.data), expect) << "round " << round;
      IPCKIT_ASSERT_OK(rx.release());
      ++expect;
    }
    // A new producer takes the role over and continues exactly after the last published record.
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, o));
    EXPECT_TRUE(tx.reclaimed());
    std::vector<std::byte> buf(test::message_size(seed, expect, o.max_message));
    test::fill_message(seed, expect, buf);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.send(buf));
    ASSERT_EQ(st, ChannelStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    ASSERT_EQ(v.status, ChannelStatus::kOk) << to_string(v.status);
    EXPECT_EQ(test::check_message(v.data), expect);
    IPCKIT_ASSERT_OK(rx.release());
    EXPECT_EQ(rx.counters().reclaimed, 1u);
  }
}

// Kills inside the producer's open() and close(): a child attaches, sends one record and closes,
// over and over from its first open() on, and is killed at a random moment. The kill lands before
// its first claim (the channel never had a producer: a consumer waits for one, and its deadline
// ends that wait), inside an attach (between the claim and the identity: judged by pid; during the
// recovery walk), between a close and the next claim, or mid-send. Whichever it was, the consumer
// ends cleanly, never with an error, a torn record or a hang: the records in order, then
// kPeerDied if the role was held, kPeerClosed if it was released, a timeout if it was never
// claimed. The next producer takes the role (reclaimed exactly when the dead one held it) and
// continues after the last record.
TEST(CrashSafety, ProducerKilledWhileAttachingLeavesTheRoleToTheNextProducer) {
  std::mt19937_64 rng(std::random_device{}());
  const std::size_t rounds = test::scaled(60);
  const auto o = opts(WaitStrategy::kSpinThenFutex, 1 << 16, 64);  // room for every record sent
  std::size_t never_claimed = 0, died_holding = 0, died_released = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    ChannelName n;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
    const std::uint64_t seed = rng();
    test::ReadyPipe started;
    const pid_t child = test::spawn_child([&] {
      std::vector<std::byte> buf(o.max_message);
      started.signal();
      for (std::uint64_t seq = 0;; ++seq) {
        auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
        if (!tx) return 10;
        const auto msg = std::span(buf).first(test::message_size(seed, seq, o.max_message));
        test::fill_message(seed, seq, msg);
        auto st = tx->send(msg);
        if (!st || *st != ChannelStatus::kOk) return 11;
        (void)tx->close();
      }
    });
    ASSERT_TRUE(ready_or_killed(started, child)) << "round " << round << ": the producer never started";
    // Spin, not sleep (a sleep's slack is as long as an attach): kills within 2 ms of the start,
    // the first attach included (a fresh process takes a few hundred microseconds for it).
    const auto until = Clock::now() + std::chrono::nanoseconds(rng() % 2'000'000);
    while (Clock::now() < until) {
    }
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    const auto died = test::wait_child(child);
    ASSERT_EQ(died.signal, SIGKILL) << "round " << round << ": " << died.describe();
    const RoleRecord role = producer_role(n.name);
    std::uint64_t expect = 0;
    if (role.claim == 0 && role.claims == 0) {
      // Killed before its first claim: no producer ever came, so none died; the consumer waits
      // for one, and the deadline ends the wait.
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive_until(deadline_after(3 * o.liveness_interval)));
      EXPECT_EQ(v.status, ChannelStatus::kTimedOut) << "round " << round << ": " << to_string(v.status);
      ++never_claimed;
    } else {
      const ChannelStatus end = role.claim != 0 ? ChannelStatus::kPeerDied : ChannelStatus::kPeerClosed;
      for (;;) {
        IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive_until(deadline_after(20s)));
        ASSERT_NE(v.status, ChannelStatus::kTimedOut) << "round " << round << ": the producer's end went unnoticed";
        if (v.status != ChannelStatus::kOk) {
          ASSERT_EQ(v.status, end) << "round " << round << ": " << to_string(v.status) << " after " << expect;
          break;
        }
        ASSERT_EQ(v.data.size(), test::message_size(seed, expect, o.max_message)) << "round " << round;
        ASSERT_EQ(test::check_message(v.data), expect) << "round " << round;
        IPCKIT_ASSERT_OK(rx.release());
        ++expect;
      }
      ++(role.claim != 0 ? died_holding : died_released);
    }
    // The next producer gets the role (taken over from the dead holder if there was one) and
    // continues after the last record published before the kill.
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, o));
    EXPECT_EQ(tx.reclaimed(), role.claim != 0) << "round " << round;
    std::vector<std::byte> buf(test::message_size(seed, expect, o.max_message));
    test::fill_message(seed, expect, buf);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.send(buf));
    ASSERT_EQ(st, ChannelStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    ASSERT_EQ(v.status, ChannelStatus::kOk) << "round " << round << ": " << to_string(v.status);
    EXPECT_EQ(test::check_message(v.data), expect) << "round " << round;
    IPCKIT_ASSERT_OK(rx.release());
    EXPECT_EQ(rx.counters().reclaimed, role.claim != 0 ? 1u : 0u) << "round " << round;
  }
  // Where the kills landed depends on timing, so it is reported, not asserted.
  std::printf("%zu rounds: killed %zu times before the first claim, %zu holding the role, %zu after a close and "
              "before the next claim (open() maps the object before it claims)\n",
              rounds, never_claimed, died_holding, died_released);
  RecordProperty("killed_before_first_claim", std::to_string(never_claimed));
  RecordProperty("killed_holding_the_role", std::to_string(died_holding));
  RecordProperty("killed_between_close_and_claim", std::to_string(died_released));
}

TEST(CrashSafety, ConsumerKilledHoldingAMessageGetsItRedeliveredOnce) {
  ChannelName n;
  const auto o = opts(WaitStrategy::kBlocking);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  for (std::uint64_t seq = 0; seq < 5; ++seq) {
    std::vector<std::byte> buf(test::message_size(1, seq, o.max_message));
    test::fill_message(1, seq, buf);
    IPCKIT_ASSERT_OK(tx.send(buf));
  }
  test::ReadyPipe ready;
  const pid_t child = test::spawn_child([&] {
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!rx) return 1;
    for (std::uint64_t seq = 0; seq < 2; ++seq) {  // consume 0 and 1, hold 2
      auto v = rx->receive();
      if (!v || test::check_message(v->data) != seq || !rx->release()) return 2;
    }
    auto held = rx->receive();
    if (!held || test::check_message(held->data) != 2) return 3;
    ready.signal();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(test::wait_child(child).signal, SIGKILL);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
  EXPECT_TRUE(rx.reclaimed());
  for (std::uint64_t seq = 2; seq < 5; ++seq) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    ASSERT_TRUE(v);
    EXPECT_EQ(test::check_message(v.data), seq);
    EXPECT_EQ(v.redelivered, seq == 2) << seq;
    IPCKIT_ASSERT_OK(rx.release());
  }
  const auto c = rx.counters();
  EXPECT_EQ(c.redelivered, 1u);
  EXPECT_EQ(c.reclaimed, 1u);
  EXPECT_EQ(c.received, 5u);
}

// What each consumer child reports through shared anonymous memory (it may be killed any time).
struct ConsumerReport {
  std::atomic<std::uint64_t> first_seq;
  std::atomic<std::uint64_t> first_redelivered;
  std::atomic<std::uint64_t> last_released;  // seq + 1 of the last message released; 0 = none
  std::atomic<std::uint64_t> error;
};

TEST(CrashSafety, ConsumersKilledAtRandomPointsLoseNothingAndDuplicateOnlyTheHeldOne) {
  ChannelName n;
  const auto o = opts(WaitStrategy::kSpinThenFutex, 8192, 200);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto creator, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  (void)creator.close();
  const std::uint64_t seed = 99;
  // The producer retries while no consumer is alive (kPeerDied with a full ring).
  const pid_t producer = test::spawn_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx) return 1;
    std::vector<std::byte> buf(o.max_message);
    for (std::uint64_t seq = 0;; ++seq) {
      const auto size = test::message_size(seed, seq, o.max_message);
      test::fill_message(seed, seq, std::span(buf).first(size));
      for (;;) {
        auto st = tx->send_until(std::span(buf).first(size), deadline_after(50ms));
        if (!st) return 2;
        if (*st == ChannelStatus::kOk) break;
      }
    }
  });
  KillOnExit producer_guard{producer};  // it retries for ever
  auto* reports = static_cast<ConsumerReport*>(
      ::mmap(nullptr, sizeof(ConsumerReport), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(reports, MAP_FAILED);
  std::mt19937_64 rng(std::random_device{}());
  // The released prefix as far as the reports tell: every record before `last_released` was
  // released; the one at it may have been too (a kill between release() and its report).
  std::uint64_t last_released = 0;
  // Whether a redelivered first record must be the one at last_released: not after a consumer
  // killed before it reported anything, which may have held that one or, if it had been released
  // unreported, the one after.
  bool held_is_known = true;
  const std::size_t rounds = test::scaled(30);
  for (std::size_t round = 0; round < rounds; ++round) {
    new (reports) ConsumerReport{};
    reports->first_seq = ~std::uint64_t{0};
    test::ReadyPipe attached;
    const pid_t child = test::spawn_child([&] {
      auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
      if (!rx) return 1;
      attached.signal();
      for (std::uint64_t i = 0;; ++i) {
        auto v = rx->receive();
        if (!v || !*v) return 2;
        const std::uint64_t seq = test::check_message(v->data);
        if (i == 0) {
          reports->first_redelivered = v->redelivered ? 1 : 0;
          reports->first_seq = seq;
        } else if (seq != reports->last_released.load() || v->redelivered) {
          reports->error = seq + 1;  // a gap, duplicate or torn message within one consumer
        }
        if (!rx->release()) return 3;
        reports->last_released = seq + 1;
      }
    });
    // Kill at a random point of its receiving, timed from its attach (a sleep from the fork would
    // land before the attach whenever the machine is busy, and test nothing).
    ASSERT_TRUE(ready_or_killed(attached, child)) << "round " << round << ": the consumer never attached";
    std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 5000));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    EXPECT_EQ(test::wait_child(child).signal, SIGKILL);
    ASSERT_EQ(reports->error.load(), 0u) << "round " << round;
    const std::uint64_t first = reports->first_seq.load();
    if (first == ~std::uint64_t{0}) {  // killed before it reported a record: it released none
      held_is_known = false;
      continue;
    }
    // Exactly-once except the record a dead consumer held: the first message is the one after the
    // last reported release (or one more if the kill fell between release and report), and it is
    // flagged redelivered only if it had not been released.
    ASSERT_TRUE(first == last_released || first == last_released + 1)
        << "round " << round << ": first " << first << ", last released " << last_released;
    if (reports->first_redelivered.load() != 0 && held_is_known) {
      EXPECT_EQ(first, last_released) << "round " << round;
    }
    held_is_known = true;
    // A consumer killed before it reported a release released nothing before `first` (and maybe
    // `first` itself): the next one starts there or one after, as after any other kill.
    last_released = reports->last_released.load() != 0 ? reports->last_released.load() : first;
  }
  ::kill(producer_guard.release(), SIGKILL);
  EXPECT_EQ(test::wait_child(producer).signal, SIGKILL);
  ::munmap(reports, sizeof(ConsumerReport));
  EXPECT_GT(last_released, 0u);
}

TEST(CrashSafety, BlockingConsumerLearnsProducerDied) {
  ChannelName n;
  const auto o = opts(WaitStrategy::kBlocking);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  test::ReadyPipe attached;
  const pid_t child = test::spawn_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx) return 1;
    attached.signal();
    const std::byte b[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
    for (int i = 0; i < 3; ++i) (void)tx->send(b);
    ::raise(SIGKILL);  // dies holding the role, without close()
    return 0;
  });
  // The receives below have no deadline: they may wait only for a producer that did attach (one
  // whose open() failed would leave them waiting for ever, rightly).
  ASSERT_TRUE(ready_or_killed(attached, child)) << "the producer never attached";
  for (int i = 0; i < 3; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive());
    ASSERT_TRUE(v) << to_string(v.status);
    IPCKIT_ASSERT_OK(rx.release());
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive());  // no deadline
  EXPECT_EQ(v.status, ChannelStatus::kPeerDied);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v2, rx.try_receive());
  EXPECT_EQ(v2.status, ChannelStatus::kPeerDied);
  EXPECT_EQ(test::wait_child(child).signal, SIGKILL);
}

TEST(CrashSafety, ProducerBlockedOnFullRingLearnsConsumerDied) {
  ChannelName n;
  const auto o = opts(WaitStrategy::kSpinThenFutex, 1024, 64);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  auto child = test::run_in_child([&] {
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!rx) return 1;
    ::raise(SIGKILL);
    return 0;
  });
  // Only a consumer that attached can be found dead: without one the sends below wait for ever.
  ASSERT_EQ(child.signal, SIGKILL) << child.describe();
  const std::byte msg[64] = {};
  ChannelStatus st = ChannelStatus::kOk;
  while (st == ChannelStatus::kOk) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(st, tx.send(msg));  // no deadline: must not hang
  }
  EXPECT_EQ(st, ChannelStatus::kPeerDied);
}

TEST(CrashSafety, CorruptedIndexFromAPeerIsAnErrorInTheOtherProcess) {
  ChannelName n;
  const auto o = opts(WaitStrategy::kBlocking, 4096, 64);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  auto child = test::run_in_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx || !tx->send(std::vector<std::byte>(8))) return 1;
    // A buggy producer scribbles over the ring after publishing.
    auto r = tx->try_reserve(64);
    if (!r || !*r) return 2;
    std::memset(r->data.data() - 8 - 16, 0xff, 16);  // the first record's word and payload
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"corrupt", "does not belong there"}));
}

TEST(Lifecycle, RacingCreatorsNeverSeeAHalfInitialisedChannel) {
  // Eight processes OpenOrCreate the same channel at once: exactly one creates it (O_EXCL), the
  // others wait for its ready flag; none sees "corrupt" or "not ready". Each then takes turns in
  // the producer role (kRoleTaken while another holds it) and sends one message.
  ChannelName n;
  const auto o = opts(WaitStrategy::kBlocking, 4096, 64);
  constexpr int kProcs = 8;
  int go[2];
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  std::vector<pid_t> kids;
  for (int i = 0; i < kProcs; ++i) {
    kids.push_back(test::spawn_child([&, i] {
      char c;
      if (::read(go[0], &c, 1) != 1) return 1;
      for (;;) {
        auto tx = SpscProducer::open(n.name, OpenMode::kOpenOrCreate, o);
        if (!tx) {
          if (tx.error().is(LibraryCode::kRoleTaken)) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
          }
          std::fprintf(stderr, "%s\n", tx.error().str().c_str());
          return 2;
        }
        const auto b = static_cast<std::byte>(i);
        auto st = tx->send(std::span(&b, 1));
        return st && *st == ChannelStatus::kOk ? 0 : 3;
      }
    }));
  }
  const char start[kProcs] = {};
  ASSERT_EQ(::write(go[1], start, kProcs), kProcs);  // release them together
  for (pid_t k : kids) EXPECT_TRUE(test::wait_child(k).ok());
  ::close(go[0]);
  ::close(go[1]);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
  std::vector<int> seen(kProcs, 0);
  for (int i = 0; i < kProcs; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    ASSERT_TRUE(v) << to_string(v.status);
    ASSERT_EQ(v.data.size(), 1u);
    ++seen.at(static_cast<std::size_t>(v.data[0]));
    IPCKIT_ASSERT_OK(rx.release());
  }
  for (int i = 0; i < kProcs; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 1) << i;
  EXPECT_EQ(rx.counters().sent, static_cast<std::uint64_t>(kProcs));
}

TEST(Waiting, IdleBlockingReceiverUsesAlmostNoCpu) {
  ChannelName n;
  auto o = opts(WaitStrategy::kBlocking);
  o.liveness_interval = 200ms;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const auto child = test::run_in_child([&] {
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!rx) return 1;
    timespec a{}, b{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    auto v = rx->receive_until(deadline_after(1s));
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    if (!v || v->status != ChannelStatus::kTimedOut) return 2;
    const std::int64_t ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    return ::write(fds[1], &ns, sizeof ns) == sizeof ns ? 0 : 3;
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  std::int64_t ns = 0;
  ASSERT_EQ(::read(fds[0], &ns, sizeof ns), static_cast<ssize_t>(sizeof ns));
  ::close(fds[0]);
  ::close(fds[1]);
  // Not a performance figure (the < 1 ms per 10 s target is measured by bench/micro/channel_bench,
  // BM_IdleBlockingReceiverCpu): this catches a receiver that spins instead of sleeping, which
  // would burn most of the second. The bound (5% of a CPU) leaves room for a loaded CI machine,
  // where one wake-up was seen to cost 2.6 ms of CPU.
  EXPECT_LT(ns, 50'000'000) << "CPU used by an idle blocking receiver in 1 s: " << ns << " ns";
  RecordProperty("idle_cpu_ns_per_s", std::to_string(ns));
}

}  // namespace
}  // namespace ipckit
