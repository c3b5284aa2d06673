// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 240
// The broadcast and MPMC rows of `ipckit bench` (issue 9): each runs verified with its processes,
// says what its msgs/s is, reports the senders' rate too, and leaves no object behind; the variants
// with more processes run only when named.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

struct Expected {
  std::string mechanism;
  Procs procs;
  std::string rate_of;
};

class ChannelRow : public ::testing::TestWithParam<Expected> {};

TEST_P(ChannelRow, VerifiedWithARateAndNothingLeftBehind) {
  const Expected& e = GetParam();
  auto o = test::tiny({e.mechanism});
  o.duration_s = 0.05;
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  EXPECT_TRUE(test::bench_objects().empty());
  ASSERT_TRUE(report->not_available.empty()) << report->not_available[0].reason;
  ASSERT_EQ(report->results.size(), 1u);  // throughput only
  const Row& row = report->results[0];
  EXPECT_EQ(row.pattern, Pattern::kThroughput);
  EXPECT_EQ(row.wait, Wait::kBlocking);
  EXPECT_EQ(row.procs.producers, e.procs.producers);
  EXPECT_EQ(row.procs.consumers, e.procs.consumers);
  EXPECT_EQ(row.rate_of, e.rate_of);
  EXPECT_FALSE(row.limited.has_value()) << *row.limited;
  ASSERT_TRUE(row.verified.has_value());
  EXPECT_TRUE(*row.verified) << row.note;
  EXPECT_EQ(row.lost, 0u);
  EXPECT_GT(row.samples, 0u);
  ASSERT_TRUE(row.msgs_per_s.has_value());
  EXPECT_GT(*row.msgs_per_s, 0);
  ASSERT_TRUE(row.sender_msgs_per_s.has_value());
  EXPECT_GT(*row.sender_msgs_per_s, 0);
  ASSERT_TRUE(row.cpu_receiver.has_value());
  // The table explains the row (every one of these is per-subscriber or several consumers but the
  // 1x1 MPMC row, which is a plain receiver rate).
  const std::string table = format_table(*report);
  EXPECT_EQ(table.find("SEVERAL PROCESSES") != std::string::npos, e.rate_of != "receiver") << table;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ChannelRow,
    ::testing::Values(Expected{"channel-broadcast", {1, 1}, "per-subscriber"},
                      Expected{"channel-broadcast-2", {1, 2}, "per-subscriber"},
                      Expected{"channel-broadcast-4", {1, 4}, "per-subscriber"},
                      Expected{"channel-broadcast-8", {1, 8}, "per-subscriber"},
                      Expected{"channel-mpmc", {1, 1}, "receiver"},
                      Expected{"channel-mpmc-2x2", {2, 2}, "all-consumers"},
                      Expected{"channel-mpmc-4x4", {4, 4}, "all-consumers"}),
    [](const ::testing::TestParamInfo<Expected>& param_info) {
      std::string n = param_info.param.mechanism;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

TEST(ChannelRows, LargeFramesAndSameCpuRowsAreVerifiedToo) {
  auto o = test::tiny({"channel-broadcast-4", "channel-mpmc-2x2"});
  o.sizes = {64, 65536};
  o.same_cpu = true;
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  EXPECT_TRUE(test::bench_objects().empty());
  int same_cpu = 0;
  for (const Row& row : report->results) {
    SCOPED_TRACE(row.mechanism + " " + std::to_string(row.size) + " " + row.placement);
    ASSERT_TRUE(row.verified.has_value());
    EXPECT_TRUE(*row.verified) << row.note;
    same_cpu += row.placement == "same-cpu" ? 1 : 0;
  }
  EXPECT_EQ(same_cpu, 4);
}

TEST(ChannelRows, VariantsRunOnlyWhenNamed) {
  std::vector<std::string> defaults;
  for (const Mechanism* m : default_mechanisms()) defaults.emplace_back(m->name());
  auto has = [&](const char* n) { return std::find(defaults.begin(), defaults.end(), n) != defaults.end(); };
  EXPECT_TRUE(has("channel-broadcast"));
  EXPECT_TRUE(has("channel-mpmc"));
  EXPECT_TRUE(has("channel-spsc-blocking"));
  for (const char* variant :
       {"channel-broadcast-2", "channel-broadcast-4", "channel-broadcast-8", "channel-mpmc-2x2", "channel-mpmc-4x4"}) {
    EXPECT_FALSE(has(variant)) << variant;
    EXPECT_NE(find_mechanism(variant), nullptr) << variant;  // but listed and runnable by name
  }
  EXPECT_TRUE(::ipckit::test::FailsWith(parse_mechanisms("channel-broadcast-3"),
                              {"--mechanisms", "channel-broadcast-3", "unknown mechanism", "channel-broadcast-8"}));
}

}  // namespace
}  // namespace ipckit::bench
