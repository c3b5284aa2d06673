// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// ipckit-test: timeout 300
// `ipckit recv` and `ipckit send` as real processes, for every scheme: 1,000 messages of random sizes
// and random bytes (--hex on both sides, so boundaries and bytes are compared exactly), in both start
// orders where the mechanism allows it. Readiness is the receiver's --ready-fd byte, never a sleep.
#include <netinet/in.h>
#include <sys/socket.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_harness.hpp"
#include "ipckit/endpoint/endpoint.hpp"

namespace ipckit::test {
namespace {

struct Case {
  Scheme scheme;
  std::size_t max_size;         // largest random message
  std::size_t min_size;         // smallest (seqpacket: 1, a 0-byte message reads as end of stream)
  bool create;                  // --create on both sides (named objects)
  std::vector<std::string> recv_extra;  // options only the receiver gets
  std::string query = "";               // appended to the URL (chan: ?pattern=...)
};

std::string make_url(const Case& c, const TempDir& dir) {
  switch (c.scheme) {
    case Scheme::kFifo:
      return "fifo:" + dir.file("f");
    case Scheme::kMq:
      return "mq:" + unique_name();
    case Scheme::kSysvMq:
      return "sysvmq:" + dir.path() + "?proj=3";
    case Scheme::kUnix:
      return "unix:" + dir.file("s.sock");
    case Scheme::kUnixDgram:
      return "unix-dgram:" + unique_abstract_name();
    case Scheme::kUnixSeqpacket:
      return "unix-seqpacket:" + dir.file("sp.sock");
    case Scheme::kTcp:
      return "tcp:127.0.0.1:" + std::to_string(free_loopback_port(SOCK_STREAM));
    case Scheme::kUdp:
      return "udp:127.0.0.1:" + std::to_string(free_loopback_port(SOCK_DGRAM));
    case Scheme::kChan:
      return "chan:" + unique_name();
    case Scheme::kPipe:
    case Scheme::kNats:  // needs a server: tests/bridge/nats_endpoint_test.cpp
      break;
  }
  return "";
}

std::string to_hex(const std::string& m) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : m) {
    out.push_back(kDigits[ch >> 4]);
    out.push_back(kDigits[ch & 0xf]);
  }
  return out;
}

std::vector<std::string> random_messages(std::size_t n, std::size_t min, std::size_t max, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string m(min + rng() % (max - min + 1), '\0');
    for (auto& ch : m) ch = static_cast<char>(rng());
    out.push_back(std::move(m));
  }
  return out;
}

// Runs one transfer and checks it message by message.
void transfer(const Case& c, bool receiver_first) {
  TempDir dir;
  const std::string url = make_url(c, dir) + c.query;
  // A fixed seed per case, so a failure repeats; every 16th message is empty where allowed.
  auto msgs = random_messages(scaled(1000), c.min_size, c.max_size, static_cast<std::uint64_t>(c.scheme) * 2 + receiver_first);
  if (c.min_size == 0) {
    for (std::size_t i = 0; i < msgs.size(); i += 16) msgs[i].clear();
  }
  std::string input;
  for (const auto& m : msgs) input += to_hex(m) + "\n";

  std::vector<std::string> recv_args{"recv", url, "--hex", "--count", std::to_string(msgs.size()), "--timeout", "60",
                                     "--remove-on-exit"};
  std::vector<std::string> send_args{"send", url, "--hex", "--timeout", "60"};
  if (c.create) {
    recv_args.push_back("--create");
    send_args.push_back("--create");
  }
  recv_args.insert(recv_args.end(), c.recv_extra.begin(), c.recv_extra.end());

  std::optional<CliProcess> recv;
  std::optional<CliProcess> send;
  if (receiver_first) {
    recv.emplace(ipckit_args(recv_args, true), "", true);
    ASSERT_TRUE(recv->wait_ready()) << "receiver never became ready: " << recv->finish().err;
    send.emplace(ipckit_args(send_args, false), input);
  } else {
    send.emplace(ipckit_args(send_args, false), input);
    recv.emplace(ipckit_args(recv_args, true), "", true);
  }
  const CliRun s = send->finish();
  const CliRun r = recv->finish();
  EXPECT_TRUE(s.result.ok()) << "send " << url << ": " << s.result.describe() << ": " << s.err;
  ASSERT_TRUE(r.result.ok()) << "recv " << url << ": " << r.result.describe() << ": " << r.err;
  EXPECT_TRUE(s.err.empty()) << s.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  ASSERT_EQ(r.out, input) << "received bytes differ (" << count_lines(r.out) << " of " << msgs.size()
                          << " messages)";
}

const Case kFifo{Scheme::kFifo, 4096, 0, true, {}};
const Case kMq{Scheme::kMq, 4096, 0, true, {}};
const Case kSysvMq{Scheme::kSysvMq, 4096, 0, true, {}};
const Case kUnix{Scheme::kUnix, 4096, 0, false, {}};
const Case kUnixDgram{Scheme::kUnixDgram, 4096, 0, false, {}};
const Case kUnixSeqpacket{Scheme::kUnixSeqpacket, 4096, 1, false, {}};
const Case kTcp{Scheme::kTcp, 4096, 0, false, {}};
const Case kUdp{Scheme::kUdp, 1024, 0, false, {}};
const Case kChan{Scheme::kChan, 4096, 0, true, {}};
const Case kChanMpmc{Scheme::kChan, 4096, 0, true, {}, "?pattern=mpmc"};
const Case kChanBroadcast{Scheme::kChan, 4096, 0, true, {}, "?pattern=broadcast"};

TEST(SendRecv, FifoReceiverFirst) { transfer(kFifo, true); }
TEST(SendRecv, FifoSenderFirst) { transfer(kFifo, false); }
TEST(SendRecv, PosixMqReceiverFirst) { transfer(kMq, true); }
TEST(SendRecv, PosixMqSenderFirst) { transfer(kMq, false); }
TEST(SendRecv, SysvMqReceiverFirst) { transfer(kSysvMq, true); }
TEST(SendRecv, SysvMqSenderFirst) { transfer(kSysvMq, false); }
TEST(SendRecv, UnixStreamReceiverFirst) { transfer(kUnix, true); }
TEST(SendRecv, UnixStreamSenderFirst) { transfer(kUnix, false); }
TEST(SendRecv, UnixDgramReceiverFirst) { transfer(kUnixDgram, true); }
TEST(SendRecv, UnixDgramSenderFirst) { transfer(kUnixDgram, false); }
TEST(SendRecv, UnixSeqpacketReceiverFirst) { transfer(kUnixSeqpacket, true); }
TEST(SendRecv, UnixSeqpacketSenderFirst) { transfer(kUnixSeqpacket, false); }
TEST(SendRecv, ChannelMpmcReceiverFirst) { transfer(kChanMpmc, true); }
TEST(SendRecv, ChannelMpmcSenderFirst) { transfer(kChanMpmc, false); }
// Broadcast delivers what is published after a receiver joined: receiver first only.
TEST(SendRecv, ChannelBroadcastReceiverFirst) { transfer(kChanBroadcast, true); }
TEST(SendRecv, TcpReceiverFirst) { transfer(kTcp, true); }
TEST(SendRecv, TcpSenderFirst) { transfer(kTcp, false); }
// UDP: only receiver first (datagrams to a port nobody has bound are dropped).
TEST(SendRecv, UdpReceiverFirst) { transfer(kUdp, true); }
TEST(SendRecv, ChanReceiverFirst) { transfer(kChan, true); }
TEST(SendRecv, ChanSenderFirst) { transfer(kChan, false); }

}  // namespace
}  // namespace ipckit::test
