// SPDX-License-Identifier: Apache-2.0
// The channel's contract, typed over its three patterns (SPSC, MPMC, broadcast): what every endpoint
// promises whatever the pattern (docs/channel.md, "Sessions"). Each pattern is reached through a
// small traits struct that maps its calls and outcomes onto one vocabulary, so one test body checks
// all three. Processes are real (fork); readiness is a pipe, never a sleep.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
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

enum class Outcome { kOk, kWouldBlock, kTimedOut, kClosed, kDied, kOther };

const char* name_of(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kWouldBlock: return "would block";
    case Outcome::kTimedOut: return "timed out";
    case Outcome::kClosed: return "peer closed";
    case Outcome::kDied: return "peer died";
    case Outcome::kOther: return "other";
  }
  return "?";
}
std::ostream& operator<<(std::ostream& os, Outcome o) { return os << name_of(o); }

Outcome outcome(ChannelStatus s) {
  switch (s) {
    case ChannelStatus::kOk: return Outcome::kOk;
    case ChannelStatus::kWouldBlock: return Outcome::kWouldBlock;
    case ChannelStatus::kTimedOut: return Outcome::kTimedOut;
    case ChannelStatus::kPeerClosed: return Outcome::kClosed;
    case ChannelStatus::kPeerDied: return Outcome::kDied;
  }
  return Outcome::kOther;
}
Outcome outcome(BroadcastStatus s) {
  switch (s) {
    case BroadcastStatus::kOk: return Outcome::kOk;
    case BroadcastStatus::kWouldBlock: return Outcome::kWouldBlock;
    case BroadcastStatus::kTimedOut: return Outcome::kTimedOut;
    case BroadcastStatus::kPeerClosed: return Outcome::kClosed;
    case BroadcastStatus::kPeerDied: return Outcome::kDied;
    case BroadcastStatus::kLapsed:
    case BroadcastStatus::kEvicted: break;
  }
  return Outcome::kOther;
}

struct Got {
  Outcome outcome = Outcome::kOther;
  std::string data;
};

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

ChannelOptions base_options() {
  ChannelOptions o;
  o.capacity = 32768;  // MPMC's 16 KiB member table comes out of it
  o.max_message = 64;
  o.liveness_interval = 50ms;
  return o;
}

// Receives into a buffer of `size` bytes (0: max_message).
template <class Rx>
Result<Got> receive_copy(Rx& rx, Deadline deadline, bool wait, std::size_t size) {
  std::vector<std::byte> buf(size != 0 ? size : rx.max_message());
  auto r = wait ? rx.receive_until(buf, deadline) : rx.try_receive(buf);
  if (!r) return fail(r.error());
  Got g;
  g.outcome = outcome(r->status);
  if (g.outcome == Outcome::kOk) g.data.assign(reinterpret_cast<const char*>(buf.data()), r->size);
  return g;
}

struct Spsc {
  using Channel = SpscChannel;
  using Tx = SpscProducer;
  using Rx = SpscConsumer;
  static constexpr bool kLateReceiverGetsPending = true;
  static Result<Tx> open_tx(const std::string& n, OpenMode m) { return Tx::open(n, m, base_options()); }
  static Result<Rx> open_rx(const std::string& n, OpenMode m) { return Rx::open(n, m, base_options()); }
  static Result<Outcome> ready(Tx&, Deadline) { return Outcome::kOk; }  // the ring keeps messages
  static Result<Outcome> send(Tx& tx, const std::string& m, Deadline d) {
    auto r = tx.send_until(bytes(m), d);
    if (!r) return fail(r.error());
    return outcome(*r);
  }
  static bool consumers_gone(Tx&) { return false; }  // reported as kPeerDied by send
};

struct Mpmc {
  using Channel = MpmcChannel;
  using Tx = MpmcProducer;
  using Rx = MpmcConsumer;
  static constexpr bool kLateReceiverGetsPending = true;
  static Result<Tx> open_tx(const std::string& n, OpenMode m) { return Tx::open(n, m, base_options()); }
  static Result<Rx> open_rx(const std::string& n, OpenMode m) { return Rx::open(n, m, base_options()); }
  static Result<Outcome> ready(Tx&, Deadline) { return Outcome::kOk; }
  static Result<Outcome> send(Tx& tx, const std::string& m, Deadline d) {
    auto r = tx.send_until(bytes(m), d);
    if (!r) return fail(r.error());
    return outcome(*r);
  }
  static bool consumers_gone(Tx&) { return false; }
};

struct Broadcast {
  using Channel = BroadcastChannel;
  using Tx = BroadcastPublisher;
  using Rx = BroadcastSubscriber;
  static constexpr bool kLateReceiverGetsPending = false;  // a subscriber starts at the tail
  static BroadcastOptions options() {
    BroadcastOptions o;
    o.channel = base_options();
    o.channel.capacity = 1024;  // 12 slots
    o.policy = BroadcastPolicy::kBlock;
    return o;
  }
  static Result<Tx> open_tx(const std::string& n, OpenMode m) { return Tx::open(n, m, options()); }
  static Result<Rx> open_rx(const std::string& n, OpenMode m) { return Rx::open(n, m, options()); }
  static Result<Outcome> ready(Tx& tx, Deadline d) {
    auto r = tx.wait_for_subscribers_until(1, d);
    if (!r) return fail(r.error());
    return outcome(*r);
  }
  static Result<Outcome> send(Tx& tx, const std::string& m, Deadline d) {
    auto r = tx.send_until(bytes(m), d);
    if (!r) return fail(r.error());
    return outcome(*r);
  }
  // A publisher is never told "closed": it sees its subscribers go.
  static bool consumers_gone(Tx& tx) { return tx.counters().subscribers == 0 && tx.counters().dead_removed > 0; }
};

template <class T>
class Contract : public ::testing::Test {
 protected:
  test::ChannelName<typename T::Channel> n;

  typename T::Tx tx(OpenMode m = OpenMode::kOpenOrCreate) {
    auto r = T::open_tx(n.name, m);
    EXPECT_TRUE(r) << r.error().str();
    return r ? std::move(*r) : typename T::Tx{};
  }
  typename T::Rx rx(OpenMode m = OpenMode::kOpenOrCreate) {
    auto r = T::open_rx(n.name, m);
    EXPECT_TRUE(r) << r.error().str();
    return r ? std::move(*r) : typename T::Rx{};
  }
  // Sends every message, after waiting for a receiver where the pattern needs one.
  void send_all(typename T::Tx& t, const std::vector<std::string>& msgs) {
    auto r = T::ready(t, deadline_after(10s));
    ASSERT_TRUE(r) << r.error().str();
    ASSERT_EQ(*r, Outcome::kOk);
    for (const auto& m : msgs) {
      auto s = T::send(t, m, deadline_after(10s));
      ASSERT_TRUE(s) << s.error().str();
      ASSERT_EQ(*s, Outcome::kOk);
    }
  }
  // Receives `msgs` in order, then expects `end`.
  void expect_stream(typename T::Rx& r, const std::vector<std::string>& msgs, Outcome end) {
    for (const auto& m : msgs) {
      auto g = receive_copy(r, deadline_after(10s), true, 0);
      ASSERT_TRUE(g) << g.error().str();
      ASSERT_EQ(g->outcome, Outcome::kOk);
      EXPECT_EQ(g->data, m);
    }
    auto g = receive_copy(r, deadline_after(10s), true, 0);
    ASSERT_TRUE(g) << g.error().str();
    EXPECT_EQ(g->outcome, end);
  }
};

using Patterns = ::testing::Types<Spsc, Mpmc, Broadcast>;
class PatternNames {
 public:
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, Spsc>) return "Spsc";
    if constexpr (std::is_same_v<T, Mpmc>) return "Mpmc";
    return "Broadcast";
  }
};
TYPED_TEST_SUITE(Contract, Patterns, PatternNames);

TYPED_TEST(Contract, ClosedEndpointIsAnErrorNotACrash) {
  auto r = this->rx();
  auto t = this->tx();
  (void)t.close();
  (void)r.close();
  EXPECT_TRUE(test::FailsWith(TypeParam::send(t, "x", deadline_after(10ms)), {"closed"}));
  EXPECT_TRUE(test::FailsWith(receive_copy(r, deadline_after(10ms), false, 64), {"closed"}));
}

TYPED_TEST(Contract, EndpointInheritedByForkIsRefusedInTheChild) {
  auto r = this->rx();
  auto t = this->tx();
  const auto child = test::run_in_child([&] {
    // One text for every pattern (detail::Attachment::unusable_error()).
    const bool send_refused =
        test::FailsWith(TypeParam::send(t, "x", deadline_after(10ms)), {"inherited through fork()"});
    const bool recv_refused =
        test::FailsWith(receive_copy(r, deadline_after(10ms), false, 0), {"inherited through fork()"});
    return send_refused && recv_refused ? 0 : 1;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  // The parent's endpoints still work.
  this->send_all(t, {"after fork"});
  (void)t.close();
  this->expect_stream(r, {"after fork"}, Outcome::kClosed);
}

// Move assignment closes the endpoint assigned to (its role is released, its peer told) and leaves
// the source closed; the moved endpoint goes on where the source stopped (detail::replace_endpoint()).
TYPED_TEST(Contract, MoveAssignmentClosesTheTargetAndLeavesTheSourceClosed) {
  auto r = this->rx();
  auto first = this->tx();
  typename TypeParam::Tx moved;
  moved = std::move(first);
  EXPECT_FALSE(first.valid());
  EXPECT_TRUE(test::FailsWith(TypeParam::send(first, "x", deadline_after(10ms)), {"closed"}));
  this->send_all(moved, {"through the moved endpoint"});
  typename TypeParam::Rx r2;
  r2 = std::move(r);
  EXPECT_FALSE(r.valid());
  moved = typename TypeParam::Tx{};  // closes the sender: the receiver drains, then sees the end
  EXPECT_FALSE(moved.valid());
  this->expect_stream(r2, {"through the moved endpoint"}, Outcome::kClosed);
  // The role was released: a new sender can take it.
  auto again = this->tx();
  EXPECT_TRUE(again.valid());
}

// A buffer too small for the message is kTooLarge naming the sizes, and the message is not lost.
// (SPSC refuses only a record that does not fit; MPMC and broadcast refuse any buffer smaller than
// max_message, before taking a message.)
TYPED_TEST(Contract, CopyIntoASmallBufferIsTooLargeAndLosesNothing) {
  auto r = this->rx();
  auto t = this->tx();
  this->send_all(t, {std::string(40, 'm')});
  EXPECT_TRUE(test::FailsWith(receive_copy(r, deadline_after(1s), true, 8), {"too large", "bytes"}));
  (void)t.close();
  this->expect_stream(r, {std::string(40, 'm')}, Outcome::kClosed);
}

TYPED_TEST(Contract, TimeoutIsALowerBound) {
  auto r = this->rx();
  auto t = this->tx();
  const auto start = Clock::now();
  auto g = receive_copy(r, start + 60ms, true, 0);
  ASSERT_TRUE(g) << g.error().str();
  EXPECT_EQ(g->outcome, Outcome::kTimedOut);
  EXPECT_GE(Clock::now() - start, 60ms);
  auto w = receive_copy(r, {}, false, 0);
  ASSERT_TRUE(w) << w.error().str();
  EXPECT_EQ(w->outcome, Outcome::kWouldBlock);
}

TYPED_TEST(Contract, PeerClosedComesAfterEverythingWasDrained) {
  auto r = this->rx();
  {
    auto t = this->tx();
    this->send_all(t, {"1", "2", "3"});
  }
  this->expect_stream(r, {"1", "2", "3"}, Outcome::kClosed);
  // Sticky: asked again, still the end.
  auto g = receive_copy(r, {}, false, 0);
  ASSERT_TRUE(g) << g.error().str();
  EXPECT_EQ(g->outcome, Outcome::kClosed);
}

TYPED_TEST(Contract, PeerDiedComesAfterEverythingItPublished) {
  auto r = this->rx();
  const std::string name = this->n.name;
  test::HeldChild producer([&] {
    auto t = TypeParam::open_tx(name, OpenMode::kOpenExisting);
    if (!t) return false;
    auto* held = new typename TypeParam::Tx(std::move(*t));  // never closed: killed holding it
    if (!TypeParam::ready(*held, deadline_after(10s))) return false;
    for (const char* m : {"a", "b"}) {
      auto s = TypeParam::send(*held, m, deadline_after(10s));
      if (!s || *s != Outcome::kOk) return false;
    }
    return true;
  });
  ASSERT_TRUE(producer.ok());
  producer.kill();
  this->expect_stream(r, {"a", "b"}, Outcome::kDied);
}

// Scenario 1: a name serves any number of sessions in a row.
TYPED_TEST(Contract, SessionsBackToBackOnOneName) {
  for (int session = 0; session < 3; ++session) {
    auto r = this->rx();
    {
      auto idle = receive_copy(r, {}, false, 0);
      ASSERT_TRUE(idle) << idle.error().str();
      EXPECT_EQ(idle->outcome, Outcome::kWouldBlock) << "session " << session << " was ended by an earlier one";
    }
    const std::string m = "session " + std::to_string(session);
    {
      auto t = this->tx();
      this->send_all(t, {m});
    }
    this->expect_stream(r, {m}, Outcome::kClosed);
  }
}

// Scenario 2: a receiver that leaves before the end (recv --count) leaves no end behind.
TYPED_TEST(Contract, ReceiverThatLeftEarlyLeavesNoEndForTheNextSession) {
  {
    auto r = this->rx();
    auto t = this->tx();
    this->send_all(t, {"a"});
    auto g = receive_copy(r, deadline_after(10s), true, 0);
    ASSERT_TRUE(g) << g.error().str();
    ASSERT_EQ(g->outcome, Outcome::kOk);
    (void)r.close();  // before the producer closes
  }
  auto r = this->rx();
  auto idle = receive_copy(r, {}, false, 0);
  ASSERT_TRUE(idle) << idle.error().str();
  EXPECT_EQ(idle->outcome, Outcome::kWouldBlock);
  {
    auto t = this->tx();
    this->send_all(t, {"b"});
  }
  this->expect_stream(r, {"b"}, Outcome::kClosed);
}

// Scenario 3: sender first. SPSC and MPMC keep the messages; a broadcast publisher waits for a
// subscriber (wait_for_subscribers) before it sends, so nothing is published to nobody.
TYPED_TEST(Contract, SenderFirstLosesNothing) {
  auto t = this->tx();
  std::thread sender([&] {
    this->send_all(t, {"1", "2", "3"});
    (void)t.close();
  });
  auto r = this->rx();
  this->expect_stream(r, {"1", "2", "3"}, Outcome::kClosed);
  sender.join();
}

TYPED_TEST(Contract, ReceiverFirstLosesNothing) {
  auto r = this->rx();
  {
    auto t = this->tx();
    this->send_all(t, {"1", "2", "3"});
  }
  this->expect_stream(r, {"1", "2", "3"}, Outcome::kClosed);
}

// A receiver that attaches after the producer closed gets what is left, then that session's end.
TYPED_TEST(Contract, LateReceiverGetsWhatIsLeftThenTheEnd) {
  if constexpr (!TypeParam::kLateReceiverGetsPending) {
    GTEST_SKIP() << "a broadcast subscriber starts at the tail: its publisher waits for it instead";
  } else {
    {
      auto t = this->tx();
      this->send_all(t, {"x", "y"});
    }
    auto r = this->rx();
    this->expect_stream(r, {"x", "y"}, Outcome::kClosed);
  }
}

// Scenario 4: a SIGKILLed receiver is found by a sender that sends in short slices.
TYPED_TEST(Contract, KilledReceiverIsFoundBySlicedSends) {
  auto t = this->tx();
  const std::string name = this->n.name;
  test::HeldChild consumer([&] {
    auto r = TypeParam::open_rx(name, OpenMode::kOpenExisting);
    if (!r) return false;
    new typename TypeParam::Rx(std::move(*r));  // never closed: killed holding it
    return true;
  });
  ASSERT_TRUE(consumer.ok());
  {
    auto ready = TypeParam::ready(t, deadline_after(10s));
    ASSERT_TRUE(ready) << ready.error().str();
    auto first = TypeParam::send(t, "seen alive", deadline_after(10s));
    ASSERT_TRUE(first) << first.error().str();
    ASSERT_EQ(*first, Outcome::kOk);
  }
  consumer.kill();
  Outcome last = Outcome::kOk;
  bool gone = false;
  for (int slice = 0; slice < 500 && !gone; ++slice) {  // 500 x 20 ms: far more than the 50 ms interval
    auto s = TypeParam::send(t, std::string(60, 'f'), deadline_after(20ms));
    ASSERT_TRUE(s) << s.error().str();
    last = *s;
    gone = last == Outcome::kDied || TypeParam::consumers_gone(t);
  }
  EXPECT_TRUE(gone) << "the killed receiver was never found; last send: " << last;
}

// Scenario 5: a name that fits but whose derived names do not is refused before anything exists;
// a name that works, works for both sides.
TYPED_TEST(Contract, LongNameWorksOrIsRefusedBeforeCreating) {
  std::string name = test::unique_name() + ".long.";  // unique across runs, padded below
  name += std::string(250 - name.size(), 'c');
  auto t = TypeParam::open_tx(name, OpenMode::kOpenOrCreate);
  if (!t) {
    EXPECT_NE(t.error().str().find("too long"), std::string::npos) << t.error().str();
    for (const std::string& obj : {name, name + ".ctl"}) {
      const int fd = ::shm_open(obj.c_str(), O_RDONLY, 0);
      EXPECT_LT(fd, 0) << "an object was created before the name was refused";
      if (fd >= 0) ::close(fd);
    }
  } else {
    auto r = TypeParam::open_rx(name, OpenMode::kOpenExisting);
    ASSERT_TRUE(r) << r.error().str();
    auto s = TypeParam::send(*t, "fits", deadline_after(1s));
    ASSERT_TRUE(s) << s.error().str();
    auto g = receive_copy(*r, deadline_after(10s), true, 0);
    ASSERT_TRUE(g) << g.error().str();
    EXPECT_EQ(g->data, "fits");
  }
  (void)TypeParam::Channel::unlink(name);
}

// Layout 3.0 moved MPMC's and broadcast's slots to whole cache lines: a channel made by a 2.x library
// is refused by every pattern, naming both versions, before any slot is read.
TYPED_TEST(Contract, SegmentOfLayout2IsRefusedNamingBothVersions) {
  { auto t = this->tx(); }
  const int fd = ::shm_open(this->n.name.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  void* p = ::mmap(nullptr, channel_layout::kHeaderSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED);
  auto* h = static_cast<channel_layout::Header*>(p);
  h->imm.version_major = 2;
  h->imm.version_minor = 0;
  ::munmap(p, channel_layout::kHeaderSize);
  EXPECT_TRUE(test::FailsWith(TypeParam::open_rx(this->n.name, OpenMode::kOpenExisting),
                              {"version mismatch", "layout version 2.0", "reads 3.x"}));
  EXPECT_TRUE(test::FailsWith(TypeParam::open_tx(this->n.name, OpenMode::kOpenOrCreate),
                              {"version mismatch", "layout version 2.0", "reads 3.x"}));
}

}  // namespace
}  // namespace ipckit
