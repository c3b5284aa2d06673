// SPDX-License-Identifier: Apache-2.0
// The broadcast channel in one process: basic delivery, join/leave mid-stream, exact lapse
// accounting, pattern mismatch, read-only enforcement, garbage slots, cleanup.
#include <sys/mman.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "channel/message_check.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/spsc.hpp"
#include "channel/channel_name.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using BcName = test::ChannelName<BroadcastChannel>;

BroadcastOptions bopts(BroadcastPolicy p, std::size_t capacity = 4096, std::size_t max = 112) {
  BroadcastOptions o;
  o.channel.capacity = capacity;  // 4096 / (16 + 112) = 32 slots
  o.channel.max_message = max;
  o.channel.liveness_interval = 20ms;
  o.policy = p;
  o.evict_after = 100ms;
  return o;
}

std::vector<std::byte> msg(std::uint64_t seq, std::size_t max) {
  std::vector<std::byte> b(test::message_size(7, seq, max));
  test::fill_message(7, seq, b);
  return b;
}

bool exists(const std::string& shm) { return ::access(("/dev/shm" + shm).c_str(), F_OK) == 0; }

TEST(Broadcast, EverySubscriberGetsEveryMessageInOrder) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  EXPECT_EQ(pub.slots(), 32u);
  EXPECT_EQ(pub.policy(), BroadcastPolicy::kBlock);
  std::vector<BroadcastSubscriber> subs;
  for (int i = 0; i < 3; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
    EXPECT_EQ(s.policy(), BroadcastPolicy::kBlock);
    subs.push_back(std::move(s));
  }
  std::vector<std::byte> buf(o.channel.max_message);
  for (std::uint64_t seq = 0; seq < 200; ++seq) {
    auto m = msg(seq, o.channel.max_message);
    // A full ring would block: drain everyone in between.
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(m));
    ASSERT_EQ(st, BroadcastStatus::kOk) << seq;
    for (auto& s : subs) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
      ASSERT_EQ(r.status, BroadcastStatus::kOk);
      ASSERT_EQ(r.size, m.size());
      ASSERT_EQ(test::check_message({buf.data(), r.size}), seq);
    }
  }
  for (auto& s : subs) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
    EXPECT_EQ(r.status, BroadcastStatus::kWouldBlock);
    EXPECT_EQ(s.received(), 200u);
    EXPECT_EQ(s.lost(), 0u);
  }
  EXPECT_EQ(pub.counters().published, 200u);
  EXPECT_EQ(pub.counters().subscribers, 3u);
}

TEST(Broadcast, BlockPolicyWaitsForTheSlowestSubscriber) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  auto m = msg(0, o.channel.max_message);
  for (std::size_t i = 0; i < pub.slots(); ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(m));
    ASSERT_EQ(st, BroadcastStatus::kOk);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(m));
  EXPECT_EQ(st, BroadcastStatus::kWouldBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st2, pub.send_until(m, deadline_after(30ms)));
  EXPECT_EQ(st2, BroadcastStatus::kTimedOut);
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
  EXPECT_EQ(r.status, BroadcastStatus::kOk);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st3, pub.try_send(m));
  EXPECT_EQ(st3, BroadcastStatus::kOk);
}

TEST(Broadcast, EvictsTheSlowestAfterTheDeadlineAndTellsIt) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto slow, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  auto m = msg(0, o.channel.max_message);
  for (std::size_t i = 0; i < pub.slots(); ++i) ASSERT_TRUE(pub.try_send(m));
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.send_until(m, deadline_after(5s)));
  EXPECT_EQ(st, BroadcastStatus::kOk);
  EXPECT_GE(Clock::now() - start, o.evict_after);  // lower bound only
  EXPECT_EQ(pub.counters().evictions, 1u);
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, slow.try_receive(buf));
  EXPECT_EQ(r.status, BroadcastStatus::kEvicted);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, slow.try_receive(buf));
  EXPECT_EQ(r2.status, BroadcastStatus::kEvicted) << "eviction is sticky";
  // The publisher no longer waits for it.
  for (std::size_t i = 0; i < 3 * pub.slots(); ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, pub.try_send(m));
    ASSERT_EQ(s, BroadcastStatus::kOk);
  }
}

TEST(Broadcast, LapseAccountingIsExact) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  std::vector<std::byte> buf(o.channel.max_message);
  std::uint64_t published = 0, received = 0, lost = 0, lapses = 0, expect = 0;
  for (int round = 0; round < 50; ++round) {
    // Publish a random burst (sometimes more than a ring), then read a random number.
    const int burst = (round * 37) % 90;
    for (int i = 0; i < burst; ++i) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(msg(published, o.channel.max_message)));
      ASSERT_EQ(st, BroadcastStatus::kOk);
      ++published;
    }
    const int reads = (round * 53) % 40;
    for (int i = 0; i < reads; ++i) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
      if (r.status == BroadcastStatus::kWouldBlock) break;
      if (r.status == BroadcastStatus::kLapsed) {
        ASSERT_GT(r.lost, 0u);
        lost += r.lost;
        expect += r.lost;
        ++lapses;
        continue;
      }
      ASSERT_EQ(r.status, BroadcastStatus::kOk);
      ASSERT_EQ(test::check_message({buf.data(), r.size}), expect) << "in order, never torn";
      ++expect;
      ++received;
    }
  }
  for (;;) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
    if (r.status == BroadcastStatus::kWouldBlock) break;
    if (r.status == BroadcastStatus::kLapsed) {
      lost += r.lost;
      expect += r.lost;
      continue;
    }
    ASSERT_EQ(test::check_message({buf.data(), r.size}), expect);
    ++expect;
    ++received;
  }
  EXPECT_GT(lapses, 0u);
  EXPECT_EQ(lost, published - received);
  EXPECT_EQ(s.lost(), lost);
  EXPECT_EQ(s.received(), received);
}

TEST(Broadcast, JoinAndLeaveMidStream) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  std::vector<std::byte> buf(o.channel.max_message);
  std::vector<std::pair<BroadcastSubscriber, std::uint64_t>> subs;  // subscriber, next expected seq
  for (std::uint64_t seq = 0; seq < 300; ++seq) {
    if (seq % 25 == 0) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
      subs.emplace_back(std::move(s), seq);
    }
    if (seq % 40 == 39 && !subs.empty()) {
      const std::string rec = n.name + ".sub." + std::to_string(subs.front().first.id());
      EXPECT_TRUE(exists(rec));
      subs.erase(subs.begin());
      EXPECT_FALSE(exists(rec)) << "leave removes the subscriber's object";
    }
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(msg(seq, o.channel.max_message)));
    ASSERT_EQ(st, BroadcastStatus::kOk) << seq;
    for (auto& [s, next] : subs) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.try_receive(buf));
      ASSERT_EQ(r.status, BroadcastStatus::kOk);
      ASSERT_EQ(test::check_message({buf.data(), r.size}), next);
      ++next;
    }
  }
  EXPECT_EQ(pub.counters().subscribers, subs.size());
}

TEST(Broadcast, LeftSubscriberNoLongerHoldsThePublisherBack) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kBlock);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  auto m = msg(0, o.channel.max_message);
  for (std::size_t i = 0; i < pub.slots(); ++i) ASSERT_TRUE(pub.try_send(m));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(m));
  EXPECT_EQ(st, BroadcastStatus::kWouldBlock);
  (void)s.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto st2, pub.try_send(m));
  EXPECT_EQ(st2, BroadcastStatus::kOk);
}

TEST(Broadcast, OpeningAnSpscChannelAsBroadcastIsAClearError) {
  BcName n;
  ChannelOptions co;
  co.capacity = 4096;
  co.max_message = 64;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kCreateExclusive, co));
  EXPECT_TRUE(test::FailsWith(BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, bopts(BroadcastPolicy::kLapse)),
                              {n.name, "spsc channel", "not broadcast"}));
  EXPECT_TRUE(test::FailsWith(BroadcastPublisher::open(n.name, OpenMode::kOpenOrCreate, bopts(BroadcastPolicy::kLapse)),
                              {"not broadcast"}));
  (void)tx.close();
  (void)SpscChannel::unlink(n.name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, bopts(BroadcastPolicy::kLapse)));
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open(n.name, OpenMode::kOpenExisting, co), {"broadcast channel", "not spsc"}));
}

TEST(Broadcast, InvalidSizesAndBuffers) {
  BcName n;
  auto o = bopts(BroadcastPolicy::kLapse, 256, 100);  // 256 / 120 = 2 slots: fine
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  EXPECT_EQ(pub.slots(), 2u);
  EXPECT_TRUE(test::FailsWith(pub.try_send(std::vector<std::byte>(101)), {"too large", "max_message 100"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  std::vector<std::byte> small(50);
  EXPECT_TRUE(test::FailsWith(s.try_receive(small), {"buffer of 50 bytes < max_message 100"}));
  BcName n2;
  EXPECT_TRUE(test::FailsWith(BroadcastPublisher::open(n2.name, OpenMode::kCreateExclusive, bopts(BroadcastPolicy::kLapse, 256, 120)),
                              {"holds 1 broadcast slot", "at least 2"}));
  EXPECT_FALSE(exists(n2.name));
}

TEST(Broadcast, SubscriberWriteToTheDataDiesWithSigsegv) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  ASSERT_TRUE(pub.try_send(msg(0, o.channel.max_message)));
  auto data = s.data_mapping();
  ASSERT_GT(data.size(), 1024u);
  const auto r = test::run_in_child_expecting_crash([&] {
    auto* p = const_cast<std::byte*>(data.data()) + 1024;  // the first slot's sequence word
    *reinterpret_cast<volatile std::uint64_t*>(p) = 12345;
    return 0;
  });
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGSEGV) << r.describe();
  // Also the subscriber records are read-only to the publisher: open one as the publisher does.
  const std::string rec = n.name + ".sub." + std::to_string(s.id());
  const int fd = ::shm_open(rec.c_str(), O_RDONLY | O_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  void* a = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(a, MAP_FAILED);
  const auto r2 = test::run_in_child_expecting_crash([&] {
    static_cast<volatile std::uint64_t*>(a)[16] = 0;  // the cursor
    return 0;
  });
  EXPECT_EQ(r2.signal, SIGSEGV) << r2.describe();
  ::munmap(a, 4096);
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, s.try_receive(buf));
  EXPECT_EQ(got.status, BroadcastStatus::kOk);
  EXPECT_EQ(test::check_message({buf.data(), got.size}), 0u);
}

TEST(Broadcast, GarbageSlotLengthIsCorruptNeverAnOverread) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  ASSERT_TRUE(pub.try_send(msg(0, o.channel.max_message)));
  // Scribble a huge length into slot 0 through a writable mapping of our own.
  const int fd = ::shm_open(n.name.c_str(), O_RDWR | O_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  void* a = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(a, MAP_FAILED);
  reinterpret_cast<std::uint64_t*>(static_cast<std::byte*>(a) + 1024)[1] = 1ULL << 40;
  std::vector<std::byte> buf(o.channel.max_message);
  EXPECT_TRUE(test::FailsWith(s.try_receive(buf), {"corrupt", "claims 1099511627776 bytes > max_message 112"}));
  // A garbage magic in the header.
  reinterpret_cast<std::uint64_t*>(a)[0] = 42;
  EXPECT_TRUE(test::FailsWith(BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o), {"not an ipckit channel"}));
  ::munmap(a, 8192);
}

TEST(Broadcast, UnlinkRemovesEveryObjectAndPublisherCloseIsSeen) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s1, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s2, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  ASSERT_TRUE(pub.try_send(msg(0, o.channel.max_message)));
  (void)pub.close();
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s1.try_receive(buf));
  EXPECT_EQ(r.status, BroadcastStatus::kOk) << "drained first";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, s1.receive(buf));
  EXPECT_EQ(r2.status, BroadcastStatus::kPeerClosed);
  EXPECT_TRUE(exists(n.name + ".ctl"));
  EXPECT_TRUE(exists(n.name + ".sub." + std::to_string(s2.id())));
  IPCKIT_ASSERT_OK(BroadcastChannel::unlink(n.name));
  EXPECT_FALSE(exists(n.name));
  EXPECT_FALSE(exists(n.name + ".ctl"));
  EXPECT_FALSE(exists(n.name + ".sub." + std::to_string(s1.id())));
  EXPECT_FALSE(exists(n.name + ".sub." + std::to_string(s2.id())));
  // Endpoints keep working on their mappings; closing after unlink is harmless.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r3, s2.try_receive(buf));
  EXPECT_EQ(r3.status, BroadcastStatus::kOk);
}

TEST(Broadcast, SubscriberCreatesThePublisherJoinsLater) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenOrCreate, o));
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r, s.receive_until(buf, deadline_after(30ms)));
  EXPECT_EQ(r.status, BroadcastStatus::kTimedOut) << "no publisher yet is not a closed publisher";
  // The creator's policy wins over the publisher's options.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kOpenOrCreate, bopts(BroadcastPolicy::kBlock)));
  EXPECT_EQ(pub.policy(), BroadcastPolicy::kLapse);
  EXPECT_TRUE(test::FailsWith(BroadcastPublisher::open(n.name, OpenMode::kOpenExisting, o), {"role taken", "publisher"}));
  ASSERT_TRUE(pub.try_send(msg(5, o.channel.max_message)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto r2, s.receive(buf));
  ASSERT_EQ(r2.status, BroadcastStatus::kOk);
  EXPECT_EQ(test::check_message({buf.data(), r2.size}), 5u);
}

TEST(Broadcast, EndpointsInheritedThroughForkRefuseAndLeaveTheParentAlone) {
  BcName n;
  const auto o = bopts(BroadcastPolicy::kLapse);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  const auto r = test::run_in_child([&] {
    std::vector<std::byte> buf(o.channel.max_message);
    if (pub.try_send(msg(0, o.channel.max_message))) return 1;
    if (s.try_receive(buf)) return 2;
    (void)s.close();
    (void)pub.close();
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(exists(n.name + ".sub." + std::to_string(s.id()))) << "the child's close left the record";
  ASSERT_TRUE(pub.try_send(msg(0, o.channel.max_message)));
  std::vector<std::byte> buf(o.channel.max_message);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, s.try_receive(buf));
  EXPECT_EQ(got.status, BroadcastStatus::kOk);
}

// The smallest kBlock ring (2 slots): a subscriber's join handshake ends (it spun forever before
// part 4, found by fuzz/channel_image_fuzz.cpp) and every message arrives.
TEST(Broadcast, TwoSlotBlockRingJoinsAndDelivers) {
  BcName n;
  BroadcastOptions o;
  o.channel.capacity = 256;
  o.channel.max_message = 112;  // slot 16 + 112 = 128 bytes: 2 slots
  o.policy = BroadcastPolicy::kBlock;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  ASSERT_EQ(pub.slots(), 2u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto sub, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  const std::array<std::byte, 8> msg{};
  std::array<std::byte, 112> buf{};
  for (int i = 0; i < 5; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(msg));
    ASSERT_EQ(st, BroadcastStatus::kOk) << i;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, sub.try_receive(buf));
    ASSERT_EQ(got.status, BroadcastStatus::kOk) << i;
  }
}

// Fills the tmpfs under /dev/shm with one object, page by page, until ENOSPC.
bool fill_dev_shm(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  off_t size = 0;
  while (::posix_fallocate(fd, size, 4096) == 0) size += 4096;
  ::close(fd);
  return true;
}

// `.ctl` and subscriber records were only ftruncate()d: on a full /dev/shm the publisher's creation
// of `.ctl` and a subscriber's join died of SIGBUS at the first touch, where SPSC returns ENOSPC.
// Both reserve their pages now (posix_fallocate) and fail with ENOSPC, naming the object.
TEST(Broadcast, FullDevShmIsEnospcForCtlAndSubscriberRecordsNotSigbus) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to mount a small tmpfs over /dev/shm";
  const test::ChildResult r = test::run_in_private_mount_ns([] {
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") != 0) return 2;
    const std::string name = test::unique_name();
    const auto o = bopts(BroadcastPolicy::kLapse);
    {
      auto pub = BroadcastPublisher::open(name, OpenMode::kCreateExclusive, o);
      if (!pub) return 3;
    }
    // The data object stays; without its .ctl a publisher creates it again, on a full mount.
    if (::shm_unlink((name + ".ctl").c_str()) != 0) return 4;
    if (!fill_dev_shm(name + ".filler")) return 5;
    auto again = BroadcastPublisher::open(name, OpenMode::kOpenOrCreate, o);
    if (again) return 6;
    std::fprintf(stderr, "%s\n", again.error().str().c_str());
    if (again.error().str().find("posix_fallocate(\"" + name + ".ctl\"): ENOSPC") == std::string::npos) return 7;
    if (exists(name + ".ctl")) return 8;  // the failed creation removed it again
    // With room for .ctl (the filler gone) but not for a record: the join fails the same way.
    ::shm_unlink((name + ".filler").c_str());
    auto pub = BroadcastPublisher::open(name, OpenMode::kOpenOrCreate, o);
    if (!pub) return 9;
    if (!fill_dev_shm(name + ".filler")) return 10;
    auto sub = BroadcastSubscriber::open(name, OpenMode::kOpenExisting, o);
    if (sub) return 11;
    std::fprintf(stderr, "%s\n", sub.error().str().c_str());
    if (sub.error().str().find("posix_fallocate(\"" + name + ".sub.") == std::string::npos ||
        sub.error().str().find("ENOSPC") == std::string::npos) {
      return 12;
    }
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe() << " (see the codes in the test)";
}

}  // namespace
}  // namespace ipckit
