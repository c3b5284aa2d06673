// SPDX-License-Identifier: Apache-2.0
// --compare: one table per figure with units, B/A and a verdict decided from the per-repeat values
// (Mann-Whitney U with >= 5 repeats per run, a spread rule with fewer), schema 1 reports read too,
// and --fail-if-slower's list of regressions.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

using nlohmann::json;

TEST(BenchCompare, MannWhitneyMatchesTheNormalApproximation) {
  // Completely separated 5 + 5: U = 0, mean 12.5, variance 25 * 11 / 12; z = (12.5 - 0.5) / sd.
  const double p = mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_NEAR(p, std::erfc((12.0 / std::sqrt(25.0 * 11 / 12)) / std::sqrt(2.0)), 1e-12);
  EXPECT_LT(p, 0.05);
  // Interleaved samples: no evidence of a difference.
  EXPECT_GT(mann_whitney_p({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10}), 0.5);
  // Symmetric in its arguments; every value tied or a side empty: p = 1.
  EXPECT_DOUBLE_EQ(mann_whitney_p({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}), p);
  EXPECT_DOUBLE_EQ(mann_whitney_p({5, 5, 5, 5, 5}, {5, 5, 5, 5, 5}), 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_p({}, {1, 2}), 1.0);
}

TEST(BenchCompare, JudgeUsesTheUTestFromFiveRepeatsAndTheSpreadRuleBelow) {
  const std::vector<double> a = {100, 101, 102, 103, 104};
  const std::vector<double> slower = {80, 81, 82, 83, 84};
  Judgement j = judge(a, slower, /*higher_is_better=*/true);
  EXPECT_EQ(j.verdict, Verdict::kSlower);
  EXPECT_NE(j.how.find("U test"), std::string::npos) << j.how;
  EXPECT_EQ(judge(a, slower, false).verdict, Verdict::kFaster);  // lower is better (latency, CPU)
  EXPECT_EQ(judge(a, {99, 101.5, 103, 105, 100.5}, true).verdict, Verdict::kWithinNoise);
  // Three repeats: the spread rule. Overlapping ranges are noise even 8% apart at the median.
  j = judge({100, 110, 120}, {108, 118, 125}, true);
  EXPECT_EQ(j.verdict, Verdict::kWithinNoise);
  EXPECT_NE(j.how.find("spread rule"), std::string::npos) << j.how;
  j = judge({100, 101, 102}, {80, 81, 82}, true);
  EXPECT_EQ(j.verdict, Verdict::kSlower);
  EXPECT_NE(j.how.find("ranges apart"), std::string::npos) << j.how;
  // One repeat each: apart, but within 5% is still noise.
  EXPECT_EQ(judge({100}, {97}, true).verdict, Verdict::kWithinNoise);
  EXPECT_EQ(judge({100}, {90}, true).verdict, Verdict::kSlower);
  EXPECT_EQ(judge({}, {90}, true).verdict, Verdict::kNone);
}

json row(const char* mech, const char* pattern, double rate, std::vector<double> reps, double p50 = 0) {
  json r = {{"mechanism", mech}, {"pattern", pattern}, {"size", 64}, {"placement", "cross-cpu"},
            {"msgs_per_s", rate}, {"bytes_per_s", std::string(pattern) == "throughput" ? json(rate * 64) : json(nullptr)},
            {"rtt_ns", {{"p50", p50 > 0 ? json(p50) : json(nullptr)}, {"p90", nullptr}, {"p99", nullptr},
                        {"p999", nullptr}, {"max", nullptr}}},
            {"cpu_ns_per_msg", {{"sender", 100.0}, {"receiver", 50.0}}},
            {"repeats", reps.size()}};
  json pr = {{"msgs_per_s", reps}, {"rtt_p50_ns", json::array()}, {"rtt_p99_ns", json::array()},
             {"cpu_ns_per_msg_sender", std::vector<double>(reps.size(), 100.0)},
             {"cpu_ns_per_msg_receiver", std::vector<double>(reps.size(), 50.0)}};
  if (p50 > 0) {
    std::vector<double> p;
    for (double x : reps) p.push_back(p50 * reps.front() / x);
    pr["rtt_p50_ns"] = p;
  }
  r["per_repeat"] = pr;
  return r;
}

json report(std::vector<json> rows) {
  json j = {{"schema_version", 2}, {"date", "2026-12-03T13:00:00Z"}, {"hostname", "vm"}, {"results", json::array()}};
  for (auto& r : rows) j["results"].push_back(std::move(r));
  return j;
}

TEST(BenchCompare, TablePerFigureWithUnitsRatioAndVerdict) {
  const json a = report({row("pipe", "throughput", 1.0e6, {1.00e6, 1.01e6, 0.99e6, 1.02e6, 0.98e6}),
                         row("tcp", "rtt", 20000, {20000, 20100, 19900, 20200, 19800}, 40000)});
  const json b = report({row("pipe", "throughput", 0.8e6, {0.80e6, 0.81e6, 0.79e6, 0.82e6, 0.78e6}),
                         row("tcp", "rtt", 20050, {20050, 19950, 20150, 19850, 20000}, 40000),
                         row("udp", "rtt", 1000, {1000}, 50000)});
  const Comparison c = compare_reports(a, b);
  const std::string& t = c.text;
  // One table per figure, its direction stated; units on every value.
  EXPECT_NE(t.find("msgs/s (throughput; higher is better)"), std::string::npos) << t;
  EXPECT_NE(t.find("bytes/s (throughput; higher is better)"), std::string::npos) << t;
  EXPECT_NE(t.find("round trip p50 (rtt; lower is better)"), std::string::npos) << t;
  EXPECT_NE(t.find("1.00 M msgs/s"), std::string::npos) << t;
  EXPECT_NE(t.find("800.0 k msgs/s"), std::string::npos) << t;
  EXPECT_NE(t.find("64.0 MB/s"), std::string::npos) << t;
  EXPECT_NE(t.find("40.0 us"), std::string::npos) << t;
  EXPECT_NE(t.find("100 ns"), std::string::npos) << t;  // CPU per message
  EXPECT_NE(t.find("0.800"), std::string::npos) << t;   // B/A
  EXPECT_NE(t.find("slower by 20% (U test, p="), std::string::npos) << t;
  EXPECT_NE(t.find("within noise (U test"), std::string::npos) << t;
  EXPECT_NE(t.find("Mann-Whitney U"), std::string::npos) << t;  // the method is stated
  EXPECT_NE(t.find("only in B: rtt udp 64 B cross-cpu"), std::string::npos) << t;
  EXPECT_NE(t.find("A: schema 2, 2026-12-03T13:00:00Z, vm"), std::string::npos) << t;
  // Without a threshold every slower figure is listed: pipe's msgs/s and bytes/s.
  ASSERT_EQ(c.slower.size(), 2u) << t;
  EXPECT_NE(c.slower[0].find("throughput pipe 64 B cross-cpu msgs/s: 20% slower"), std::string::npos) << c.slower[0];
  // --fail-if-slower 25: a 20% slowdown passes; 10: it fails.
  EXPECT_TRUE(compare_reports(a, b, 25.0).slower.empty());
  EXPECT_EQ(compare_reports(a, b, 10.0).slower.size(), 2u);
  // B against A: faster, nothing slower.
  const Comparison back = compare_reports(b, a, 0.0);
  EXPECT_TRUE(back.slower.empty());
  EXPECT_NE(back.text.find("faster by 25%"), std::string::npos) << back.text;
}

TEST(BenchCompare, SchemaOneReportsCompareWithoutVerdicts) {
  json a = {{"schema_version", 1}, {"results", json::array()}};
  a["results"].push_back({{"mechanism", "pipe"}, {"pattern", "throughput"}, {"size", 64}, {"placement", "cross-cpu"},
                          {"msgs_per_s", 1000.0}, {"bytes_per_s", 64000.0},
                          {"rtt_ns", {{"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"p999", nullptr}, {"max", nullptr}}},
                          {"cpu_ns_per_msg", {{"sender", 100.0}, {"receiver", 50.0}}}});
  json b = a;
  b["results"][0]["msgs_per_s"] = 500.0;
  b["results"][0]["bytes_per_s"] = 32000.0;
  const Comparison c = compare_reports(a, b, 10.0);
  EXPECT_NE(c.text.find("0.500"), std::string::npos) << c.text;
  EXPECT_NE(c.text.find("no verdict (no per-repeat values)"), std::string::npos) << c.text;
  EXPECT_TRUE(c.slower.empty()) << "no verdict, so nothing is called slower";
  // A version-2 report against a version-1 one: the figures still compare.
  const json v2 = report({row("pipe", "throughput", 2000, {2000, 2010, 1990})});
  const Comparison mixed = compare_reports(a, v2);
  EXPECT_NE(mixed.text.find("2.000"), std::string::npos) << mixed.text;
}

}  // namespace
}  // namespace ipckit::bench
