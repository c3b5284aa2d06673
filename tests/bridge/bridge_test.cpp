// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 180
// `ipckit bridge`: real bridges (processes) between channels and a real nats-server. The test process
// is the producer and the consumer, through chan: endpoints of its own; readiness is each bridge's
// --ready-fd byte. Loss is made certain rather than hoped for: the receiving bridge is stopped
// (SIGSTOP) while the server restarts, and a subscriber of the test's own proves the messages reached
// the new server before the bridge is let go.
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_harness.hpp"
#include "ipckit/endpoint/bridge.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "support/nats_server.hpp"

namespace ipckit::test {
namespace {

#define IPCKIT_REQUIRE_NATS()                                                      \
  do {                                                                             \
    if (!nats_built_in()) GTEST_SKIP() << "this ipckit is built without libnats"; \
  } while (false)

constexpr auto kWait = std::chrono::seconds(20);

// Message i: its number (8 bytes) and a pseudo-random body of pseudo-random length 0..max.
std::string message(std::uint64_t i, std::size_t max) {
  std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL + 1);
  std::string s(8 + rng() % (max + 1), '\0');
  for (std::size_t b = 0; b < 8; ++b) s[b] = static_cast<char>((i >> (8 * b)) & 0xff);
  for (std::size_t b = 8; b < s.size(); ++b) s[b] = static_cast<char>(rng());
  return s;
}
std::uint64_t number_of(const std::string& m) {
  std::uint64_t v = 0;
  for (std::size_t b = 0; b < 8 && b < m.size(); ++b) v |= std::uint64_t{static_cast<unsigned char>(m[b])} << (8 * b);
  return v;
}

// The chan: objects of one test, removed at the end (the leak audit checks).
struct Channels {
  std::string in = "chan:" + unique_name();
  std::string out = "chan:" + unique_name();
  ~Channels() {
    for (const auto& u : {in, out}) {
      EndpointOptions o;
      if (auto rx = open_receiver(u, o)) (void)(*rx)->remove_object();
    }
  }
};

// A bridge process, started with --ready-fd and waited for.
struct BridgeProcess {
  CliProcess p;
  BridgeProcess(const std::string& from, const std::string& to, std::vector<std::string> extra = {})
      : p(args(from, to, std::move(extra)), "", true) {}
  static std::vector<std::string> args(const std::string& from, const std::string& to, std::vector<std::string> extra) {
    std::vector<std::string> a = {"bridge", from, to, "--create"};
    a.insert(a.end(), extra.begin(), extra.end());
    return ipckit_args(a, true);
  }
};

Result<ReceiveStatus> receive_within(Receiver& rx, std::string& out, std::chrono::milliseconds d) {
  return rx.receive_until(out, deadline_after(d));
}

// chan -> bridge -> nats -> bridge -> chan, every message byte-exact and in order, and the producer's
// end of stream crossing both bridges (both exit 0, the consumer sees kEndOfStream).
TEST(Bridge, RoundTripAcrossTwoBridgesByteExact) {
  IPCKIT_REQUIRE_NATS();
  NatsServer srv;
  ASSERT_TRUE(srv.ok()) << srv.error();
  Channels ch;
  EndpointOptions create;
  create.create = true;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(ch.out, create));
  BridgeProcess b2(srv.url("round.trip"), ch.out);
  ASSERT_TRUE(b2.p.wait_ready()) << b2.p.err_so_far();
  BridgeProcess b1(ch.in, srv.url("round.trip"));
  ASSERT_TRUE(b1.p.wait_ready()) << b1.p.err_so_far();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(ch.in, create));

  const std::uint64_t n = scaled(100000);
  constexpr std::size_t kMaxBody = 512;
  const auto start = Clock::now();
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::string m = message(i, kMaxBody);
      auto r = tx->send(m);
      if (!r || *r != SendStatus::kOk) return;
    }
    (void)tx->finish_until(deadline_after(kWait));
  });
  std::string got;
  std::uint64_t received = 0;
  std::uint64_t bytes = 0;
  bool ended = false;
  while (!ended) {
    auto r = receive_within(*rx, got, kWait);
    if (!r || *r != ReceiveStatus::kOk) {
      ended = r && *r == ReceiveStatus::kEndOfStream;
      if (!ended) ADD_FAILURE() << "after " << received << ": " << (r ? std::string(to_string(*r)) : r.error().str());
      break;
    }
    if (got != message(received, kMaxBody)) {
      ADD_FAILURE() << "message " << received << " differs (got number " << number_of(got) << ")";
      break;
    }
    ++received;
    bytes += got.size();
  }
  producer.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("bridge round trip: %llu messages, %llu bytes in %.2f s\n", static_cast<unsigned long long>(received),
              static_cast<unsigned long long>(bytes), secs);
  EXPECT_TRUE(ended);
  EXPECT_EQ(received, n);
  const CliRun r1 = b1.p.finish();
  const CliRun r2 = b2.p.finish();
  EXPECT_TRUE(r1.result.ok()) << r1.result.describe() << ": " << r1.err;
  EXPECT_TRUE(r2.result.ok()) << r2.result.describe() << ": " << r2.err;
  EXPECT_NE(r1.err.find(fmt::format("{} messages", n)), std::string::npos) << r1.err;
  EXPECT_NE(r2.err.find(fmt::format("{} messages", n)), std::string::npos) << r2.err;
  EXPECT_NE(r2.err.find("0 dropped"), std::string::npos) << r2.err;
}

// send | bridge | bridge | recv with the CLI alone: recv ends when send finished, everyone exits 0.
TEST(Bridge, SendBridgeBridgeRecvEndsCleanly) {
  IPCKIT_REQUIRE_NATS();
  NatsServer srv;
  ASSERT_TRUE(srv.ok()) << srv.error();
  Channels ch;
  std::string input;
  for (int i = 1; i <= 3000; ++i) input += "line " + std::to_string(i) + "\n";
  CliProcess recv(ipckit_args({"recv", ch.out, "--create", "--lines"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  BridgeProcess b2(srv.url("cli.chain"), ch.out);
  ASSERT_TRUE(b2.p.wait_ready()) << b2.p.err_so_far();
  BridgeProcess b1(ch.in, srv.url("cli.chain"), {"--stats"});
  ASSERT_TRUE(b1.p.wait_ready()) << b1.p.err_so_far();
  const CliRun send = run_ipckit({"send", ch.in, "--create", "--lines"}, input);
  ASSERT_TRUE(send.result.ok()) << send.err;
  const CliRun r = recv.finish();
  EXPECT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, input);
  const CliRun r1 = b1.p.finish();
  const CliRun r2 = b2.p.finish();
  EXPECT_TRUE(r1.result.ok()) << r1.err;
  EXPECT_TRUE(r2.result.ok()) << r2.err;
  EXPECT_NE(r1.err.find(ch.in + " -> " + srv.url("cli.chain") + ": 3000 messages"), std::string::npos) << r1.err;
}

// The server is killed mid-stream and restarted on its port. Both bridges reconnect (the sending
// one first: the receiving one is stopped meanwhile), so what the sending one published in between
// is lost for certain; the receiving bridge counts it and exits 1 naming how many of how many, and
// leaves its channel without the end marker, so the consumer sees the stream cut (kPeerDied).
TEST(Bridge, ServerKilledMidStreamLossCountedAndReconnects) {
  IPCKIT_REQUIRE_NATS();
  NatsServer srv;
  ASSERT_TRUE(srv.ok()) << srv.error();
  Channels ch;
  const std::string subject = "lossy";
  EndpointOptions create;
  create.create = true;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(ch.out, create));
  BridgeProcess b2(srv.url(subject), ch.out);
  ASSERT_TRUE(b2.p.wait_ready()) << b2.p.err_so_far();
  BridgeProcess b1(ch.in, srv.url(subject));
  ASSERT_TRUE(b1.p.wait_ready()) << b1.p.err_so_far();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(ch.in, create));

  std::uint64_t sent = 0;
  std::vector<std::uint64_t> got;
  std::string m;
  auto send_next = [&] {
    auto r = tx->send(message(sent, 64));
    ASSERT_TRUE(r && *r == SendStatus::kOk);
    ++sent;
  };
  // 1. Flowing: 100 messages through.
  for (int i = 0; i < 100; ++i) send_next();
  while (got.size() < 100) {
    auto r = receive_within(*rx, m, kWait);
    ASSERT_TRUE(r && *r == ReceiveStatus::kOk) << got.size();
    got.push_back(number_of(m));
  }
  // 2. The receiving bridge frozen and the server killed; more than a flush window (1024) sent while
  // it is down, so the sending bridge flushes into a lost connection; then the server restarted.
  b2.p.kill(SIGSTOP);
  srv.kill();
  for (int i = 0; i < 1500; ++i) send_next();
  ASSERT_TRUE(srv.restart()) << srv.error();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto observer, open_receiver(srv.url(subject), {}));
  // 3. 50 messages while the receiving bridge has no subscription on the new server; the observer
  // seeing them proves the sending bridge reconnected and they reached the server.
  const std::uint64_t first_seen = sent;
  for (int i = 0; i < 50; ++i) send_next();
  for (bool seen_last = false; !seen_last;) {
    auto r = receive_within(*observer, m, kWait);
    ASSERT_TRUE(r) << r.error().str();
    ASSERT_EQ(*r, ReceiveStatus::kOk) << "the sending bridge did not reconnect: " << b1.p.err_so_far();
    seen_last = number_of(m) == sent - 1;
  }
  const std::uint64_t lost_for_sure = sent - 100;  // everything after phase 1, up to here
  ASSERT_GT(sent, first_seen);
  // 4. The receiving bridge let go: probes until one comes through (it reconnected and resubscribed).
  b2.p.kill(SIGCONT);
  const Deadline give_up = deadline_after(std::chrono::seconds(30));
  bool through = false;
  while (!through && Clock::now() < give_up) {
    send_next();
    auto r = receive_within(*rx, m, std::chrono::milliseconds(200));
    ASSERT_TRUE(r) << r.error().str();
    if (*r == ReceiveStatus::kOk) {
      got.push_back(number_of(m));
      through = true;
    }
  }
  ASSERT_TRUE(through) << "the receiving bridge did not come back: " << b2.p.err_so_far();
  // 5. The rest, and the end.
  for (int i = 0; i < 100; ++i) send_next();
  ASSERT_TRUE(tx->finish_until(deadline_after(kWait)));
  ReceiveStatus last = ReceiveStatus::kOk;
  for (;;) {
    auto r = receive_within(*rx, m, kWait);
    ASSERT_TRUE(r) << r.error().str();
    if (*r != ReceiveStatus::kOk) {
      last = *r;
      break;
    }
    got.push_back(number_of(m));
  }
  EXPECT_EQ(last, ReceiveStatus::kPeerDied) << "the consumer must not see a clean end after a loss: "
                                            << b2.p.err_so_far();
  for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(got[i - 1], got[i]) << "out of order or repeated at " << i;
  const std::uint64_t lost = sent - got.size();
  EXPECT_GE(lost, lost_for_sure);

  const CliRun r1 = b1.p.finish();
  const CliRun r2 = b2.p.finish();
  EXPECT_TRUE(r1.result.ok()) << r1.result.describe() << ": " << r1.err;
  EXPECT_NE(r1.err.find("1 reconnect,"), std::string::npos) << r1.err;
  EXPECT_TRUE(r2.result.exited && r2.result.code == 1) << r2.result.describe() << ": " << r2.err;
  EXPECT_NE(r2.err.find(fmt::format("{} of {} messages lost in transit", lost, sent)), std::string::npos) << r2.err;
  EXPECT_NE(r2.err.find(fmt::format("{} dropped, 1 reconnect,", lost)), std::string::npos) << r2.err;
}

// SIGTERM: the bridge stops, prints its counters and exits 143; SIGINT 130.
TEST(Bridge, SignalStopsCleanlyWithCounters) {
  IPCKIT_REQUIRE_NATS();
  NatsServer srv;
  ASSERT_TRUE(srv.ok()) << srv.error();
  Channels ch;
  for (int sig : {SIGTERM, SIGINT}) {
    BridgeProcess b(ch.in, srv.url("stop"));
    ASSERT_TRUE(b.p.wait_ready()) << b.p.err_so_far();
    {
      EndpointOptions create;
      create.create = true;
      IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(ch.in, create));
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(tx->send(message(static_cast<std::uint64_t>(i), 16)));
      // No finish: the bridge is stopped by the signal, not by the end of the stream.
      b.p.kill(sig);
      const CliRun r = b.p.finish();
      EXPECT_TRUE(r.result.exited && r.result.code == 128 + sig) << r.result.describe() << ": " << r.err;
      EXPECT_NE(r.err.find(" -> " + srv.url("stop") + ": "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("in flight"), std::string::npos) << r.err;
    }
    EndpointOptions o;
    if (auto rx = open_receiver(ch.in, o)) (void)(*rx)->remove_object();
  }
}

// Both ways across two servers (two sites): each direction carries its stream and its end; the
// bridge does not feed its own messages back.
TEST(Bridge, BothWaysBetweenTwoServers) {
  IPCKIT_REQUIRE_NATS();
  NatsServer east;
  NatsServer west;
  ASSERT_TRUE(east.ok()) << east.error();
  ASSERT_TRUE(west.ok()) << west.error();
  BridgeProcess b(east.url("sync"), west.url("sync"), {"--both-ways"});
  ASSERT_TRUE(b.p.wait_ready()) << b.p.err_so_far();
  CliProcess at_west(ipckit_args({"recv", west.url("sync"), "--lines", "--count", "3"}, true), "", true);
  CliProcess at_east(ipckit_args({"recv", east.url("sync"), "--lines", "--count", "2"}, true), "", true);
  ASSERT_TRUE(at_west.wait_ready());
  ASSERT_TRUE(at_east.wait_ready());
  const CliRun e = run_ipckit({"send", east.url("sync"), "--lines"}, "e1\ne2\ne3\n");
  ASSERT_TRUE(e.result.ok()) << e.err;
  const CliRun w = run_ipckit({"send", west.url("sync"), "--lines"}, "w1\nw2\n");
  ASSERT_TRUE(w.result.ok()) << w.err;
  const CliRun rw = at_west.finish();
  const CliRun re = at_east.finish();
  // Each side sees the other's lines (and, being on the subject itself, its own sender's too).
  EXPECT_TRUE(rw.result.ok()) << rw.result.describe() << ": " << rw.err;
  EXPECT_TRUE(re.result.ok()) << re.result.describe() << ": " << re.err;
  EXPECT_EQ(rw.out, "e1\ne2\ne3\n");
  EXPECT_EQ(re.out, "e1\ne2\n");  // east's own lines came first, on its own server
  // Both directions' streams ended (each sender finished), so the bridge ends by itself.
  const CliRun rb = b.p.finish();
  EXPECT_TRUE(rb.result.ok()) << rb.result.describe() << ": " << rb.err;
  EXPECT_NE(rb.err.find(east.url("sync") + " -> " + west.url("sync") + ": 3 messages"), std::string::npos) << rb.err;
  EXPECT_NE(rb.err.find(west.url("sync") + " -> " + east.url("sync") + ": 2 messages"), std::string::npos) << rb.err;
}

// Any two endpoints, not only NATS: a channel to a TCP receiver, the end of stream crossing.
TEST(Bridge, ChannelToTcp) {
  Channels ch;
  // Length frames on the TCP side (the default there), so the end-of-stream frame ends recv.
  CliProcess recv(ipckit_args({"recv", "tcp:127.0.0.1:0", "--hex"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  const std::string said = recv.err_so_far();
  const auto at = said.find("listening on ");
  ASSERT_NE(at, std::string::npos) << said;
  const std::string address = said.substr(at + 13, said.find('\n', at) - at - 13);
  BridgeProcess b(ch.in, "tcp:" + address);
  ASSERT_TRUE(b.p.wait_ready()) << b.p.err_so_far();
  const CliRun send = run_ipckit({"send", ch.in, "--create", "--lines"}, "alpha\n\nomega\n");
  ASSERT_TRUE(send.result.ok()) << send.err;
  const CliRun r = recv.finish();
  EXPECT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "616c706861\n\n6f6d656761\n");
  const CliRun rb = b.p.finish();
  EXPECT_TRUE(rb.result.ok()) << rb.result.describe() << ": " << rb.err;
  EXPECT_NE(rb.err.find(": 3 messages"), std::string::npos) << rb.err;
}

TEST(Bridge, HelpListsEveryOptionAndTheTopLevelNamesIt) {
  const CliRun r = run_ipckit({"bridge", "--help"});
  ASSERT_TRUE(r.result.ok()) << r.result.describe();
  for (const char* needle : {"--both-ways", "--create", "--ready-fd", "--timeout", "--count", "--stats", "--size",
                             "IPCKIT_NATS_TOKEN", "host A:", "host B:", "Exit codes:"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  }
  const CliRun top = run_ipckit({"--help"});
  ASSERT_TRUE(top.result.ok());
  for (const char* needle : {"bridge", "nats:HOST:PORT/SUBJECT", "nats+tls:", "?queue=NAME"}) {
    EXPECT_NE(top.out.find(needle), std::string::npos) << needle << "\n" << top.out;
  }
}

TEST(Bridge, BadUsageAndUnreachableServer) {
  IPCKIT_REQUIRE_NATS();
  const CliRun bad = run_ipckit({"bridge", "chan:/x", "bogus:/y"});
  EXPECT_TRUE(bad.result.exited && bad.result.code == 2) << bad.result.describe();
  EXPECT_NE(bad.err.find("unknown scheme \"bogus:\""), std::string::npos) << bad.err;
  const CliRun pipe = run_ipckit({"bridge", "pipe:", "chan:/y"});
  EXPECT_TRUE(pipe.result.exited && pipe.result.code == 2) << pipe.result.describe();
  const CliRun one = run_ipckit({"bridge", "chan:/x"});
  EXPECT_TRUE(one.result.exited && one.result.code == 2) << one.result.describe();
  const CliRun count = run_ipckit({"bridge", "chan:/x", "chan:/y", "--count", "0"});
  EXPECT_TRUE(count.result.exited && count.result.code == 2) << count.result.describe();

  Channels ch;
  const std::uint16_t port = free_loopback_port(SOCK_STREAM);
  const std::string dead = "nats:127.0.0.1:" + std::to_string(port) + "/t";
  const auto start = Clock::now();
  const CliRun r = run_ipckit({"bridge", ch.in, dead, "--create", "--timeout", "300ms"});
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe();
  EXPECT_NE(r.err.find("no NATS server reachable at 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace ipckit::test
