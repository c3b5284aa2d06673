// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "ipckit/stream/unix_stream.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Listens on the loopback of `family`, port 0; skips the test where that family has no loopback.
#define LISTEN_OR_SKIP(var, host, fam)                                                        \
  TcpOptions var##_opts;                                                                       \
  var##_opts.family = fam;                                                                     \
  auto var##_r = Tcp::listen(host, 0, var##_opts);                                             \
  if (!var##_r && (var##_r.error().is(EADDRNOTAVAIL) || var##_r.error().is(EAFNOSUPPORT)))     \
    GTEST_SKIP() << "no " << host << " here: " << var##_r.error().str();                       \
  IPCKIT_ASSERT_OK(var##_r);                                                                   \
  StreamListener var = std::move(*var##_r)

void echo_round_trip(const char* host, int family) {
  LISTEN_OR_SKIP(l, host, family);
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress bound, l.local_address());
  const std::uint16_t port = bound.port();
  ASSERT_NE(port, 0);
  const std::string msg(test::scaled(256) * 1024, 'q');
  const pid_t pid = test::spawn_child([&] {
    TcpOptions o;
    o.nodelay = true;
    auto s = Tcp::connect(host, port, o);
    if (!s) return 2;
    if (!s->write_all(msg) || !s->shutdown(ShutdownHow::kWrite)) return 3;
    auto echo = s->read_to_end();
    return (echo && *echo == msg) ? 0 : 4;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, l.accept());
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress peer, c.peer_address());
  EXPECT_EQ(peer.family(), family);
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, c.read_to_end());
  EXPECT_EQ(got.size(), msg.size());
  IPCKIT_ASSERT_OK(c.write_all(got));
  (void)c.close();
  EXPECT_TRUE(test::wait_child(pid).ok());
}

TEST(Tcp, Ipv4EchoWithAChildProcessOnAKernelChosenPort) { echo_round_trip("127.0.0.1", AF_INET); }

TEST(Tcp, Ipv6EchoWithAChildProcessOnAKernelChosenPort) { echo_round_trip("::1", AF_INET6); }

TEST(Tcp, ConnectionRefusedNamesTheAddress) {
  std::uint16_t port = 0;
  {
    LISTEN_OR_SKIP(l, "127.0.0.1", AF_INET);
    IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
    port = a.port();
  }  // closed: nothing listens on that port now
  const std::string object = "\"127.0.0.1:" + std::to_string(port) + "\"";
  EXPECT_TRUE(test::FailsWith(Tcp::connect("127.0.0.1", port), {"connect(" + object + ")", "ECONNREFUSED", "nobody is listening"}));
  EXPECT_TRUE(test::FailsWith(Tcp::connect_until("127.0.0.1", port, deadline_after(5s)), {"connect(" + object + ")", "ECONNREFUSED"}));
}

TEST(Tcp, BindingATakenPortNamesIt) {
  TcpOptions no_reuse;
  no_reuse.reuse_addr = false;
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, Tcp::listen("127.0.0.1", 0, no_reuse));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  EXPECT_TRUE(test::FailsWith(Tcp::listen("127.0.0.1", a.port(), no_reuse),
                              {"bind(\"127.0.0.1:" + std::to_string(a.port()) + "\")", "EADDRINUSE"}));
}

TEST(Tcp, ReuseAddrRebindsWhileAConnectionIsInTimeWait) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, Tcp::listen("127.0.0.1", 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, Tcp::connect("127.0.0.1", a.port()));
    IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket s, l.accept());
    (void)s.close();  // the server closes first: its side of the port enters TIME_WAIT
    std::string b(1, '\0');
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, c.read_some(as_writable_bytes(b)));
    EXPECT_EQ(r.status, IoStatus::kEndOfStream);
  }
  l = StreamListener();
  IPCKIT_ASSERT_OK(Tcp::listen("127.0.0.1", a.port()));  // SO_REUSEADDR is on by default
}

TEST(Tcp, NodelayIsAppliedAndRejectedOnUnixSockets) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, Tcp::listen("127.0.0.1", 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  TcpOptions o;
  o.nodelay = true;
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, Tcp::connect("127.0.0.1", a.port(), o));
  int v = 0;
  socklen_t len = sizeof v;
  ASSERT_EQ(::getsockopt(c.native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_EQ(v, 1);
  IPCKIT_ASSERT_OK(c.set_nodelay(false));
  ASSERT_EQ(::getsockopt(c.native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_EQ(v, 0);
  // A listener made with nodelay hands it to accepted sockets.
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener fast, Tcp::listen("127.0.0.1", 0, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress fa, fast.local_address());
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket fc, Tcp::connect("127.0.0.1", fa.port()));
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket fs, fast.accept());
  ASSERT_EQ(::getsockopt(fs.native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_EQ(v, 1);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixStream::pair());
  EXPECT_TRUE(test::FailsWith(pair.first.set_nodelay(true), {"setsockopt(TCP_NODELAY)(\"socketpair[0]\")", "TCP sockets only"}));
}

TEST(Tcp, ConnectUntilGivesUpWhenTheListenerQueueIsFull) {
  // backlog 0: the accept queue holds one connection; the kernel drops the next SYN, so that
  // connect stays pending until our deadline.
  TcpOptions o;
  o.backlog = 0;
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, Tcp::listen("127.0.0.1", 0, o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  std::vector<StreamSocket> queued;
  for (int i = 0; i < 4; ++i) {
    const auto start = Clock::now();
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, Tcp::connect_until("127.0.0.1", a.port(), start + 100ms));
    if (!c) {
      EXPECT_GE(Clock::now() - start, 100ms);
      return;
    }
    queued.push_back(std::move(*c));
  }
  GTEST_SKIP() << "this kernel accepted every connection into a backlog-0 queue; no pending connect to time out";
}

TEST(Tcp, PeerResetOrCloseIsAValueNotSigpipe) {
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_DFL);
    auto l = Tcp::listen("127.0.0.1", 0);
    if (!l) return 2;
    auto c = Tcp::connect("127.0.0.1", l->local_address()->port());
    if (!c) return 3;
    auto s = l->accept();
    if (!s) return 4;
    (void)s->close();
    std::string chunk(64 * 1024, 'r');
    for (int i = 0; i < 1000; ++i) {
      auto w = c->write_all(chunk);
      if (!w) return 5;
      if (w->status == IoStatus::kPeerClosed) return 0;
    }
    return 6;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

}  // namespace
}  // namespace ipckit
