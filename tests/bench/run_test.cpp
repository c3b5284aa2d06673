// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 240
// A tiny run of every registered mechanism: each available one must produce verified figures for
// both patterns and leave nothing behind; the others must be listed as not available.
#include <sys/resource.h>

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "engine/runner.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

std::vector<std::string> mechanism_names() {
  std::vector<std::string> names;
  // The peer libraries have their own test (peers_test.cpp), which holds the roudi resource lock.
  const std::set<std::string> peers = {"boost-mq", "zmq-ipc", "iceoryx", "iceoryx-waitset"};
  for (const Mechanism* m : all_mechanisms()) {
    if (peers.count(std::string(m->name())) == 0) names.emplace_back(m->name());
  }
  return names;
}

class TinyRun : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyRun, VerifiedAndNothingLeftBehind) {
  const Mechanism* m = find_mechanism(GetParam());
  ASSERT_NE(m, nullptr);
  auto report = run_bench(test::tiny({GetParam()}));
  ASSERT_TRUE(report) << report.error().str();
  EXPECT_TRUE(test::bench_objects().empty());
  const Availability av = m->available();
  if (!av.ok) {
    ASSERT_EQ(report->not_available.size(), 1u);
    EXPECT_EQ(report->not_available[0].mechanism, GetParam());
    EXPECT_FALSE(report->not_available[0].reason.empty());
    EXPECT_TRUE(report->results.empty());
    return;  // listed, not hidden: that is all an unavailable mechanism must do
  }
  ASSERT_TRUE(report->not_available.empty()) << report->not_available[0].reason;
  std::set<Pattern> patterns;
  for (const Row& row : report->results) {
    SCOPED_TRACE(std::string(to_string(row.pattern)));
    patterns.insert(row.pattern);
    EXPECT_EQ(row.mechanism, GetParam());
    EXPECT_FALSE(row.limited.has_value()) << *row.limited;
    ASSERT_TRUE(row.verified.has_value());
    if (m->lossy() && row.lost > 0) {
      EXPECT_FALSE(*row.verified);  // udp: a loss is counted and makes the row unverified
    } else {
      EXPECT_TRUE(*row.verified) << row.note;
      EXPECT_EQ(row.lost, 0u);
    }
    EXPECT_EQ(row.repeats, 1);
    EXPECT_EQ(row.wait, m->wait());
    // On a loaded 2-CPU machine (or under sanitizers) a side can be descheduled for a whole tiny
    // window, so a row may have no samples; when it has, its figures must be complete.
    if (row.samples > 0) {
      if (row.pattern == Pattern::kThroughput) {
        ASSERT_TRUE(row.msgs_per_s.has_value());
        EXPECT_GT(*row.msgs_per_s, 0);
        EXPECT_DOUBLE_EQ(*row.bytes_per_s, *row.msgs_per_s * 64);
        ASSERT_TRUE(row.cpu_sender.has_value());
      } else {
        ASSERT_TRUE(row.max.has_value());
        EXPECT_GT(*row.max, 0);
      }
    }
  }
  EXPECT_EQ(patterns.count(Pattern::kThroughput) == 1, m->supports(Pattern::kThroughput));
  EXPECT_EQ(patterns.count(Pattern::kRtt) == 1, m->supports(Pattern::kRtt));
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, TinyRun, ::testing::ValuesIn(mechanism_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(BenchRun, LimitsAreReportedNotHidden) {
  auto o = test::tiny({"posix-mq", "udp"});
  o.sizes = {64, 1u << 20};
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  int limited = 0;
  for (const Row& row : report->results) {
    if (row.size == (1u << 20)) {
      ASSERT_TRUE(row.limited.has_value()) << row.mechanism;
      EXPECT_FALSE(row.verified.has_value());
      EXPECT_FALSE(row.msgs_per_s.has_value());
      ++limited;
      if (row.mechanism == "posix-mq") {
        EXPECT_EQ(row.limited->rfind("msgsize_max=", 0), 0u) << *row.limited;
      }
      if (row.mechanism == "udp") {
        EXPECT_EQ(*row.limited, "udp max payload=65507");
      }
    }
  }
  EXPECT_EQ(limited, 4);  // two mechanisms x two patterns
}

TEST(BenchRun, OneMiBMessagesVerifiedUnder256MiBPerProcess) {
  auto o = test::tiny(mechanism_names());  // every mechanism but the peers (peers_test.cpp)
  o.sizes = {1u << 20};
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  int measured = 0;
  for (const Row& row : report->results) {
    if (row.limited) continue;
    ++measured;
    SCOPED_TRACE(row.mechanism + " " + std::string(to_string(row.pattern)));
    ASSERT_TRUE(row.verified.has_value());
    EXPECT_TRUE(*row.verified || (row.mechanism == "udp" && row.lost > 0)) << row.note;
  }
  EXPECT_GE(measured, 10);
  rusage ru{};
  ASSERT_EQ(::getrusage(RUSAGE_CHILDREN, &ru), 0);
  EXPECT_LE(ru.ru_maxrss, 256 * 1024) << "largest child's peak RSS in KiB";
  EXPECT_TRUE(test::bench_objects().empty());
}

TEST(BenchRun, SameCpuRowsNeverBusyPoll) {
  auto o = test::tiny({"pipe", "shm-pingpong"});
  o.same_cpu = true;
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  int pipe_same = 0;
  for (const Row& row : report->results) {
    if (row.placement == "same-cpu") {
      EXPECT_NE(row.wait, Wait::kBusy) << row.mechanism;
      pipe_same += row.mechanism == "pipe" ? 1 : 0;
    }
  }
  EXPECT_EQ(pipe_same, 2);
}

}  // namespace
}  // namespace ipckit::bench
