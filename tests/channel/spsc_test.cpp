// SPDX-License-Identifier: Apache-2.0
// Single-process behaviour of the SPSC channel: API contracts, limits, roles, corrupt shared state.
#include "ipckit/channel/spsc.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/channel/typed.hpp"
#include "ipckit/core/mapping.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

namespace cl = channel_layout;
using namespace std::chrono_literals;

// Removes the channel at the end of a test.
using ChannelName = test::ChannelName<SpscChannel>;

ChannelOptions small(std::size_t capacity = 4096, std::size_t max = 256) {
  ChannelOptions o;
  o.capacity = capacity;
  o.max_message = max;
  o.liveness_interval = 20ms;
  return o;
}

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((seed * 131 + i * 7) & 0xff);
  return v;
}

// Maps the channel's header directly, as a hostile or buggy peer would.
struct RawHeader {
  UniqueFd fd;
  Mapping map;
  cl::Header* h = nullptr;
  static RawHeader open(const std::string& name) {
    RawHeader r;
    r.fd = UniqueFd(::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0));
    struct stat st {};
    ::fstat(r.fd.get(), &st);
    r.map = std::move(*Mapping::map(r.fd.get(), static_cast<std::size_t>(st.st_size)));
    r.h = static_cast<cl::Header*>(r.map.data());
    return r;
  }
  std::byte* ring() const { return static_cast<std::byte*>(map.data()) + cl::kHeaderSize; }
};

TEST(Spsc, SendReceiveRoundTripsZeroAndMaxSizes) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{255},
                           std::size_t{256}}) {
    const auto msg = pattern(size, static_cast<std::uint32_t>(size));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(msg));
    ASSERT_EQ(st, ChannelStatus::kOk);
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto view, rx.try_receive());
    ASSERT_EQ(view.status, ChannelStatus::kOk) << to_string(view.status);
    ASSERT_EQ(view.data.size(), size);
    EXPECT_TRUE(std::equal(view.data.begin(), view.data.end(), msg.begin(), msg.end()));
    EXPECT_FALSE(view.redelivered);
    IPCKIT_ASSERT_OK(rx.release());
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto empty, rx.try_receive());
  EXPECT_EQ(empty.status, ChannelStatus::kWouldBlock);
}

TEST(Spsc, ZeroCopyReserveCommitAndShrink) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenOrCreate, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, tx.try_reserve(100));
  ASSERT_TRUE(r);
  ASSERT_EQ(r.data.size(), 100u);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(r.data.data()) % 8, 0u);  // payloads are 8-byte aligned
  std::memset(r.data.data(), 0x5a, 40);
  IPCKIT_ASSERT_OK(tx.commit_size(40));
  EXPECT_FALSE(tx.commit().has_value());  // nothing reserved any more
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto view, rx.try_receive());
  ASSERT_TRUE(view);
  ASSERT_EQ(view.data.size(), 40u);
  EXPECT_EQ(view.data[39], std::byte{0x5a});
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"release() the previous message first"}));
  IPCKIT_ASSERT_OK(rx.release());
  EXPECT_TRUE(test::FailsWith(rx.release(), {"no message is held"}));
}

TEST(Spsc, ReserveAboveMaxFailsNamingMax) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  EXPECT_TRUE(test::FailsWith(tx.try_reserve(257), {n.name, "too large", "257 bytes > max_message 256"}));
  EXPECT_TRUE(test::FailsWith(tx.reserve(1 << 20), {"max_message 256"}));
}

TEST(Spsc, CreationRejectsBadSizes) {
  ChannelName n;
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(4096, 4096)),
                              {"capacity 4096 < 2 x (max_message 4096 + 8 byte record header) = 8208",
                               "raise capacity to 16384"}));
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(5000, 16)),
                              {"capacity 5000 is not a power of two", "try 8192"}));
  EXPECT_TRUE(test::FailsWith(SpscProducer::open("nolash", OpenMode::kCreateExclusive, small()),
                              {"must start with '/'"}));
  // Nothing was left behind by the failed creations.
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()), {"ENOENT"}));
}

TEST(Spsc, WrapAroundKeepsRecordsContiguousAndOrdered) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(1024, 200)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small(1024, 200)));
  std::mt19937 rng(42);
  std::uint32_t sent = 0;
  std::uint32_t got = 0;
  const std::uint32_t total = static_cast<std::uint32_t>(test::scaled(20000));
  std::vector<std::size_t> sizes;
  while (got < total) {
    // Send a random burst until full, then drain a random amount: every offset and padding case.
    for (int k = std::uniform_int_distribution<int>(1, 12)(rng); k > 0 && sent < total; --k) {
      const std::size_t size = std::uniform_int_distribution<std::size_t>(0, 200)(rng);
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(pattern(size, sent)));
      if (st != ChannelStatus::kOk) {
        ASSERT_EQ(st, ChannelStatus::kWouldBlock);
        break;
      }
      sizes.push_back(size);
      ++sent;
    }
    for (int k = std::uniform_int_distribution<int>(1, 12)(rng); k > 0; --k) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto view, rx.try_receive());
      if (!view) break;
      ASSERT_EQ(view.data.size(), sizes[got]);
      const auto expect = pattern(sizes[got], got);
      ASSERT_TRUE(std::equal(view.data.begin(), view.data.end(), expect.begin(), expect.end())) << "message " << got;
      IPCKIT_ASSERT_OK(rx.release());
      ++got;
    }
  }
  const auto c = rx.counters();
  EXPECT_EQ(c.sent, total);
  EXPECT_EQ(c.received, total);
}

TEST(Spsc, FullRingWouldBlockThenTimesOutAfterDeadline) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(1024, 64)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small(1024, 64)));
  const auto msg = pattern(64, 1);
  int accepted = 0;
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(msg));
    if (st == ChannelStatus::kWouldBlock) break;
    ASSERT_EQ(st, ChannelStatus::kOk);
    ++accepted;
  }
  EXPECT_EQ(accepted, (1024 - 8) / 72);  // every record is 72 bytes; one word stays free
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.send_until(msg, deadline_after(30ms)));
  EXPECT_EQ(st, ChannelStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_GE(tx.counters().full_waits, 1u);
  // Two releases free room for the next send (the record no longer fits before the end of the
  // ring: 16 bytes of padding plus 72 plus the next word).
  for (int i = 0; i < 2; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto view, rx.try_receive());
    ASSERT_TRUE(view);
    IPCKIT_ASSERT_OK(rx.release());
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st2, tx.try_send(msg));
  EXPECT_EQ(st2, ChannelStatus::kOk);
}

TEST(Spsc, EmptyRingWouldBlockThenTimesOutForEveryStrategy) {
  for (WaitStrategy w : {WaitStrategy::kBusyPoll, WaitStrategy::kSpinThenFutex, WaitStrategy::kBlocking}) {
    ChannelName n;
    auto o = small();
    o.wait = w;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    EXPECT_EQ(v.status, ChannelStatus::kWouldBlock);
    const auto start = Clock::now();
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v2, rx.receive_until(deadline_after(25ms)));
    EXPECT_EQ(v2.status, ChannelStatus::kTimedOut) << to_string(w);
    EXPECT_GE(Clock::now() - start, 25ms) << to_string(w);
  }
}

TEST(Spsc, BatchIsInvisibleUntilFlush) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(65536, 64)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small(65536, 64)));
  for (std::uint32_t i = 0; i < 10; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(pattern(16, i), /*publish=*/false));
    ASSERT_EQ(st, ChannelStatus::kOk);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, rx.try_receive());
  EXPECT_EQ(none.status, ChannelStatus::kWouldBlock);
  tx.flush();
  for (std::uint32_t i = 0; i < 10; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
    ASSERT_TRUE(v) << i;
    EXPECT_EQ(std::memcmp(v.data.data(), pattern(16, i).data(), 16), 0);
    IPCKIT_ASSERT_OK(rx.release());
  }
  // A batch publishes itself after kMaxBatch records.
  for (std::uint32_t i = 0; i < SpscProducer::kMaxBatch; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, tx.try_send(pattern(8, i), false));
    ASSERT_EQ(st, ChannelStatus::kOk);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
  EXPECT_TRUE(v);
}

TEST(Spsc, SecondProducerOrConsumerGetsRoleTaken) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"role taken", "producer role is held by pid", "alive"}));
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"role taken", "consumer role"}));
  // Another process is refused too.
  auto child = test::run_in_child([&] {
    auto p = SpscProducer::open(n.name, OpenMode::kOpenExisting, small());
    if (p || !p.error().is(LibraryCode::kRoleTaken)) return 1;
    // The inherited endpoints refuse to work in the child.
    auto s = tx.try_send(pattern(4, 0));
    if (s || !s.error().is(LibraryCode::kRoleTaken)) return 2;
    auto r = rx.try_receive();
    if (r || !r.error().is(LibraryCode::kRoleTaken)) return 3;
    return 0;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  // After close() the role is free again.
  (void)tx.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx2, SpscProducer::open(n.name, OpenMode::kOpenExisting, small()));
  EXPECT_FALSE(tx2.reclaimed());
  // The inherited endpoint's destructor in the child did not release the parent's role.
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()), {"role taken"}));
}

TEST(Spsc, HolderInAnotherPidNamespaceIsNeverReclaimed) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  auto raw = RawHeader::open(n.name);
  // The recorded identity is for messages only: a live holder keeps its role whatever it says
  // (another pid namespace, a start time that no longer matches), because liveness is its token.
  raw.h->producer.who.pid_ns += 1;
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"role taken", "(alive, this process)"}));
  raw.h->producer.who.pid_ns -= 1;
  raw.h->producer.who.start_time += 1;
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"role taken", "(alive, this process)"}));
  // Once the holder is gone without releasing (here: its description closed, as the kernel does
  // when a process dies), the role is taken over.
  raw.h->producer.who.start_time -= 1;
  const std::uint64_t claim = raw.h->producer.claim;
  (void)tx.close();
  raw.h->producer.claim = claim;  // as if it had died: the claim stays, the token is gone
  raw.h->producer.closed = 0;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx2, SpscProducer::open(n.name, OpenMode::kOpenExisting, small()));
  EXPECT_TRUE(tx2.reclaimed());
  EXPECT_EQ(tx2.counters().reclaimed, 1u);
}

TEST(Spsc, AttachedEndpointsKeepWorkingAfterUnlink) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK(SpscChannel::unlink(n.name));
  EXPECT_TRUE(test::FailsWith(SpscChannel::unlink(n.name), {"shm_unlink", "ENOENT"}));
  IPCKIT_ASSERT_OK(tx.send(pattern(32, 9)));
  std::byte buf[64];
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.try_receive(buf));
  ASSERT_TRUE(got);
  EXPECT_EQ(got.size, 32u);
}

TEST(Spsc, ProducerCloseIsPeerClosedAfterDrain) {
  ChannelName n;
  auto o = small();
  o.wait = WaitStrategy::kBlocking;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, o));
  IPCKIT_ASSERT_OK(tx.send(pattern(10, 1)));
  (void)tx.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.receive());
  ASSERT_TRUE(v);
  IPCKIT_ASSERT_OK(rx.release());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v2, rx.receive());  // no deadline: closed, not a hang
  EXPECT_EQ(v2.status, ChannelStatus::kPeerClosed);
}

TEST(Spsc, CopyingReceiveIntoSmallBufferKeepsTheMessage) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  IPCKIT_ASSERT_OK(tx.send(pattern(100, 3)));
  std::vector<std::byte> small_buf(50), big(256);
  EXPECT_TRUE(test::FailsWith(rx.try_receive(small_buf), {"message of 100 bytes > buffer of 50 bytes"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.try_receive(big));
  ASSERT_TRUE(got);
  EXPECT_EQ(got.size, 100u);
  EXPECT_EQ(std::memcmp(big.data(), pattern(100, 3).data(), 100), 0);
}

// Layout 2.0 (sessions) and later cannot share a channel with a 1.x library: a segment of layout 1.1 is
// refused, naming both versions and what to do.
TEST(Spsc, SegmentOfLayout1IsRefusedNamingBothVersions) {
  ChannelName n;
  { IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small())); }
  auto raw = RawHeader::open(n.name);
  raw.h->imm.version_major = 1;
  raw.h->imm.version_minor = 1;
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"version mismatch", "layout version 1.1", "reads 3.x", "ipckit rm channel:/"}));
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()),
                              {"version mismatch", "layout version 1.1", "reads 3.x"}));
}

TEST(Spsc, CorruptMagicAndVersionAreErrors) {
  ChannelName n;
  { IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small())); }
  auto raw = RawHeader::open(n.name);
  raw.h->imm.version_major = 7;
  raw.h->imm.version_minor = 3;
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"version mismatch", "layout version 7.3", "reads 3.x"}));
  raw.h->imm.version_major = cl::kVersionMajor;
  raw.h->imm.capacity = 1ULL << 31;  // bigger than the object (within the 4 GiB limit): must not map past its end
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"corrupt", "object size"}));
  raw.h->imm.capacity = 4096;
  raw.h->imm.magic = 0x1234;
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()),
                              {"corrupt", "header magic 0x1234 is not an ipckit channel"}));
}

TEST(Spsc, GarbageIndicesAndRecordWordsAreErrorsNotCrashes) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small(1024, 64)));
  auto raw = RawHeader::open(n.name);
  // A consumer index far from the producer's: the consumer refuses to attach.
  raw.h->cons.head = 0x7777777777777770ULL;
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"corrupt", "consumer index 0x7777777777777770"}));
  raw.h->cons.head = 3;
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()), {"corrupt"}));
  raw.h->cons.head = 0;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  // The producer sees a garbage head when the ring looks full.
  for (int i = 0; i < 14; ++i) IPCKIT_ASSERT_OK(tx.try_send(pattern(64, 0)));
  raw.h->cons.head = 0x100000;
  EXPECT_TRUE(test::FailsWith(tx.try_send(pattern(64, 0)), {"corrupt", "consumer index 0x100000 is outside"}));
  raw.h->cons.head = 0;
  // A record word with a huge length or a foreign tag.
  auto* w = reinterpret_cast<std::uint64_t*>(raw.ring());
  const std::uint64_t good = *w;
  *w = (std::uint64_t{0xffffff} << 32) | cl::kCommitted | cl::position_tag(0);
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"corrupt", "exceeds max_message 64"}));
  *w = cl::make_word(4096, 8, false);
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"corrupt", "does not belong there"}));
  *w = cl::make_word(0, 0, true);  // padding at offset 0 would skip a whole lap
  EXPECT_TRUE(test::FailsWith(rx.try_receive(), {"corrupt", "bad padding"}));
  *w = good;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
  EXPECT_TRUE(v);
}

TEST(Spsc, OpenerWaitsForReadyFlagThenFailsNotReady) {
  ChannelName n;
  // A creator that died before setting the ready flag: a sized object with no header.
  UniqueFd fd(::shm_open(n.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::ftruncate(fd.get(), 1024 + 4096), 0);
  auto o = small();
  o.open_timeout = 50ms;
  const auto start = Clock::now();
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenOrCreate, o),
                              {"not ready", "within 50 ms"}));
  EXPECT_GE(Clock::now() - start, 50ms);
}

TEST(Spsc, PermissionsAre0600UnlessAsked) {
  ChannelName n;
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
    struct stat st {};
    ASSERT_EQ(::stat(("/dev/shm" + n.name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  ChannelName g;
  auto o = small();
  o.mode = 0660;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(g.name, OpenMode::kCreateExclusive, o));
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm" + g.name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

struct Tick {
  std::uint64_t seq;
  double price;
  std::int32_t qty;
};

TEST(Spsc, TypedChannelCarriesTAndRejectsOtherTypes) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, Channel<Tick>::producer(n.name, OpenMode::kCreateExclusive));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, Channel<Tick>::consumer(n.name, OpenMode::kOpenExisting));
  IPCKIT_ASSERT_OK(tx.send(Tick{7, 1.5, -3}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.try_receive());
  ASSERT_TRUE(got);
  EXPECT_EQ(got.value.seq, 7u);
  EXPECT_EQ(got.value.qty, -3);
  EXPECT_NE(Channel<Tick>::type_hash(), Channel<std::uint64_t>::type_hash());
  EXPECT_TRUE(test::FailsWith(Channel<std::uint64_t>::consumer(n.name, OpenMode::kOpenExisting),
                              {"message type hash"}));
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting), {"(0 = raw bytes)"}));
}

TEST(Spsc, CountersAreReadableWithoutARole) {
  ChannelName n;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, small()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kOpenExisting, small()));
  for (int i = 0; i < 5; ++i) IPCKIT_ASSERT_OK(tx.send(pattern(10, 0)));
  for (int i = 0; i < 3; ++i) {
    std::byte buf[16];
    IPCKIT_ASSERT_OK(rx.receive(buf));
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, SpscChannel::counters(n.name));
  EXPECT_EQ(c.sent, 5u);
  EXPECT_EQ(c.received, 3u);
  EXPECT_EQ(c.redelivered, 0u);
  EXPECT_EQ(c.reclaimed, 0u);
}

// SpscChannel::counters mapped the channel read-write: EACCES on a channel the monitor may only
// read. It maps it read-only now: another user can watch a 0644 channel.
TEST(Spsc, CountersOfAChannelThisUserMayOnlyReadWork) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: reads the channel as uid 65534";
  ChannelName n;
  auto o = small();
  o.mode = 0644;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK(tx.send(pattern(16, 1)));
  const test::ChildResult r = test::run_as_nobody([&] {
    auto c = SpscChannel::counters(n.name);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.error().str().c_str());
      return 10;
    }
    return c->sent == 1 ? 0 : 11;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// The commit word's position tag is (pos / 8) mod 2^30: it repeats every 8 GiB, so a larger ring
// would tag a record's word the same on every lap. Capacities above 4 GiB are refused by name.
TEST(Spsc, CapacityAbove4GiBIsRefused) {
  ChannelName n;
  auto o = small();
  o.capacity = std::uint64_t{1} << 33;
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kCreateExclusive, o),
                              {"capacity 8589934592", "<= 4294967296", "position tag"}));
}

}  // namespace
}  // namespace ipckit
