// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// `ipckit send --priority N` and `ipckit recv --show-priority` on POSIX message queues: the
// priority reaches the queue, comes back before each message, and the bad uses are usage errors.
#include <string>

#include <gtest/gtest.h>

#include "cli_harness.hpp"

namespace ipckit::test {
namespace {

void expect_usage_error(const CliRun& r, std::string_view needle) {
  EXPECT_TRUE(r.result.exited && r.result.code == 2) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err << " lacks " << needle;
}

TEST(MqPriorityCli, PrioritiesComeBackHighestFirst) {
  const std::string url = "mq:" + unique_name();
  for (int p : {1, 7, 3}) {
    auto s = run_ipckit({"send", url, "--create", "--lines", "--no-end-marker", "--priority", std::to_string(p)},
                        "p" + std::to_string(p) + "\n");
    ASSERT_TRUE(s.result.ok()) << s.result.describe() << ": " << s.err;
  }
  auto r = run_ipckit({"recv", url, "--lines", "--no-end-marker", "--count", "3", "--show-priority", "--remove-on-exit"});
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "7\tp7\n3\tp3\n1\tp1\n");
}

TEST(MqPriorityCli, HexOutputCarriesThePriorityToo) {
  const std::string url = "mq:" + unique_name();
  auto s = run_ipckit({"send", url, "--create", "--hex", "--priority", "5"}, "6869\n");
  ASSERT_TRUE(s.result.ok()) << s.result.describe() << ": " << s.err;
  auto r = run_ipckit({"recv", url, "--hex", "--show-priority", "--remove-on-exit"});
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "5\t6869\n");
}

TEST(MqPriorityCli, BadUsesAreUsageErrors) {
  const std::string url = "mq:" + unique_name();
  expect_usage_error(run_ipckit({"send", "unix-dgram:@" + unique_name(), "--priority", "2"}), "only for mq:");
  expect_usage_error(run_ipckit({"send", url + "?priority=3", "--priority", "2"}), "give the priority once");
  expect_usage_error(run_ipckit({"send", url, "--priority", "32768"}), "0..32767");
  expect_usage_error(run_ipckit({"send", url, "--priority", "-1"}), "--priority");
  expect_usage_error(run_ipckit({"recv", url, "--show-priority"}), "needs --lines or --hex");
  expect_usage_error(run_ipckit({"recv", "fifo:" + unique_path(), "--lines", "--show-priority"}), "only for mq:");
}

}  // namespace
}  // namespace ipckit::test
