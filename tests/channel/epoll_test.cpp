// SPDX-License-Identifier: Apache-2.0
// Epoll integration of the SPSC channel: the consumer's notification fd in an epoll set with other
// channels and fds, no lost wake-up under arm/disarm races, a producer that dies between
// publishing and notifying, later producers and consumers, fd hygiene, idle CPU.
// ipckit-test: timeout 300
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/channel/spsc.hpp"
#include "ipckit/core/poll.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using ChannelName = test::ChannelName<SpscChannel>;

ChannelOptions opts(std::chrono::milliseconds liveness = 50ms) {
  ChannelOptions o;
  o.capacity = 1 << 14;
  o.max_message = 256;
  o.wait = WaitStrategy::kBlocking;
  o.liveness_interval = liveness;
  return o;
}

std::span<const std::byte> as_bytes(const std::uint64_t& v) {
  return std::as_bytes(std::span<const std::uint64_t, 1>(&v, 1));
}

std::uint64_t as_u64(std::span<const std::byte> d) {
  std::uint64_t v = ~std::uint64_t{0};
  if (d.size() == sizeof v) std::memcpy(&v, d.data(), sizeof v);
  return v;
}

// Sends [0, count) as u64 messages; every `burst` messages it yields so the consumer goes to sleep
// often (arm/disarm races).
int produce(const std::string& name, std::uint64_t count, std::uint64_t burst, ChannelOptions o = opts()) {
  auto tx = SpscProducer::open(name, OpenMode::kOpenExisting, o);
  if (!tx) return 10;
  for (std::uint64_t i = 0; i < count; ++i) {
    auto s = tx->send(as_bytes(i));
    if (!s || *s != ChannelStatus::kOk) return 11;
    if (burst != 0 && i % burst == burst - 1) std::this_thread::sleep_for(std::chrono::microseconds(i % 7 * 20));
  }
  return 0;
}

// Adds `fd` for EPOLLIN with `tag` as its data.
void watch(int ep, int fd, std::uint64_t tag) {
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = tag;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0) << std::strerror(errno);
}

// Drains `rx` with try_receive; checks the sequence; returns the final status (kWouldBlock, or the
// peer's end).
ChannelStatus drain(SpscConsumer& rx, std::uint64_t& expect) {
  for (;;) {
    auto v = rx.try_receive();
    if (!v) {
      ADD_FAILURE() << v.error().str();
      return ChannelStatus::kTimedOut;
    }
    if (v->status != ChannelStatus::kOk) return v->status;
    EXPECT_EQ(as_u64(v->data), expect);
    ++expect;
    if (!rx.release()) return ChannelStatus::kTimedOut;
  }
}

TEST(Epoll, NotificationFdIsTheNativeHandle) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, opts()));
  EXPECT_EQ(rx.native_handle(), -1);
  EXPECT_TRUE(test::FailsWith(rx.arm(), {"channel_arm", "enable_notification"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(rx.native_handle(), fd);
  IPCKIT_ASSERT_OK_AND_ASSIGN(const int again, rx.enable_notification());
  EXPECT_EQ(again, fd);
  // No producer has ever claimed the role: nothing to receive, safe to wait.
  IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
  EXPECT_TRUE(armed);
  rx.disarm();
}

TEST(Epoll, ArmRefusesToSleepWithDataPresentOrProducerClosed) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, opts()));
  IPCKIT_ASSERT_OK(rx.enable_notification());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, opts()));
  const std::uint64_t v = 7;
  IPCKIT_ASSERT_OK(tx.send(as_bytes(v)));
  // The re-check after arming sees the record: do not wait.
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool armed, rx.arm());
  EXPECT_FALSE(armed);
  std::uint64_t expect = 7;
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(armed, rx.arm());
  EXPECT_TRUE(armed);
  // An armed consumer is notified by the next send: the fd becomes readable.
  IPCKIT_ASSERT_OK(tx.send(as_bytes(expect)));
  EXPECT_EQ(poll_one(rx.native_handle(), POLLIN, deadline_after(5s)).value_or(0) & POLLIN, POLLIN);
  rx.disarm();
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  (void)tx.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(armed, rx.arm());
  EXPECT_FALSE(armed);  // the producer closed: drain to learn it
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kPeerClosed);
}

// One epoll loop over several channels (each fed by its own producer process), a pipe and a
// timerfd; every message arrives in order, and the loop ends when every producer closed.
TEST(Epoll, SeveralChannelsPipeAndTimerInOneLoop) {
  constexpr std::size_t kChannels = 3;
  const std::uint64_t count = test::scaled(3000);
  std::array<ChannelName, kChannels> names;
  std::vector<SpscConsumer> rxs;
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.valid());
  for (std::size_t i = 0; i < kChannels; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(names[i].name, OpenMode::kCreateExclusive, opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
    watch(ep.get(), fd, i);
    rxs.push_back(std::move(rx));
  }
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd pr(p[0]), pw(p[1]);
  watch(ep.get(), pr.get(), 100);
  UniqueFd tfd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  ASSERT_TRUE(tfd.valid());
  itimerspec spec{};
  spec.it_value.tv_nsec = 5'000'000;
  spec.it_interval.tv_nsec = 5'000'000;
  ASSERT_EQ(::timerfd_settime(tfd.get(), 0, &spec, nullptr), 0);
  watch(ep.get(), tfd.get(), 200);

  std::vector<pid_t> kids;
  for (std::size_t i = 0; i < kChannels; ++i) {
    kids.push_back(test::spawn_child([&, i] { return produce(names[i].name, count, 1 + i * 16, opts()); }));
  }
  const pid_t writer = test::spawn_child([&] {
    std::this_thread::sleep_for(20ms);
    return ::write(pw.get(), "x", 1) == 1 ? 0 : 1;
  });
  std::array<std::uint64_t, kChannels> expect{};
  std::array<bool, kChannels> done{};
  bool pipe_seen = false;
  std::uint64_t ticks = 0;
  const Deadline deadline = deadline_after(60s);
  while (!(pipe_seen && std::all_of(done.begin(), done.end(), [](bool d) { return d; }))) {
    ASSERT_LT(Clock::now(), deadline) << "stuck at " << expect[0] << "/" << expect[1] << "/" << expect[2];
    // Drain, then arm; a channel whose arm() says "not now" is drained again at once.
    bool again = false;
    for (std::size_t i = 0; i < kChannels; ++i) {
      if (done[i]) continue;
      const ChannelStatus st = drain(rxs[i], expect[i]);
      if (st == ChannelStatus::kPeerClosed) {
        done[i] = true;
        continue;
      }
      ASSERT_EQ(st, ChannelStatus::kWouldBlock) << to_string(st);
      IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rxs[i].arm());
      again = again || !armed;
    }
    if (again) continue;
    std::array<epoll_event, 8> ev{};
    const int k = ::epoll_wait(ep.get(), ev.data(), static_cast<int>(ev.size()), 5000);
    ASSERT_GE(k, 0) << std::strerror(errno);
    for (int j = 0; j < k; ++j) {
      const std::uint64_t tag = ev[static_cast<std::size_t>(j)].data.u64;
      if (tag < kChannels) {
        rxs[tag].disarm();
      } else if (tag == 100) {
        char c = 0;
        pipe_seen = ::read(pr.get(), &c, 1) == 1 || pipe_seen;
      } else {
        std::uint64_t x = 0;
        if (::read(tfd.get(), &x, sizeof x) == sizeof x) ticks += x;
      }
    }
  }
  for (std::size_t i = 0; i < kChannels; ++i) EXPECT_EQ(expect[i], count) << "channel " << i;
  for (const pid_t k : kids) EXPECT_TRUE(test::wait_child(k).ok());
  EXPECT_TRUE(test::wait_child(writer).ok());
  EXPECT_GT(ticks, 0u);
}

// Many rounds of arm/disarm against a producer that publishes in small bursts. The liveness timer
// is set to an hour so only the producer's notification can wake the loop: a lost wake-up shows as
// a 5 s epoll timeout with the producer not finished.
TEST(Epoll, NoLostWakeUpUnderArmDisarmRaces) {
  ChannelName n;
  const auto o = opts(3600s);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
  const std::uint64_t count = test::scaled(20000);
  const pid_t kid = test::spawn_child([&] { return produce(n.name, count, 3, o); });
  std::uint64_t expect = 0;
  std::uint64_t sleeps = 0;
  for (;;) {
    const ChannelStatus st = drain(rx, expect);
    if (st == ChannelStatus::kPeerClosed) break;
    ASSERT_EQ(st, ChannelStatus::kWouldBlock) << to_string(st);
    IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
    if (!armed) continue;
    ++sleeps;
    auto r = poll_one(fd, POLLIN, deadline_after(5s));
    ASSERT_TRUE(r.has_value());
    ASSERT_NE(*r & POLLIN, 0) << "lost wake-up: asleep with " << expect << " of " << count << " received";
    rx.disarm();
  }
  EXPECT_EQ(expect, count);
  EXPECT_TRUE(test::wait_child(kid).ok());
  EXPECT_GT(sleeps, 0u);
  RecordProperty("sleeps", std::to_string(sleeps));
}

// The consumer armed; the producer publishes and dies before notifying (simulated by clearing
// `armed` in the shared header first, so the producer skips the notification, then SIGKILL). The
// consumer's liveness timer wakes it: the record is delivered, then the death is reported.
TEST(Epoll, ProducerDyingBetweenPublishAndNotifyDoesNotStrandData) {
  ChannelName n;
  const auto o = opts(50ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
  IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
  ASSERT_TRUE(armed);
  const auto child = test::run_in_child([&] {
    auto tx = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx) return 1;
    const int shm = ::shm_open(n.name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (shm < 0) return 2;
    void* p = ::mmap(nullptr, channel_layout::kHeaderSize, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    if (p == MAP_FAILED) return 3;
    auto* h = static_cast<channel_layout::Header*>(p);
    std::atomic_ref<std::uint32_t>(h->wait.armed).store(0, std::memory_order_seq_cst);
    const std::uint64_t v = 42;
    if (!tx->send(as_bytes(v))) return 4;
    ::raise(SIGKILL);
    return 5;
  });
  EXPECT_EQ(child.signal, SIGKILL) << child.describe();
  // Woken by the timer (spurious for the data, but it re-checks): at most a few intervals.
  auto r = poll_one(fd, POLLIN, deadline_after(10s));
  ASSERT_TRUE(r.has_value());
  ASSERT_NE(*r & POLLIN, 0) << "consumer asleep forever with data present";
  rx.disarm();
  std::uint64_t expect = 42;
  ChannelStatus st = drain(rx, expect);
  EXPECT_EQ(expect, 43u);
  // The death is reported within a few liveness intervals.
  const Deadline deadline = deadline_after(10s);
  while (st == ChannelStatus::kWouldBlock && Clock::now() < deadline) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(const bool a, rx.arm());
    if (a) (void)poll_one(fd, POLLIN, deadline_after(1s));
    rx.disarm();
    st = drain(rx, expect);
  }
  EXPECT_EQ(st, ChannelStatus::kPeerDied) << to_string(st);
}

// A consumer that dies armed leaves a stale `armed` and a gone socket: the producer's notification
// fails quietly; a new consumer gets its own socket and is notified; a producer that joins later
// (a new process) fetches the new consumer's eventfd.
TEST(Epoll, DeadConsumerIsDroppedAndLaterProducersFindTheNewOne) {
  ChannelName n;
  const auto o = opts(3600s);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  const auto dead = test::run_in_child([&] {
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!rx || !rx->enable_notification()) return 1;
    auto a = rx->arm();
    if (!a || !*a) return 2;
    ::raise(SIGKILL);
    return 3;
  });
  EXPECT_EQ(dead.signal, SIGKILL) << dead.describe();
  std::uint64_t sent = 0;
  IPCKIT_ASSERT_OK(tx.send(as_bytes(sent)));  // armed by a dead consumer: connect refused, no error
  ++sent;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
  EXPECT_TRUE(rx.reclaimed());
  IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
  std::uint64_t expect = 0;
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  for (int round = 0; round < 3; ++round) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
    ASSERT_TRUE(armed);
    IPCKIT_ASSERT_OK(tx.send(as_bytes(sent)));
    ++sent;
    auto r = poll_one(fd, POLLIN, deadline_after(5s));
    ASSERT_TRUE(r.has_value());
    ASSERT_NE(*r & POLLIN, 0) << "round " << round;
    rx.disarm();
    EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  }
  (void)tx.close();
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kPeerClosed);
  EXPECT_EQ(expect, sent);
  // A producer joining later, in another process, notifies the armed consumer.
  test::ReadyPipe opened, go;
  const pid_t later = test::spawn_child([&] {
    auto tx2 = SpscProducer::open(n.name, OpenMode::kOpenExisting, o);
    if (!tx2) return 1;
    opened.signal();
    if (!go.wait(deadline_after(10s))) return 2;
    const std::uint64_t v = 1000;
    if (!tx2->send(as_bytes(v))) return 3;
    // Stay alive (holding the role) until the consumer has seen the record.
    return go.wait(deadline_after(10s)) ? 0 : 4;
  });
  ASSERT_TRUE(opened.wait(deadline_after(10s)));
  expect = 1000;
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
  EXPECT_TRUE(armed);
  go.signal();
  auto r = poll_one(fd, POLLIN, deadline_after(5s));
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(*r & POLLIN, 0) << "a later producer did not notify the armed consumer";
  rx.disarm();
  EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
  EXPECT_EQ(expect, 1001u);
  go.signal();
  EXPECT_TRUE(test::wait_child(later).ok());
}

// Enabling, arming, notifying and closing leave no descriptor behind on either side.
TEST(Epoll, NoDescriptorLeaks) {
  const auto before = test::open_fds();
  {
    ChannelName n;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(const int fd, rx.enable_notification());
    std::uint64_t expect = 0;
    for (std::uint64_t i = 0; i < 5; ++i) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(const bool armed, rx.arm());
      ASSERT_TRUE(armed);
      IPCKIT_ASSERT_OK(tx.send(as_bytes(i)));
      ASSERT_NE(poll_one(fd, POLLIN, deadline_after(5s)).value_or(0) & POLLIN, 0);
      rx.disarm();
      EXPECT_EQ(drain(rx, expect), ChannelStatus::kWouldBlock);
    }
    // Moving endpoints moves their notification state (no double close, no leak).
    SpscConsumer moved = std::move(rx);
    EXPECT_EQ(moved.native_handle(), fd);
    EXPECT_EQ(rx.native_handle(), -1);
    SpscProducer tx2 = std::move(tx);
    (void)tx2.close();
    (void)moved.close();
    EXPECT_EQ(moved.native_handle(), -1);
  }
  EXPECT_EQ(test::open_fds(), before);
}

// Idle in epoll mode: one timer wake-up per liveness_interval (1 s by default) and nothing else.
TEST(Epoll, IdleReceiverUsesAlmostNoCpu) {
  ChannelName n;
  auto o = opts(1000ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  const auto child = test::run_in_child([&] {
    auto rx = SpscConsumer::open(n.name, OpenMode::kOpenExisting, o);
    if (!rx || !rx->enable_notification()) return 1;
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event e{};
    e.events = EPOLLIN;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, rx->native_handle(), &e) != 0) return 2;
    timespec a{}, b{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    const Deadline end = deadline_after(2s);
    while (Clock::now() < end) {
      std::uint64_t x = 0;
      if (drain(*rx, x) != ChannelStatus::kWouldBlock) return 3;
      auto armed = rx->arm();
      if (!armed) return 4;
      if (*armed) (void)::epoll_wait(ep.get(), &e, 1, poll_timeout_ms(end));
      rx->disarm();
    }
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    const std::int64_t ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    return ::write(w.get(), &ns, sizeof ns) == sizeof ns ? 0 : 5;
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  std::int64_t ns = 0;
  ASSERT_EQ(::read(r.get(), &ns, sizeof ns), static_cast<ssize_t>(sizeof ns));
  // Not a performance figure (the < 1 ms per 10 s target is measured by
  // bench/micro/channel_epoll_bench, BM_IdleEpollReceiverCpu): this catches a receiver that spins
  // instead of waiting in epoll. The bound (5% of a CPU) leaves room for a loaded CI machine.
  EXPECT_LT(ns, 100'000'000) << "CPU used by an idle epoll receiver in 2 s: " << ns << " ns";
  RecordProperty("idle_cpu_ns_per_2s", std::to_string(ns));
}

}  // namespace
}  // namespace ipckit
