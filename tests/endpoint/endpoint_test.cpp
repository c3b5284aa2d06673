// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// The library face of endpoints: open_sender/open_receiver for every scheme, with the sender in a
// forked child; options; the frame kept across a timed-out send; argument errors.
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/endpoint/session_marker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::FailsWith;
using test::free_loopback_port;

std::vector<std::string> messages(std::size_t n, std::size_t min, std::size_t max) {
  std::mt19937_64 rng(n + max);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string m(min + rng() % (max - min + 1), '\0');
    for (auto& c : m) c = static_cast<char>(rng());
    out.push_back(std::move(m));
  }
  return out;
}

// Receiver here, sender in a forked child; every message compared.
// `eof`: the receiver must then see end of stream (streams, seqpacket, the channel).
void round_trip(const std::string& url, EndpointOptions options, std::size_t min = 0, std::size_t max = 2000,
                bool eof = false) {
  const auto msgs = messages(test::scaled(300), min, max);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, options));
  const pid_t child = test::spawn_child([&]() -> int {
    auto tx = open_sender(url, options);
    if (!tx) return 10;
    for (const auto& m : msgs) {
      auto r = (*tx)->send(m);
      if (!r || *r != SendStatus::kOk) return 11;
    }
    auto f = (*tx)->finish_until(deadline_after(std::chrono::seconds(20)));
    return f && *f == SendStatus::kOk ? 0 : 12;
  });
  std::string got;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    auto r = rx->receive_until(got, deadline_after(std::chrono::seconds(30)));
    ASSERT_TRUE(r.has_value()) << r.error().str();
    ASSERT_EQ(*r, ReceiveStatus::kOk) << "message " << i << ": " << to_string(*r);
    ASSERT_EQ(got, msgs[i]) << "message " << i;
  }
  if (eof) {
    auto r = rx->receive_until(got, deadline_after(std::chrono::seconds(30)));
    ASSERT_TRUE(r.has_value()) << r.error().str();
    EXPECT_EQ(*r, ReceiveStatus::kEndOfStream) << to_string(*r);
  }
  const auto result = test::wait_child(child);
  EXPECT_TRUE(result.ok()) << result.describe();
  IPCKIT_EXPECT_OK(rx->remove_object());
}

TEST(Endpoint, FifoUnixTcpRoundTrip) {
  test::TempDir dir;
  EndpointOptions create;
  create.create = true;
  round_trip("fifo:" + dir.file("f"), create, 0, 2000, true);
  round_trip("unix:" + dir.file("s.sock"), {}, 0, 2000, true);
  round_trip("unix:" + test::unique_abstract_name(), {}, 0, 2000, true);
  round_trip("tcp:127.0.0.1:" + std::to_string(free_loopback_port(SOCK_STREAM)), {}, 0, 2000, true);
}

TEST(Endpoint, MessageMechanismsRoundTrip) {
  test::TempDir dir;
  EndpointOptions create;
  create.create = true;
  // The session markers end every one of them (no --count needed).
  round_trip("mq:" + test::unique_name() + "?maxmsg=8&msgsize=2000", create, 0, 2000, true);
  round_trip("sysvmq:" + dir.path() + "?proj=5", create, 0, 2000, true);
  round_trip("unix-dgram:" + dir.file("d.sock"), {}, 0, 2000, true);
  round_trip("unix-seqpacket:" + test::unique_abstract_name(), {}, 1, 2000, true);
}

TEST(Endpoint, ChannelRoundTripEndsWithEndOfStream) {
  EndpointOptions create;
  create.create = true;
  round_trip("chan:" + test::unique_name() + "?capacity=64KiB&max=4KiB", create, 0, 4096, true);
  EXPECT_TRUE(FailsWith(open_receiver("chan:" + test::unique_name(), {}), {"ENOENT", "pass --create"}));
}

TEST(Endpoint, MpmcAndBroadcastChannelsRoundTripAndEnd) {
  EndpointOptions create;
  create.create = true;
  round_trip("chan:" + test::unique_name() + "?pattern=mpmc&capacity=64KiB&max=4KiB", create, 0, 4096, true);
  // The receiver joins before the sender starts (round_trip's order): a broadcast receiver gets
  // what is published after it joined, and under policy=block (the default) all of it.
  round_trip("chan:" + test::unique_name() + "?pattern=broadcast&capacity=64KiB&max=4KiB", create, 0, 4096, true);
  EXPECT_TRUE(FailsWith(open_receiver("chan:" + test::unique_name() + "?policy=lapse", create),
                        {"\"policy\" applies to pattern=broadcast only"}));
}

TEST(Endpoint, BroadcastReceiverThatLapsedGetsAnErrorCountingTheLoss) {
  EndpointOptions create;
  create.create = true;
  const std::string url = "chan:" + test::unique_name() + "?pattern=broadcast&policy=lapse&capacity=4KiB&max=48";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, create));
  // 4 KiB of 64-byte slots: 64 slots; 100 messages overtake the idle receiver.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(tx->send("m" + std::to_string(i)).value(), SendStatus::kOk);
  std::string got;
  auto lapsed = rx->receive_until(got, deadline_after(std::chrono::seconds(5)));
  ASSERT_TRUE(FailsWith(lapsed, {"lapsed", "policy=block"}));
  // The error counts the loss exactly: what it says was lost plus what still arrives is everything.
  const std::string text = lapsed.error().str();
  const std::size_t at = text.find("lost ");
  ASSERT_NE(at, std::string::npos);
  const std::uint64_t lost = std::stoull(text.substr(at + 5));
  std::uint64_t received = 0;
  while (rx->receive_until(got, deadline_after(std::chrono::milliseconds(50))).value() == ReceiveStatus::kOk) {
    ++received;
    EXPECT_EQ(got, "m" + std::to_string(lost + received - 1));
  }
  EXPECT_GT(lost, 0u);
  EXPECT_EQ(lost + received, 100u);
  IPCKIT_EXPECT_OK(rx->remove_object());
}

TEST(Endpoint, LinesAndRawFramingOnAStream) {
  EndpointOptions lines;
  lines.framing = Framing::kLines;
  const std::string url = "unix:" + test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, lines));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, lines));
  ASSERT_EQ(tx->send("one").value(), SendStatus::kOk);
  ASSERT_EQ(tx->send("").value(), SendStatus::kOk);
  EXPECT_TRUE(FailsWith(tx->send("a\nb"), {"newline"}));
  ASSERT_EQ(tx->finish_until(kNoDeadline).value(), SendStatus::kOk);
  std::string m;
  ASSERT_EQ(rx->receive(m).value(), ReceiveStatus::kOk);
  EXPECT_EQ(m, "one");
  ASSERT_EQ(rx->receive(m).value(), ReceiveStatus::kOk);
  EXPECT_EQ(m, "");
  EXPECT_EQ(rx->receive(m).value(), ReceiveStatus::kEndOfStream);
}

// A frame whose start was written when the deadline passed is finished by the next call: slicing a
// wait into short deadlines never tears or repeats a frame.
TEST(Endpoint, TimedOutSendKeepsTheStartedFrame) {
  const std::string url = "unix:" + test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, {}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, {}));
  std::string got;
  // Accept the connection (nothing to read yet).
  ASSERT_EQ(rx->receive_until(got, deadline_after(std::chrono::milliseconds(10))).value(), ReceiveStatus::kTimedOut);
  const auto msgs = messages(std::max<std::size_t>(test::scaled(200), 20), 30000, 60000);  // far beyond socket buffers
  std::size_t sent = 0;
  std::size_t timeouts = 0;
  std::size_t received = 0;
  while (received < msgs.size()) {
    // Send until the socket is full (kTimedOut), then take one message out.
    while (sent < msgs.size()) {
      auto r = tx->send_until(as_bytes(msgs[sent]), deadline_after(std::chrono::milliseconds(1)));
      ASSERT_TRUE(r.has_value()) << r.error().str();
      if (*r != SendStatus::kOk) {
        ASSERT_EQ(*r, SendStatus::kTimedOut);
        ++timeouts;
        break;
      }
      ++sent;
    }
    if (sent == msgs.size()) {
      auto f = tx->finish_until(deadline_after(std::chrono::milliseconds(1)));
      ASSERT_TRUE(f.has_value()) << f.error().str();
    }
    auto r = rx->receive_until(got, deadline_after(std::chrono::milliseconds(1)));
    ASSERT_TRUE(r.has_value()) << r.error().str();
    if (*r == ReceiveStatus::kOk) {
      ASSERT_EQ(got, msgs[received]) << "message " << received;
      ++received;
    }
  }
  EXPECT_GT(timeouts, 0u) << "the socket buffer never filled: the test did not exercise the partial frame";
}

TEST(Endpoint, UdpLinesCarryTheNewlineOnTheWire) {
  EndpointOptions lines;
  lines.framing = Framing::kLines;
  const std::string url = "udp:127.0.0.1:" + std::to_string(free_loopback_port(SOCK_DGRAM));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto raw_rx, open_receiver(url, {}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, lines));
  ASSERT_EQ(tx->send("hello").value(), SendStatus::kOk);
  ASSERT_EQ(tx->send("world").value(), SendStatus::kOk);
  std::string m;
  ASSERT_EQ(raw_rx->receive_until(m, deadline_after(std::chrono::seconds(10))).value(), ReceiveStatus::kOk);
  EXPECT_EQ(m, "hello\n") << "a raw receiver sees the newline that nc and socat expect";
  ASSERT_EQ(raw_rx->receive_until(m, deadline_after(std::chrono::seconds(10))).value(), ReceiveStatus::kOk);
  EXPECT_EQ(m, "world\n");
}

TEST(Endpoint, OptionErrors) {
  EXPECT_TRUE(FailsWith(open_sender("pipe:", {}), {"open_sender(\"pipe:\")", "pipe: needs a command"}));
  EndpointOptions with_cmd;
  with_cmd.command = {"cat"};
  EXPECT_TRUE(FailsWith(open_receiver("tcp:127.0.0.1:1", with_cmd), {"only for pipe:"}));
  EXPECT_TRUE(FailsWith(open_receiver("tcp:nohost", {}), {"url(\"tcp:nohost\")", "missing \":PORT\""}));
  EXPECT_STREQ(to_string(SendStatus::kPeerClosed), "peer closed");
  EXPECT_STREQ(to_string(ReceiveStatus::kEndOfStream), "end of stream");
}

TEST(Endpoint, SenderGivesUpAtItsTimeoutNamingTheUrl) {
  test::TempDir dir;
  EndpointOptions o;
  o.open_timeout = std::chrono::milliseconds(100);
  const std::string url = "unix:" + dir.file("nobody.sock");
  const auto start = Clock::now();
  EXPECT_TRUE(FailsWith(open_sender(url, o), {"open_sender(\"" + url + "\"): ETIMEDOUT", "no listener after 100 ms"}));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(100));
  bool asked = false;
  o.open_timeout = std::chrono::seconds(60);
  o.should_stop = [&] { return asked = true; };
  EXPECT_TRUE(FailsWith(open_sender(url, o), {"ECANCELED", "interrupted"}));
  EXPECT_TRUE(asked);
}

TEST(Endpoint, CreateModeAndRemove) {
  test::TempDir dir;
  const std::string path = dir.file("m.fifo");
  EndpointOptions o;
  o.create = true;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver("fifo:" + path + "?mode=0640", o));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  IPCKIT_ASSERT_OK(rx->remove_object());
  EXPECT_NE(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(FailsWith(open_receiver("fifo:" + path, {}), {"ENOENT", "does not exist; pass --create"}));
}

// End of stream (docs/endpoints.md): a length-framed stream whose sender never called
// finish_until() (killed, or destroyed early) is cut short, never a clean end.
TEST(Endpoint, StreamWithoutTheEndFrameIsCutShortNamingWhatArrived) {
  test::TempDir dir;
  EndpointOptions create;
  create.create = true;
  for (const std::string& url : {"unix:" + test::unique_abstract_name(), "fifo:" + dir.file("f")}) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
    const pid_t child = test::spawn_child([&]() -> int {
      auto tx = open_sender(url, {});
      if (!tx) return 10;
      for (const char* m : {"one", "two"}) {
        auto r = (*tx)->send(std::string_view(m));
        if (!r || *r != SendStatus::kOk) return 11;
      }
      return 0;  // no finish_until: the stream closes without its end frame
    });
    std::string got;
    for (const char* want : {"one", "two"}) {
      auto r = rx->receive_until(got, deadline_after(std::chrono::seconds(30)));
      ASSERT_TRUE(r.has_value()) << r.error().str();
      ASSERT_EQ(*r, ReceiveStatus::kOk);
      EXPECT_EQ(got, want);
    }
    EXPECT_TRUE(FailsWith(rx->receive_until(got, deadline_after(std::chrono::seconds(30))),
                          {"protocol", "without the sender's end-of-stream frame", "after 2 messages (6 B)",
                           "--no-end-marker"}))
        << url;
    EXPECT_TRUE(test::wait_child(child).ok());
    IPCKIT_EXPECT_OK(rx->remove_object());
  }
}

// Without the marker on both sides, a length-framed stream ends at the close, as before.
TEST(Endpoint, NoEndMarkerOnBothSidesEndsAtTheClose) {
  EndpointOptions plain;
  plain.end_marker = false;
  const std::string url = "unix:" + test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, plain));
  const pid_t child = test::spawn_child([&]() -> int {
    auto tx = open_sender(url, plain);
    if (!tx) return 10;
    auto r = (*tx)->send(std::string_view("only"));
    if (!r || *r != SendStatus::kOk) return 11;
    auto f = (*tx)->finish_until(deadline_after(std::chrono::seconds(20)));
    return f && *f == SendStatus::kOk ? 0 : 12;
  });
  std::string got;
  ASSERT_EQ(rx->receive_until(got, deadline_after(std::chrono::seconds(30))).value(), ReceiveStatus::kOk);
  EXPECT_EQ(got, "only");
  ASSERT_EQ(rx->receive_until(got, deadline_after(std::chrono::seconds(30))).value(), ReceiveStatus::kEndOfStream);
  EXPECT_TRUE(test::wait_child(child).ok());
}

// A queue outlives its sessions: an end marker a --count receiver left behind never ends a later
// session, whose own end marker does.
TEST(Endpoint, StaleEndMarkerInAQueueNeverEndsALaterSession) {
  EndpointOptions create;
  create.create = true;
  const std::string url = "mq:" + test::unique_name() + "?maxmsg=8&msgsize=256";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
  auto send_session = [&](std::initializer_list<const char*> msgs) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, {}));
    for (const char* m : msgs) ASSERT_EQ(tx->send(std::string_view(m)).value(), SendStatus::kOk);
    ASSERT_EQ(tx->finish_until(kNoDeadline).value(), SendStatus::kOk);
  };
  send_session({"a", "b"});
  std::string got;
  ASSERT_EQ(rx->receive(got).value(), ReceiveStatus::kOk);
  EXPECT_EQ(got, "a");
  rx.reset();  // a --count 1 receiver stops here: "b" and session 1's end marker stay queued
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto later, open_receiver(url, {}));
  send_session({"", "c"});  // an empty message is a message, not a marker
  std::vector<std::string> seen;
  for (;;) {
    auto r = later->receive_until(got, deadline_after(std::chrono::seconds(30)));
    ASSERT_TRUE(r.has_value()) << r.error().str();
    if (*r == ReceiveStatus::kEndOfStream) break;
    ASSERT_EQ(*r, ReceiveStatus::kOk) << to_string(*r);
    seen.push_back(got);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "", "c"}));
  IPCKIT_EXPECT_OK(later->remove_object());
}

// A queue's sender that dies mid-session is reported (kPeerDied) once the queue is drained, instead
// of a receiver waiting for an end that never comes.
TEST(Endpoint, QueueSenderDeadMidSessionIsReportedAfterTheDrain) {
  EndpointOptions create;
  create.create = true;
  test::TempDir dir;
  for (const std::string& url : {"mq:" + test::unique_name() + "?maxmsg=8&msgsize=256",
                                "sysvmq:" + dir.path() + "?proj=7", "unix-dgram:" + dir.file("d.sock")}) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
    const pid_t child = test::spawn_child([&]() -> int {
      auto tx = open_sender(url, {});
      if (!tx) return 10;
      auto r = (*tx)->send(std::string_view("last words"));
      if (!r || *r != SendStatus::kOk) return 11;
      ::_exit(0);  // dies without finish_until: no end marker
    });
    EXPECT_TRUE(test::wait_child(child).ok());
    std::string got;
    auto first = rx->receive_until(got, deadline_after(std::chrono::seconds(30)));
    ASSERT_TRUE(first.has_value()) << url << ": " << first.error().str();
    ASSERT_EQ(*first, ReceiveStatus::kOk) << url;
    EXPECT_EQ(got, "last words");
    auto second = rx->receive(got);  // no deadline: liveness ends it
    ASSERT_TRUE(second.has_value()) << url << ": " << second.error().str();
    EXPECT_EQ(*second, ReceiveStatus::kPeerDied) << url << ": " << to_string(*second);
    IPCKIT_EXPECT_OK(rx->remove_object());
  }
}

// unix-seqpacket: a connection closed before the end marker is cut short.
TEST(Endpoint, SeqpacketClosedBeforeTheEndMarkerIsCutShort) {
  const std::string url = "unix-seqpacket:" + test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, {}));
  const pid_t child = test::spawn_child([&]() -> int {
    auto tx = open_sender(url, {});
    if (!tx) return 10;
    auto r = (*tx)->send(std::string_view("x"));
    return r && *r == SendStatus::kOk ? 0 : 11;
  });
  std::string got;
  ASSERT_EQ(rx->receive_until(got, deadline_after(std::chrono::seconds(30))).value(), ReceiveStatus::kOk);
  EXPECT_TRUE(FailsWith(rx->receive_until(got, deadline_after(std::chrono::seconds(30))),
                        {"protocol", "closed without the sender's end marker", "after 1 message (1 B)"}));
  EXPECT_TRUE(test::wait_child(child).ok());
}

// A message that begins with the marker's magic cannot be sent in marker mode (a receiver would
// misread it); with kRaw it travels as it is, and no markers are sent at all.
TEST(Endpoint, MarkerMagicIsRefusedAndRawSendsPlainMessages) {
  EndpointOptions create;
  create.create = true;
  const std::string url = "mq:" + test::unique_name() + "?maxmsg=8&msgsize=256";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
  const std::string tricky = std::string(kSessionMarkerMagic) + "payload";
  {
    const std::string other = "mq:" + test::unique_name() + "?maxmsg=8&msgsize=256";
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto other_rx, open_receiver(other, create));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(other, {}));
    EXPECT_TRUE(FailsWith(tx->send(tricky), {"invalid argument", "session marker", "--raw"}));
    IPCKIT_EXPECT_OK(other_rx->remove_object());
  }
  EndpointOptions raw;
  raw.framing = Framing::kRaw;
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto plain, open_sender(url, raw));
  ASSERT_EQ(plain->send(tricky).value(), SendStatus::kOk);
  ASSERT_EQ(plain->finish_until(kNoDeadline).value(), SendStatus::kOk);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto raw_rx, open_receiver(url, raw));
  std::string got;
  ASSERT_EQ(raw_rx->receive_until(got, deadline_after(std::chrono::seconds(10))).value(), ReceiveStatus::kOk);
  EXPECT_EQ(got, tricky);
  // Nothing else was queued: no begin or end marker.
  EXPECT_EQ(raw_rx->receive_until(got, deadline_after(std::chrono::milliseconds(50))).value(), ReceiveStatus::kTimedOut);
  IPCKIT_EXPECT_OK(rx->remove_object());
  // A queue whose messages cannot hold a marker says so at open.
  const std::string tiny = "mq:" + test::unique_name() + "?maxmsg=2&msgsize=16";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tiny_raw, open_receiver(tiny, [] {
    EndpointOptions o;
    o.create = true;
    o.framing = Framing::kRaw;
    return o;
  }()));
  EXPECT_TRUE(FailsWith(open_sender(tiny, {}), {"16 B, below the 56 B of the session markers", "--raw"}));
  IPCKIT_EXPECT_OK(tiny_raw->remove_object());
}

// A System V queue removed by its receiver (recv --remove-on-exit after its --count) is a receiver
// that went away: kPeerClosed, and a finish after it is no failure (nothing was lost that it wanted).
TEST(Endpoint, SysvQueueRemovedByTheReceiverIsPeerClosed) {
  test::TempDir dir;
  EndpointOptions create;
  create.create = true;
  const std::string url = "sysvmq:" + dir.path() + "?proj=11";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto rx, open_receiver(url, create));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto tx, open_sender(url, {}));
  ASSERT_EQ(tx->send(std::string_view("taken")).value(), SendStatus::kOk);
  IPCKIT_ASSERT_OK(rx->remove_object());
  auto sent = tx->send(std::string_view("too late"));
  ASSERT_TRUE(sent.has_value()) << sent.error().str();
  EXPECT_EQ(*sent, SendStatus::kPeerClosed);
  auto finished = tx->finish_until(deadline_after(std::chrono::seconds(5)));
  ASSERT_TRUE(finished.has_value()) << finished.error().str();
  EXPECT_EQ(*finished, SendStatus::kOk);
}

}  // namespace
}  // namespace ipckit
