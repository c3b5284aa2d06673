// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// Every failure of `ipckit send`/`recv` ends with one clear line on stderr and a non-zero exit code:
// a missing object, a timeout, a message too large (for --size or for the mechanism), a peer that
// went away, bad --hex input. Ctrl-C ends cleanly (exit 130, --remove-on-exit honoured).
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cli_harness.hpp"

namespace ipckit::test {
namespace {

void expect_failure(const CliRun& r, const char* cmd, std::initializer_list<std::string_view> needles) {
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind(std::string("ipckit ") + cmd + ": ", 0), 0u) << r.err;
  for (auto n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << r.err << " lacks " << n;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(CliErrors, MissingNamedObjectWithoutCreate) {
  TempDir dir;
  const std::vector<std::string> urls{"fifo:" + dir.file("nofifo"), "mq:" + unique_name(),
                                      "sysvmq:" + dir.path() + "?proj=9", "chan:" + unique_name()};
  for (const auto& url : urls) {
    for (const char* cmd : {"send", "recv"}) {
      SCOPED_TRACE(std::string(cmd) + " " + url);
      expect_failure(run_ipckit({cmd, url, "--timeout", "5"}), cmd, {"ENOENT", "does not exist; pass --create"});
    }
  }
}

TEST(CliErrors, SendTimesOutWithoutAReceiver) {
  TempDir dir;
  const std::string url = "unix:" + dir.file("nobody.sock");
  const auto start = Clock::now();
  const CliRun r = run_ipckit({"send", url, "--timeout", "0.3"}, "x");
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  expect_failure(r, "send", {"open_sender(\"" + url + "\")", "ETIMEDOUT", "no listener after 300 ms", "--timeout"});
}

TEST(CliErrors, RecvTimesOutWithoutMessages) {
  const std::string url = "unix:" + unique_abstract_name();
  const CliRun r = run_ipckit({"recv", url, "--timeout", "0.2"});
  expect_failure(r, "recv", {"timed out: no message for 200 ms"});
}

// A frame above the receiver's --size is refused before anything is allocated.
TEST(CliErrors, FrameAboveReceiverSize) {
  const std::string url = "unix:" + unique_abstract_name();
  CliProcess recv(ipckit_args({"recv", url, "--size", "16", "--timeout", "20"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  (void)run_ipckit({"send", url}, std::string(100, 'x'));
  expect_failure(recv.finish(), "recv", {"frame length 100 > max message size 16", "raise it with --size"});
}

// Line-framed bytes read as length frames: the hint says what is probably wrong.
TEST(CliErrors, FramingMismatchIsExplained) {
  const std::string url = "unix:" + unique_abstract_name();
  CliProcess recv(ipckit_args({"recv", url, "--timeout", "20"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  (void)run_ipckit({"send", url, "--lines"}, "hello, this is a line\n");
  expect_failure(recv.finish(), "recv", {"> max message size 65536", "try --lines or --raw"});
}

TEST(CliErrors, MessageAboveSenderSize) {
  const std::string url = "unix:" + unique_abstract_name();
  CliProcess recv(ipckit_args({"recv", url, "--lines", "--timeout", "20"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  const CliRun s = run_ipckit({"send", url, "--lines", "--size", "4"}, "ok\ntoo long\n");
  expect_failure(s, "send", {"message of 8 bytes > max message size 4 (raise it with --size)"});
  const CliRun r = recv.finish();
  EXPECT_EQ(r.out, "ok\n");
}

TEST(CliErrors, MessageTooLargeForThePosixQueue) {
  const std::string url = "mq:" + unique_name() + "?msgsize=128&maxmsg=4";
  CliProcess recv(ipckit_args({"recv", url, "--create", "--remove-on-exit", "--count", "1", "--timeout", "20"}, true),
                  "", true);
  ASSERT_TRUE(recv.wait_ready());
  const CliRun s = run_ipckit({"send", url, "--size", "1000"}, std::string(1000, 'x'));
  expect_failure(s, "send", {"128"});
  // The sender's session began at open and never ended: once it is dead the receiver says so.
  const CliRun r = recv.finish();
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe() << r.err;
  EXPECT_NE(r.err.find("peer died"), std::string::npos) << r.err;
}

TEST(CliErrors, PeerGoneMidStream) {
  const std::string url = "unix:" + unique_abstract_name();
  CliProcess recv(ipckit_args({"recv", url, "--count", "1", "--timeout", "20"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  // 64 MiB in 64 KiB messages: far more than socket buffers hold after the receiver leaves.
  const CliRun s = run_ipckit({"send", url}, std::string(64 << 20, 'p'));
  expect_failure(s, "send", {"peer closed"});
  EXPECT_TRUE(recv.finish().result.ok());
}

TEST(CliErrors, BadHexInput) {
  const std::string url = "unix:" + unique_abstract_name();
  CliProcess recv(ipckit_args({"recv", url, "--hex", "--timeout", "20"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  const CliRun s = run_ipckit({"send", url, "--hex"}, "6869\nzz\n");
  expect_failure(s, "send", {"--hex(stdin line 2)", "\"zz\" is not a hex digit pair"});
  const CliRun r = recv.finish();
  EXPECT_EQ(r.out, "6869\n");
}

// Waits until `pid` has a handler for `sig` (SigCgt in /proc/PID/status): the process is then past
// its start-up, so the signal tests exercise the handler, not the default action.
bool wait_signal_caught(pid_t pid, int sig) {
  const Deadline deadline = deadline_after(std::chrono::seconds(20));
  auto pause = std::chrono::milliseconds(1);
  while (Clock::now() < deadline) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("SigCgt:", 0) == 0) {
        const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        if ((mask >> (sig - 1)) & 1) return true;
      }
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return false;
}

TEST(CliErrors, CtrlCExitsCleanlyAndRemovesOnExit) {
  TempDir dir;
  const std::string path = dir.file("ctrlc.fifo");
  CliProcess recv(ipckit_args({"recv", "fifo:" + path, "--create", "--remove-on-exit"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  EXPECT_TRUE(exists(path));
  recv.kill(SIGINT);
  const CliRun r = recv.finish();
  EXPECT_TRUE(r.result.exited && r.result.code == 130) << r.result.describe();
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_FALSE(exists(path)) << "--remove-on-exit left " << path;
}

TEST(CliErrors, CtrlCWhileSenderWaitsForAReceiver) {
  TempDir dir;
  // The sender retries connecting for up to 60 s; SIGTERM must end it promptly and cleanly.
  CliProcess send(ipckit_args({"send", "unix:" + dir.file("later.sock"), "--timeout", "60"}, false), "x");
  ASSERT_TRUE(wait_signal_caught(send.pid(), SIGTERM));
  const auto start = Clock::now();
  send.kill(SIGTERM);
  const CliRun s = send.finish();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << s.result.describe();
  EXPECT_TRUE(s.result.exited && s.result.code == 143) << s.result.describe();
  EXPECT_TRUE(s.err.empty()) << s.err;
}

}  // namespace
}  // namespace ipckit::test
