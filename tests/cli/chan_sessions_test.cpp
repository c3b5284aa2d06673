// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 180
// `chan:` sessions through `ipckit send` / `ipckit recv` as real processes: the five data-loss
// scenarios of the channel's part 4 issue, as a new user ran them. A name serves any number of
// sessions in a row; no sender exits 0 having discarded input, no receiver exits 0 having missed
// data sent to it. Readiness is each side's --ready-fd byte, never a sleep.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "channel/channel_name.hpp"
#include "cli_harness.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/inspect.hpp"
#include "ipckit/channel/spsc.hpp"

namespace ipckit::test {
namespace {

bool shm_exists(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += std::to_string(i) + "\n";
  return s;
}

// One session, receiver first: recv (ready) then send; returns what the receiver printed.
CliRun session(const std::string& url, const std::string& input, std::vector<std::string> recv_extra = {}) {
  std::vector<std::string> recv_args{"recv", url, "--create", "--lines", "--timeout", "20"};
  recv_args.insert(recv_args.end(), recv_extra.begin(), recv_extra.end());
  CliProcess recv(ipckit_args(recv_args, true), "", true);
  EXPECT_TRUE(recv.wait_ready()) << "receiver never became ready: " << recv.err_so_far();
  const CliRun s = run_ipckit({"send", url, "--create", "--lines", "--timeout", "20"}, input);
  EXPECT_TRUE(s.result.ok()) << "send " << url << ": " << s.result.describe() << ": " << s.err;
  return recv.finish();
}

// Scenario 1: the same pair twice on the same name.
void two_sessions(const std::string& url) {
  for (int round = 0; round < 2; ++round) {
    const std::string input = lines(round * 3 + 1, round * 3 + 3);
    const CliRun r = session(url, input);
    EXPECT_TRUE(r.result.ok()) << "session " << round + 1 << ": recv " << r.result.describe() << ": " << r.err;
    EXPECT_EQ(r.out, input) << "session " << round + 1 << " on " << url;
  }
}

TEST(ChanSessions, SpscNameWorksForTwoSessionsInARow) {
  ChannelName<SpscChannel> n;
  two_sessions("chan:" + n.name);
}

TEST(ChanSessions, BroadcastNameWorksForTwoSessionsInARow) {
  ChannelName<BroadcastChannel> n;
  two_sessions("chan:" + n.name + "?pattern=broadcast");
}

TEST(ChanSessions, MpmcNameWorksForTwoSessionsInARow) {
  ChannelName<BroadcastChannel> n;  // unlink() of the data object is all MPMC needs
  two_sessions("chan:" + n.name + "?pattern=mpmc");
}

// Scenario 2: a `--count` receiver leaves no end of stream for the next session (docs/cli.md's
// own example run a second time).
void count_then_plain(const std::string& url) {
  const CliRun first = session(url, "a\n", {"--count", "1"});
  EXPECT_TRUE(first.result.ok()) << first.result.describe() << ": " << first.err;
  EXPECT_EQ(first.out, "a\n");
  const CliRun second = session(url, "b\n");
  EXPECT_TRUE(second.result.ok()) << second.result.describe() << ": " << second.err;
  EXPECT_EQ(second.out, "b\n") << "the first session's end of stream ended the second receiver";
}

TEST(ChanSessions, SpscCountReceiverLeavesNoEndForTheNextSession) {
  ChannelName<SpscChannel> n;
  count_then_plain("chan:" + n.name);
}

TEST(ChanSessions, BroadcastCountReceiverLeavesNoEndForTheNextSession) {
  ChannelName<BroadcastChannel> n;
  count_then_plain("chan:" + n.name + "?pattern=broadcast");
}

// Scenario 3: broadcast, sender first: the sender waits for a receiver and delivers everything.
TEST(ChanSessions, BroadcastSenderFirstDeliversAllItsInput) {
  ChannelName<BroadcastChannel> n;
  const std::string url = "chan:" + n.name + "?pattern=broadcast";
  const std::string input = lines(1, 20000);
  CliProcess send(ipckit_args({"send", url, "--create", "--lines", "--timeout", "20"}, true), input, true);
  ASSERT_TRUE(send.wait_ready()) << send.err_so_far();
  CliProcess recv(ipckit_args({"recv", url, "--lines", "--timeout", "20"}, false), "");
  const CliRun s = send.finish();
  const CliRun r = recv.finish();
  EXPECT_TRUE(s.result.ok()) << "send: " << s.result.describe() << ": " << s.err;
  EXPECT_TRUE(r.result.ok()) << "recv: " << r.result.describe() << ": " << r.err;
  EXPECT_EQ(count_lines(r.out), 20000u);
  EXPECT_TRUE(r.out == input) << "received bytes differ";
}

// Scenario 3, nobody comes: the sender fails after --timeout instead of exiting 0.
TEST(ChanSessions, BroadcastSenderWithNoReceiverFailsAfterItsTimeout) {
  ChannelName<BroadcastChannel> n;
  const CliRun s = run_ipckit({"send", "chan:" + n.name + "?pattern=broadcast", "--create", "--lines", "--timeout",
                               "0.3"},
                              "x\n");
  EXPECT_TRUE(s.result.exited && s.result.code == 1) << s.result.describe() << ": " << s.err;
  EXPECT_NE(s.err.find("no receiver"), std::string::npos) << s.err;
}

// Scenario 4: a SIGKILLed broadcast receiver: the sender says the receiver went away (exit 1)
// rather than waiting for --timeout, and the receiver's record is removed.
TEST(ChanSessions, BroadcastKilledReceiverFailsTheSenderAndLeavesNoRecord) {
  ChannelName<BroadcastChannel> n;
  const std::string url = "chan:" + n.name + "?pattern=broadcast";
  CliProcess recv(ipckit_args({"recv", url, "--create", "--lines"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready()) << recv.err_so_far();
  std::string input;
  for (int i = 0; i < 2'000'000; ++i) input += "y\n";  // far more than the ring holds
  CliProcess send(ipckit_args({"send", url, "--lines", "--timeout", "30"}, true), input, true);
  ASSERT_TRUE(send.wait_ready()) << send.err_so_far();
  // Kill it once the sender has published to it (a receiver dead before that is no receiver: the
  // sender would wait for one until --timeout, as it should).
  const Deadline limit = deadline_after(std::chrono::seconds(20));
  for (;;) {
    auto info = inspect_channel(n.name);
    if (info && info->sent > 0) break;
    ASSERT_LT(Clock::now(), limit) << "the sender never published: " << send.err_so_far();
    ::usleep(1000);  // polls a counter in shared memory: no event to wait on
  }
  recv.kill(SIGKILL);
  (void)recv.finish();
  const CliRun s = send.finish();
  EXPECT_TRUE(s.result.exited && s.result.code == 1) << s.result.describe() << ": " << s.err;
  EXPECT_NE(s.err.find("went away"), std::string::npos) << s.err;
  EXPECT_FALSE(shm_exists(n.name + ".sub.0")) << "the killed receiver's record stays in /dev/shm";
}

// Scenario 5: a name that fits but whose derived names do not is refused before anything exists.
TEST(ChanSessions, BroadcastNameTooLongWithItsSuffixesCreatesNothing) {
  std::string name = unique_name() + ".long.";  // unique across runs, padded below
  name += std::string(250 - name.size(), 'n');
  const std::string url = "chan:" + name + "?pattern=broadcast";
  const CliRun s = run_ipckit({"send", url, "--create", "--lines", "--timeout", "1"}, "x\n");
  EXPECT_FALSE(s.result.ok());
  EXPECT_NE(s.err.find("too long"), std::string::npos) << s.err;
  EXPECT_FALSE(shm_exists(name)) << "the data object was created";
  EXPECT_FALSE(shm_exists(name + ".ctl")) << "the .ctl object was created";
  (void)BroadcastChannel::unlink(name);
}

// --remove-on-exit removes every object of the channel (data, .ctl, records).
TEST(ChanSessions, BroadcastRemoveOnExitRemovesEveryObject) {
  ChannelName<BroadcastChannel> n;
  const std::string url = "chan:" + n.name + "?pattern=broadcast";
  const CliRun r = session(url, "a\n", {"--remove-on-exit"});
  EXPECT_TRUE(r.result.ok()) << r.err;
  EXPECT_EQ(r.out, "a\n");
  EXPECT_FALSE(shm_exists(n.name));
  EXPECT_FALSE(shm_exists(n.name + ".ctl"));
}

}  // namespace
}  // namespace ipckit::test
