// SPDX-License-Identifier: Apache-2.0
// `ipckit --help`, `ipckit send/recv --help` and every bad-usage case: one clear line on stderr and a
// non-zero exit code, as real processes.
#include <string>

#include <gtest/gtest.h>

#include "cli_harness.hpp"

namespace ipckit::test {
namespace {

TEST(CliHelp, TopLevelTeachesEveryUrlForm) {
  const CliRun r = run_ipckit({"--help"});
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << r.err;
  for (const char* needle : {"send", "recv", "pipe: -- CMD", "fifo:/path", "mq:/name", "sysvmq:0xKEY", "proj=N",
                             "unix:/path", "unix:@name", "unix-dgram:", "unix-seqpacket:", "tcp:HOST:PORT",
                             "tcp:[::1]:9000", "udp:HOST:PORT", "chan:/name", "pattern=spsc|mpmc|broadcast",
                             "Examples:", "ipckit recv unix:/tmp/s.sock --lines"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  }
}

TEST(CliHelp, SendAndRecvListEveryOptionAndExamples) {
  for (const char* cmd : {"send", "recv"}) {
    const CliRun r = run_ipckit({cmd, "--help"});
    ASSERT_TRUE(r.result.ok()) << r.result.describe();
    for (const char* needle : {"--create", "--lines", "--raw", "--hex", "--count", "--timeout", "--size",
                               "--ready-fd", "--remove-on-exit", "tcp:HOST:PORT", "unix:@name", "Examples:",
                               "ipckit send pipe: -- sort -n"}) {
      EXPECT_NE(r.out.find(needle), std::string::npos) << cmd << ": " << needle;
    }
  }
}

// Each bad invocation: exit 2, exactly one stderr line that starts with "ipckit CMD: " and has `needle`.
void expect_usage_error(std::vector<std::string> args, std::initializer_list<const char*> needles) {
  const CliRun r = run_ipckit(args);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  EXPECT_TRUE(r.result.exited && r.result.code == 2) << joined << ": " << r.result.describe() << " " << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << joined << ": " << r.err;
  EXPECT_EQ(r.err.rfind("ipckit " + args[0] + ": ", 0), 0u) << r.err;
  for (const char* n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << joined << ": " << r.err << " lacks " << n;
  EXPECT_TRUE(r.out.empty());
}

TEST(CliUsage, MalformedUrlShowsBadPartAndForm) {
  expect_usage_error({"send", "tcp:localhost"},
                     {"url(\"tcp:localhost\")", "missing \":PORT\" after \"localhost\"", "expected tcp:HOST:PORT"});
  expect_usage_error({"recv", "nosuch:/x"}, {"unknown scheme \"nosuch:\"", "unix-seqpacket:"});
  expect_usage_error({"recv", "mq:jobs"}, {"must start with '/'", "expected mq:/name"});
  expect_usage_error({"send", "chan:/c?pattern=lifo"}, {"bad value \"lifo\"", "spsc, mpmc or broadcast"});
  expect_usage_error({"send", "udp:[::1:9"}, {"missing ']'"});
}

TEST(CliUsage, ConflictingOrMisplacedOptions) {
  expect_usage_error({"send", "unix:@x", "--lines", "--raw"}, {"--lines and --raw exclude each other"});
  expect_usage_error({"recv", "tcp:127.0.0.1:1", "--", "cat"}, {"a command after -- is only for pipe:"});
  expect_usage_error({"send", "pipe:"}, {"pipe: needs a command", "pipe: -- CMD ARGS"});
  expect_usage_error({"recv", "pipe:"}, {"pipe: needs a command"});
  expect_usage_error({"send", "unix:@x", "--size", "lots"}, {"--size(\"lots\")", "64KiB"});
  expect_usage_error({"send", "unix:@x", "--size", "0"}, {"--size(\"0\")", "out of range", "1 B..1 GiB"});
  expect_usage_error({"recv", "unix:@x", "--ready-fd", "250"}, {"--ready-fd 250: not an open file descriptor"});
}

TEST(CliUsage, UnknownOptionFailsNonZero) {
  const CliRun r = run_ipckit({"send", "unix:@x", "--bogus"});
  EXPECT_TRUE(r.result.exited && r.result.code != 0) << r.result.describe();
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit::test
