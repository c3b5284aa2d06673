// SPDX-License-Identifier: Apache-2.0
// Read-only channel inspection (ipckit/channel/inspect.hpp): counters, fill and roles of a live
// channel, object classification by magic, and errors for what is not a channel.
#include "ipckit/channel/inspect.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstddef>

#include <gtest/gtest.h>

#include "ipckit/channel/spsc.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(ChannelInspect, ShowsCountersFillAndBothRolesWithoutTouchingThem) {
  const std::string name = test::unique_name();
  ChannelOptions co;
  co.capacity = 4096;
  co.max_message = 256;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open(name, OpenMode::kOpenOrCreate, co));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open(name, OpenMode::kOpenOrCreate, co));
  const std::array<std::byte, 10> msg{};
  for (int i = 0; i < 3; ++i) IPCKIT_ASSERT_OK(tx.send(msg));
  std::array<std::byte, 256> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, rx.receive(buf));
  ASSERT_EQ(got.status, ChannelStatus::kOk);

  IPCKIT_ASSERT_OK_AND_ASSIGN(ChannelInfo info, inspect_channel(name));
  EXPECT_EQ(info.pattern, "spsc");
  EXPECT_EQ(info.version_major, channel_layout::kVersionMajor);
  EXPECT_EQ(info.capacity, 4096u);
  EXPECT_EQ(info.max_message, 256u);
  EXPECT_EQ(info.sent, 3u);
  EXPECT_EQ(info.received, 1u);
  EXPECT_EQ(info.fill_unit, "bytes");
  EXPECT_EQ(info.fill, 2 * channel_layout::record_size(10));  // two records still queued
  ASSERT_EQ(info.participants.size(), 2u);
  for (const auto& p : info.participants) {
    EXPECT_EQ(p.who.pid, ::getpid());
    EXPECT_EQ(p.state, Liveness::kAlive);
    EXPECT_FALSE(p.wait.empty());
  }
  ASSERT_EQ(info.objects.size(), 1u);
  EXPECT_EQ(info.objects[0], name);
  // Inspection claimed nothing: the endpoints still work.
  IPCKIT_ASSERT_OK_AND_ASSIGN(got, rx.receive(buf));
  EXPECT_EQ(got.status, ChannelStatus::kOk);

  const int fd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(channel_object_kind(fd), ChannelObjectKind::kData);
  ::close(fd);
  IPCKIT_EXPECT_OK(SpscChannel::unlink(name));
}

TEST(ChannelInspect, WhatIsNotAChannelIsAnErrorNamingIt) {
  const std::string missing = test::unique_name();
  EXPECT_TRUE(test::FailsWith(inspect_channel(missing), {"ENOENT", missing}));
  const std::string plain = test::unique_name();
  const int fd = ::shm_open(plain.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  EXPECT_EQ(channel_object_kind(fd), ChannelObjectKind::kNone);
  ::close(fd);
  // Zero-filled: the ready flag is unset, so it is not (yet) a channel.
  EXPECT_TRUE(test::FailsWith(inspect_channel(plain), {plain}));
  ::shm_unlink(plain.c_str());
  EXPECT_TRUE(test::FailsWith(inspect_channel("no-slash"), {"no-slash"}));
}

}  // namespace
}  // namespace ipckit
