// SPDX-License-Identifier: Apache-2.0
// Objects another user can plant (docs/channel.md "Ownership"): anyone who can write to /dev/shm can
// create a channel's name, its `.ctl` or a `.sub.<id>` record first. Opening an existing channel
// object checks its owner and mode (core/ownership.hpp); `.ctl` is created exclusively with a new
// channel; a publisher ignores subscriber records it does not trust. The other user is uid 65534
// in a forked child (root only; skipped with a reason otherwise).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include "channel/channel_name.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "ipckit/channel/spsc.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using SpscName = test::ChannelName<SpscChannel>;
using BcName = test::ChannelName<BroadcastChannel>;

ChannelOptions small() {
  ChannelOptions o;
  o.capacity = 4096;
  o.max_message = 64;
  return o;
}

bool exists(const std::string& shm) { return ::access(("/dev/shm" + shm).c_str(), F_OK) == 0; }

// Case 5 of the hostile-peer review: uid 65534 created the victim's channel name first as a 0666
// channel; the victim's producer (kOpenOrCreate, 0600) opened it, and the attacker read what it
// sent. Now the open is refused, naming the owner and the mode.
TEST(ChannelOwnership, AChannelAnotherUserCreatedFirstIsRefusedNamingItsOwner) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: creates the channel as uid 65534 first";
  SpscName n;
  const test::ChildResult planted = test::run_as_nobody([&] {
    auto o = small();
    o.mode = 0666;
    return SpscConsumer::open(n.name, OpenMode::kCreateExclusive, o) ? 0 : 10;
  });
  ASSERT_TRUE(planted.ok()) << planted.describe();
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenOrCreate, small()),
                              {"channel_open", "untrusted", "uid 65534", "0666", "not used"}));
  // Trusted explicitly (the owner and the wider mode), it is used.
  auto o = small();
  o.mode = 0666;
  o.trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, o));
}

// Our own object with more permission bits than asked for: someone could have widened it.
TEST(ChannelOwnership, AnExistingChannelWithAWiderModeThanAskedIsRefused) {
  SpscName n;
  auto wide = small();
  wide.mode = 0644;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(n.name, OpenMode::kCreateExclusive, wide));
  EXPECT_TRUE(test::FailsWith(SpscProducer::open(n.name, OpenMode::kOpenExisting, small()),
                              {"untrusted", "mode 0644 is wider than the 0600 asked for"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(n.name, OpenMode::kOpenExisting, wide));
}

// A `.ctl` created before the channel by another user was used even by a kCreateExclusive
// publisher (and truncated later: SIGBUS). Now it is refused naming its owner, and the failed
// creation leaves nothing of the channel behind.
TEST(ChannelOwnership, ACtlPlantedByAnotherUserFailsTheCreationAndLeavesNothing) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: plants .ctl as uid 65534";
  BcName n;
  const std::string ctl = n.name + ".ctl";
  const test::ChildResult planted = test::run_as_nobody([&] {
    const int fd = ::shm_open(ctl.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, detail::kCtlSize) != 0) return 10;
    ::close(fd);
    return 0;
  });
  ASSERT_TRUE(planted.ok()) << planted.describe();
  BroadcastOptions o;
  o.channel = small();
  EXPECT_TRUE(test::FailsWith(BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o),
                              {".ctl", "untrusted", "uid 65534"}));
  EXPECT_FALSE(exists(n.name)) << "the data object of the failed creation stayed";
  ::shm_unlink(ctl.c_str());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
}

// A planted `.sub.777` record with cursor 0 stalled a kBlock publisher (the slowest "subscriber"
// never moved) and, truncated later, killed it with SIGBUS. A record of an owner the publisher does
// not trust is not a subscriber: the real one gets everything, the publisher never waits on it.
TEST(ChannelOwnership, ARecordPlantedByAnotherUserIsNotASubscriber) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: plants the record as uid 65534";
  BcName n;
  BroadcastOptions o;
  o.channel = small();
  o.policy = BroadcastPolicy::kBlock;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pub, BroadcastPublisher::open(n.name, OpenMode::kCreateExclusive, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto sub, BroadcastSubscriber::open(n.name, OpenMode::kOpenExisting, o));
  const std::string planted = n.name + ".sub.777";
  const test::ChildResult r = test::run_as_nobody([&] {
    const int fd = ::shm_open(planted.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, detail::kRecordSize) != 0) return 10;
    void* p = ::mmap(nullptr, detail::kRecordSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 11;
    auto* rec = static_cast<detail::SubscriberRecord*>(p);
    rec->magic = detail::kSubMagic;
    rec->id = 777;
    rec->cursor = 0;  // never moves
    rec->ready = channel_layout::kReady;
    ::munmap(p, detail::kRecordSize);
    ::close(fd);
    return 0;
  });
  ASSERT_TRUE(r.ok()) << r.describe();
  auto send_and_receive = [&](std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i) {
      std::array<std::byte, 8> m{};
      std::memcpy(m.data(), &i, sizeof i);
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto st, pub.try_send(m));
      ASSERT_EQ(st, BroadcastStatus::kOk) << "message " << i << ": " << to_string(st);
      std::array<std::byte, 64> buf{};
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, sub.try_receive(buf));
      ASSERT_EQ(got.status, BroadcastStatus::kOk) << to_string(got.status);
    }
  };
  send_and_receive(200);  // many laps of the ring: a counted cursor 0 would have stopped it
  // One subscriber, not two: waiting for a second one finds none.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto two, pub.try_wait_for_subscribers(2));
  EXPECT_EQ(two, BroadcastStatus::kWouldBlock);
  // The planted record truncated under the publisher: it never mapped it, so nothing happens.
  const test::ChildResult cut = test::run_as_nobody([&] {
    const int fd = ::shm_open(planted.c_str(), O_RDWR | O_CLOEXEC, 0);
    return fd >= 0 && ::ftruncate(fd, 0) == 0 ? 0 : 10;
  });
  ASSERT_TRUE(cut.ok()) << cut.describe();
  send_and_receive(200);
  ::shm_unlink(planted.c_str());
}

}  // namespace
}  // namespace ipckit
