// SPDX-License-Identifier: Apache-2.0
// Passing descriptors and credentials over UNIX sockets: a pipe and a memfd handed to another
// process and used there, many descriptors up to SCM_MAX_FD, MSG_CTRUNC with nothing leaked,
// O_CLOEXEC on arrival, credentials received and checked by the kernel.
#include "ipckit/message/fd_passing.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <sstream>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/udp.hpp"
#include "ipckit/message/unix_datagram.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::pair<UniqueFd, UniqueFd> socket_pair(int type) {
  int fds[2] = {-1, -1};
  EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string str(std::span<const std::byte> b, std::size_t n) { return std::string(reinterpret_cast<const char*>(b.data()), n); }

TEST(FdPassing, PipeAndMemfdUsedByAnotherProcess) {
  auto ends = socket_pair(SOCK_STREAM);  // not a structured binding: clang 14 cannot capture those
  UniqueFd& parent_end = ends.first;
  UniqueFd& child_end = ends.second;
  const int child_sock = child_end.get();
  const pid_t child = test::spawn_child([&]() -> int {
    parent_end.reset();
    std::array<std::byte, 32> buf{};
    auto m = receive_fds(child_sock, buf);
    if (!m || m->status != IoStatus::kOk || m->fds.size() != 2) return 1;
    if (str(buf, m->bytes) != "pipe+memfd") return 2;
    for (const auto& fd : m->fds) {
      if ((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) == 0) return 3;
    }
    // Use them: write into the pipe, read the memfd and write an answer into it.
    auto w = write_full(m->fds[0].get(), as_bytes("hello through the pipe"));
    if (!w || !w->ok()) return 4;
    char text[16] = {};
    if (::pread(m->fds[1].get(), text, 5, 0) != 5 || std::string(text, 5) != "memfd") return 5;
    if (::pwrite(m->fds[1].get(), "child", 5, 5) != 5) return 6;
    return 0;
  });
  child_end.reset();
  // Created after fork: the child can only have these through the socket.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd pipe_r(p[0]), pipe_w(p[1]);
  UniqueFd memfd(::memfd_create("ipckit-test", MFD_CLOEXEC));
  ASSERT_TRUE(memfd.valid());
  ASSERT_EQ(::pwrite(memfd.get(), "memfd", 5, 0), 5);
  const int fds[] = {pipe_w.get(), memfd.get()};
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, send_fds(parent_end.get(), as_bytes("pipe+memfd"), fds));
  ASSERT_EQ(s, IoStatus::kOk);
  pipe_w.reset();  // the child holds the only write end now
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, read_all(pipe_r.get()));
  EXPECT_EQ(got, "hello through the pipe");
  EXPECT_TRUE(test::wait_child(child).ok());
  char text[11] = {};
  ASSERT_EQ(::pread(memfd.get(), text, 10, 0), 10);
  EXPECT_EQ(std::string(text, 10), "memfdchild");
}

TEST(FdPassing, UpToScmMaxFdOverSeqpacketAndMoreIsRefused) {
  auto [a, b] = socket_pair(SOCK_SEQPACKET);
  const auto before = test::open_fds().size();
  std::vector<UniqueFd> owned;
  std::vector<int> raw;
  const std::size_t n = kMaxFdsPerMessage;
  for (std::size_t i = 0; i < n; ++i) {
    owned.emplace_back(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0));
    raw.push_back(owned.back().get());
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, send_fds(a.get(), as_bytes("many"), raw));
  ASSERT_EQ(s, IoStatus::kOk);
  std::array<std::byte, 8> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(b.get(), buf));
  EXPECT_EQ(m.fds.size(), n);
  EXPECT_EQ(str(buf, m.bytes), "many");
  m.fds.clear();
  owned.clear();
  EXPECT_EQ(test::open_fds().size(), before);
  raw.assign(n + 1, a.get());
  EXPECT_TRUE(test::FailsWith(send_fds(a.get(), as_bytes("x"), raw), {"send_fds(fd ", "254 descriptors > SCM_MAX_FD (253)"}));
  const int one[] = {a.get()};
  EXPECT_TRUE(test::FailsWith(send_fds(a.get(), {}, one), {"at least one byte"}));
}

TEST(FdPassing, ControlTruncationClosesWhatArrived) {
  auto [a, b] = socket_pair(SOCK_DGRAM);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  const int fds[] = {r.get(), w.get(), r.get(), w.get()};
  IPCKIT_ASSERT_OK(send_fds(a.get(), as_bytes("four"), fds));
  const auto before = test::open_fds();
  std::array<std::byte, 8> buf{};
  EXPECT_TRUE(test::FailsWith(receive_fds(b.get(), buf, 2),
                              {"recvmsg(fd ", "truncated", "MSG_CTRUNC", "max_fds = 2", "that arrived were closed"}));
  EXPECT_EQ(test::open_fds(), before);  // nothing leaked
  // Far more than fit the control buffer: the kernel itself truncates (MSG_CTRUNC).
  const std::vector<int> twenty(20, r.get());
  IPCKIT_ASSERT_OK(send_fds(a.get(), as_bytes("twenty"), twenty));
  EXPECT_TRUE(test::FailsWith(receive_fds(b.get(), buf, 2), {"MSG_CTRUNC", "that arrived were closed"}));
  EXPECT_EQ(test::open_fds(), before);
  // The socket still works for the next message.
  IPCKIT_ASSERT_OK(send_fds(a.get(), as_bytes("one"), std::span<const int>(fds, 1)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(b.get(), buf, 2));
  EXPECT_EQ(m.fds.size(), 1u);
}

TEST(FdPassing, TryAndDeadlineFormsAreValues) {
  auto [a, b] = socket_pair(SOCK_STREAM);
  std::array<std::byte, 8> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage none, try_receive_fds(b.get(), buf));
  EXPECT_EQ(none.status, IoStatus::kWouldBlock);
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage late, receive_fds_until(b.get(), buf, deadline_after(30ms)));
  EXPECT_EQ(late.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  const int fds[] = {a.get()};
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s, try_send_fds(a.get(), as_bytes("t"), fds));
  EXPECT_EQ(s, IoStatus::kOk);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus s2, send_fds_until(a.get(), as_bytes("u"), fds, deadline_after(1s)));
  EXPECT_EQ(s2, IoStatus::kOk);
  // Descriptors stay attached to their own bytes on a stream socket.
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m1, receive_fds_until(b.get(), buf, deadline_after(1s)));
  EXPECT_EQ(str(buf, m1.bytes), "t");
  EXPECT_EQ(m1.fds.size(), 1u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m2, try_receive_fds(b.get(), buf));
  EXPECT_EQ(str(buf, m2.bytes), "u");
  EXPECT_EQ(m2.fds.size(), 1u);
  m1.fds.clear();  // they are copies of `a`: the peer is closed only when every copy is
  m2.fds.clear();
  a.reset();
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage end, receive_fds(b.get(), buf));
  EXPECT_EQ(end.status, IoStatus::kEndOfStream);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus closed, send_fds(b.get(), as_bytes("x"), {}));
  EXPECT_EQ(closed, IoStatus::kPeerClosed);
}

TEST(Credentials, ReceivedFromAnotherProcessAndChecked) {
  auto [a, b] = socket_pair(SOCK_DGRAM);
  IPCKIT_ASSERT_OK(enable_credentials(b.get()));
  const int sender = a.get();
  const pid_t child = test::spawn_child([&]() -> int {
    // Plain data: the kernel attaches the credentials because the receiver asked (SO_PASSCRED).
    auto s = send_fds(sender, as_bytes("implicit"), {});
    if (!s || *s != IoStatus::kOk) return 1;
    auto c = send_credentials(sender, as_bytes("explicit"));
    return c && *c == IoStatus::kOk ? 0 : 2;
  });
  std::array<std::byte, 16> buf{};
  for (const char* expected : {"implicit", "explicit"}) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(b.get(), buf));
    EXPECT_EQ(str(buf, m.bytes), expected);
    ASSERT_TRUE(m.credentials.has_value());
    EXPECT_EQ(m.credentials->pid, child);
    EXPECT_EQ(m.credentials->uid, ::geteuid());
    EXPECT_EQ(m.credentials->gid, ::getegid());
  }
  EXPECT_TRUE(test::wait_child(child).ok());
  IPCKIT_ASSERT_OK_AND_ASSIGN(Credentials peer, peer_credentials(a.get()));
  EXPECT_EQ(peer, own_credentials());
}

TEST(Credentials, ForgedPidIsRefusedByTheKernel) {
  auto [a, b] = socket_pair(SOCK_DGRAM);
  const int sender = a.get();
  auto r = test::run_in_child([&]() -> int {
    // Without CAP_SYS_ADMIN a process may only claim its own pid.
    if (!test::drop_capability(CAP_SYS_ADMIN)) return 1;
    Credentials forged = own_credentials();
    forged.pid = 1;
    auto s = send_credentials(sender, as_bytes("lie"), forged);
    if (s) return 2;
    return s.error().is(EPERM) && s.error().str().find("may only claim its own") != std::string::npos ? 0 : 3;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(FdPassing, WorksOverDatagramSocketPairs) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kSeqPacket));
  UniqueFd memfd(::memfd_create("ipckit-test", MFD_CLOEXEC));
  ASSERT_TRUE(memfd.valid());
  const int fds[] = {memfd.get()};
  IPCKIT_ASSERT_OK(send_fds(pair.first.native_handle(), as_bytes("m"), fds));
  std::array<std::byte, 4> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(pair.second.native_handle(), buf));
  ASSERT_EQ(m.fds.size(), 1u);
  // The same open file: a write through one is visible through the other.
  ASSERT_EQ(::pwrite(m.fds[0].get(), "shared", 6, 0), 6);
  char text[6] = {};
  ASSERT_EQ(::pread(memfd.get(), text, 6, 0), 6);
  EXPECT_EQ(std::string(text, 6), "shared");
}


// Prints the helper's open descriptors above 2, one per line.
IPCKIT_TEST_HELPER(list_fds) {
  for (int fd : test::open_fds()) {
    if (fd > 2) std::printf("%d\n", fd);
  }
  return 0;
}

// fork+exec leaks none of the layer's descriptors: sockets, an mq descriptor, received fds.
TEST(FdPassing, ExecInheritsNoneOfTheLayersDescriptors) {
  auto [a, b] = socket_pair(SOCK_STREAM);
  const int fds[] = {a.get()};
  IPCKIT_ASSERT_OK(send_fds(a.get(), as_bytes("x"), fds));
  std::array<std::byte, 4> buf{};
  IPCKIT_ASSERT_OK_AND_ASSIGN(FdMessage m, receive_fds(b.get(), buf));
  ASSERT_EQ(m.fds.size(), 1u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixDatagram::pair(UnixMessageKind::kDatagram));
  IPCKIT_ASSERT_OK_AND_ASSIGN(DatagramSocket udp, Udp::bind("127.0.0.1", 0, AF_INET));
  const std::string name = test::unique_name();
  MqOptions o;
  o.open = OpenMode::kCreateExclusive;
  o.attributes = {1, 8};
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, o));
  IPCKIT_ASSERT_OK(PosixMq::unlink(name));
  const std::vector<int> ours = {m.fds[0].get(), pair.first.native_handle(), pair.second.native_handle(),
                                 udp.native_handle(), q.native_handle()};
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd out_r(out[0]), out_w(out[1]);
  const pid_t pid = test::spawn_helper("list_fds", {}, -1, out_w.get());
  out_w.reset();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string listing, read_all(out_r.get()));
  EXPECT_TRUE(test::wait_child(pid).ok());
  std::istringstream in(listing);
  int fd = -1;
  while (in >> fd) {
    EXPECT_EQ(std::find(ours.begin(), ours.end(), fd), ours.end()) << "fd " << fd << " leaked across exec";
  }
}

}  // namespace
}  // namespace ipckit
