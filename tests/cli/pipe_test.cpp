// SPDX-License-Identifier: Apache-2.0
// `ipckit send pipe: -- CMD` and `ipckit recv pipe: -- CMD`: the child's stdin/stdout, raw by
// default, and the child's exit code as ipckit's.
#include <csignal>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "cli_harness.hpp"
#include "ipckit/endpoint/endpoint.hpp"

namespace ipckit::test {
namespace {

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(PipeScheme, SendFeedsChildStdinByteExact) {
  // 1,000 chunks of 1 KiB through `cat`, whose stdout is ipckit's.
  const std::string input = random_bytes(scaled(1000) * 1024, 1);
  const CliRun r = run_ipckit({"send", "pipe:", "--size", "1KiB", "--", "cat"}, input);
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_TRUE(r.out == input) << "output differs: " << r.out.size() << " of " << input.size() << " bytes";
}

TEST(PipeScheme, RecvReadsChildStdoutLines) {
  const CliRun r = run_ipckit({"recv", "pipe:", "--lines", "--hex", "--", "printf", "a\\nbc\\n\\nlast"});
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "61\n6263\n\n6c617374\n");
  const CliRun raw = run_ipckit({"recv", "pipe:", "--", "printf", "x\\0y"});
  ASSERT_TRUE(raw.result.ok()) << raw.err;
  EXPECT_EQ(raw.out, std::string("x\0y", 3));
}

TEST(PipeScheme, ExitCodeIsTheChilds) {
  const CliRun s = run_ipckit({"send", "pipe:", "--", "sh", "-c", "cat >/dev/null; exit 3"}, "data");
  EXPECT_TRUE(s.result.exited && s.result.code == 3) << s.result.describe() << s.err;
  const CliRun r = run_ipckit({"recv", "pipe:", "--", "sh", "-c", "echo out; exit 4"});
  EXPECT_TRUE(r.result.exited && r.result.code == 4) << r.result.describe() << r.err;
  EXPECT_EQ(r.out, "out\n");
  const CliRun k = run_ipckit({"recv", "pipe:", "--", "sh", "-c", "kill -TERM $$"});
  EXPECT_TRUE(k.result.exited && k.result.code == 128 + 15) << k.result.describe() << k.err;
  // A child that stops reading early is not an error of ours: its exit code decides.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += std::string(1000, 'x') + "\n";  // far more than a pipe holds
  const CliRun h = run_ipckit({"send", "pipe:", "--lines", "--", "head", "-n", "1"}, many);
  EXPECT_EQ(h.out, std::string(1000, 'x') + "\n");
  EXPECT_TRUE(h.result.ok()) << h.result.describe() << h.err;
}

// recv stops at --count and closes the pipe: a child that would write forever ends (SIGPIPE), and
// that is success, as `yes | head -3` is in a shell.
TEST(PipeScheme, RecvCountStopsAnEndlessChild) {
  const CliRun r = run_ipckit({"recv", "pipe:", "--lines", "--count", "3", "--", "yes", "y"});
  EXPECT_TRUE(r.result.ok()) << r.result.describe() << r.err;
  EXPECT_EQ(r.out, "y\ny\ny\n");
}

// Exit 127 for a command that is not found, as shells do (issue 23 item 12).
TEST(PipeScheme, MissingProgramIsOneClearLine) {
  const CliRun r = run_ipckit({"send", "pipe:", "--", "/nonexistent/ipckit-no-such-program"});
  EXPECT_TRUE(r.result.exited && r.result.code == 127) << r.result.describe();
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("ENOENT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ipckit-no-such-program"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit::test
