// SPDX-License-Identifier: Apache-2.0
// memfd hand-over of an SPSC channel: sealed against shrink/grow, no name in /dev/shm, handed to
// another process over a UNIX socket, verified (seals, size, header) before mapping.
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/channel/handover.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

ChannelOptions opts() {
  ChannelOptions o;
  o.capacity = 1 << 14;
  o.max_message = 256;
  o.liveness_interval = 50ms;
  return o;
}

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
      a = UniqueFd(sv[0]);
      b = UniqueFd(sv[1]);
    }
  }
};

bool shm_has(const std::string& needle) {
  DIR* d = ::opendir("/dev/shm");
  if (d == nullptr) return false;
  bool found = false;
  while (const dirent* e = ::readdir(d)) found = found || std::strstr(e->d_name, needle.c_str()) != nullptr;
  ::closedir(d);
  return found;
}

TEST(Handover, MemfdChannelIsSealedAndNamelessInDevShm) {
  const std::string tag = "handover-" + std::to_string(::getpid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto mem, create_memfd_channel(tag, opts()));
  EXPECT_FALSE(shm_has(tag));
  IPCKIT_ASSERT_OK_AND_ASSIGN(const unsigned seals, mem.seals());
  EXPECT_EQ(seals & kChannelMemfdSeals, kChannelMemfdSeals) << seals_text(seals);
  EXPECT_EQ(mem.size(), channel_layout::kHeaderSize + opts().capacity);
  // Nobody, the creator included, can change the size or the seals any more.
  EXPECT_NE(::ftruncate(mem.native_handle(), 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_FALSE(mem.add_seals(seal::kWrite));
  // And it is a working channel.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open_memfd(mem, opts()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open_memfd(mem, opts()));
  const std::string text = "sealed";
  IPCKIT_ASSERT_OK(tx.send(std::as_bytes(std::span(text))));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v, rx.try_receive());
  ASSERT_EQ(v.status, ChannelStatus::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data.data()), v.data.size()), text);
  IPCKIT_ASSERT_OK(rx.release());
}

TEST(Handover, ChannelHandedToAnotherProcessOverAUnixSocket) {
  SocketPair sp;
  ASSERT_TRUE(sp.a.valid());
  const std::uint64_t count = test::scaled(5000);
  const pid_t kid = test::spawn_child([&] {
    sp.a.reset();
    auto got = receive_channel(sp.b.get(), deadline_after(10s));
    if (!got || got->status != IoStatus::kOk) return 1;
    auto rx = SpscConsumer::open_memfd(got->memfd, opts());
    if (!rx) return 2;
    for (std::uint64_t i = 0;; ++i) {
      std::uint64_t v = 0;
      auto r = rx->receive_until(std::as_writable_bytes(std::span(&v, 1)), deadline_after(10s));
      if (!r) return 3;
      if (r->status == ChannelStatus::kPeerClosed) return i == count ? 0 : 4;
      if (r->status != ChannelStatus::kOk || v != i) return 5;
    }
  });
  sp.b.reset();
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto mem, create_memfd_channel("handover", opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open_memfd(mem, opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(const IoStatus st, send_channel(sp.a.get(), mem));
    ASSERT_EQ(st, IoStatus::kOk);
    for (std::uint64_t i = 0; i < count; ++i) {
      IPCKIT_ASSERT_OK_AND_ASSIGN(const ChannelStatus s, tx.send(std::as_bytes(std::span(&i, 1))));
      ASSERT_EQ(s, ChannelStatus::kOk);
    }
  }  // closes the producer and our memfd: the memory lives on in the child until it is done
  const auto r = test::wait_child(kid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Handover, PeerThatTriesToShrinkOrGrowFails) {
  SocketPair sp;
  ASSERT_TRUE(sp.a.valid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto mem, create_memfd_channel("shrink", opts()));
  IPCKIT_ASSERT_OK(send_channel(sp.a.get(), mem));
  const auto r = test::run_in_child([&] {
    auto got = receive_channel(sp.b.get(), deadline_after(10s));
    if (!got || got->status != IoStatus::kOk) return 1;
    const int fd = got->memfd.native_handle();
    if (::ftruncate(fd, 4096) == 0 || errno != EPERM) return 2;
    if (::ftruncate(fd, static_cast<off_t>(got->memfd.size() * 2)) == 0 || errno != EPERM) return 3;
    if (::fallocate(fd, 0, 0, static_cast<off_t>(got->memfd.size() * 2)) == 0 || errno != EPERM) return 4;
    // Removing a seal is impossible by construction; adding write seals is too (F_SEAL_SEAL).
    if (::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0) return 5;
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(mem.size(), channel_layout::kHeaderSize + opts().capacity);
}

TEST(Handover, UnsealedOrTooSmallMemfdIsRefusedBeforeMapping) {
  SocketPair sp;
  ASSERT_TRUE(sp.a.valid());
  // A peer handing over a memfd it could still shrink.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto loose, Memfd::create("loose", channel_layout::kHeaderSize + (1 << 14)));
  IPCKIT_ASSERT_OK(send_channel(sp.a.get(), loose));
  EXPECT_TRUE(test::FailsWith(receive_channel(sp.b.get(), deadline_after(5s)), {"F_SEAL_SHRINK"}));
  // Sealed but smaller than a header.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tiny, Memfd::create("tiny", 512));
  IPCKIT_ASSERT_OK(tiny.add_seals(seal::kFixedSize));
  IPCKIT_ASSERT_OK(send_channel(sp.a.get(), tiny));
  EXPECT_TRUE(test::FailsWith(receive_channel(sp.b.get(), deadline_after(5s)), {"corrupt"}));
  // A plain pipe is not a memfd at all.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd pr(p[0]), pw(p[1]);
  const std::array<std::byte, 1> b{std::byte{'C'}};
  const std::array<int, 1> fds{pr.get()};
  IPCKIT_ASSERT_OK(send_fds(sp.a.get(), b, fds));
  EXPECT_FALSE(receive_channel(sp.b.get(), deadline_after(5s)));
  // Nothing sent: a timeout is a value.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, receive_channel(sp.b.get(), deadline_after(20ms)));
  EXPECT_EQ(none.status, IoStatus::kTimedOut);
}

TEST(Handover, SealedMemfdWithoutAChannelHeaderIsRejected) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto mem, Memfd::create("garbage", channel_layout::kHeaderSize + (1 << 14)));
  IPCKIT_ASSERT_OK(mem.add_seals(seal::kFixedSize));
  // Zero-filled: the ready flag is unset.
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open_memfd(mem, opts()), {"ready"}));
  // Garbage with the ready flag set: the magic is checked.
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto map, mem.map());
  auto* h = static_cast<channel_layout::Header*>(map.data());
  h->imm.magic = 0x1234;
  h->imm.ready = channel_layout::kReady;
  EXPECT_TRUE(test::FailsWith(SpscConsumer::open_memfd(mem, opts()), {"magic"}));
}

TEST(Handover, NoDescriptorLeaks) {
  const auto before = test::open_fds();
  {
    SocketPair sp;
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto mem, create_memfd_channel("leaks", opts()));
    IPCKIT_ASSERT_OK(send_channel(sp.a.get(), mem));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto got, receive_channel(sp.b.get(), deadline_after(5s)));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, SpscConsumer::open_memfd(got.memfd, opts()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, SpscProducer::open_memfd(mem, opts()));
    IPCKIT_ASSERT_OK(rx.enable_notification());
  }
  EXPECT_EQ(test::open_fds(), before);
}

}  // namespace
}  // namespace ipckit
