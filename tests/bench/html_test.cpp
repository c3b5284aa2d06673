// SPDX-License-Identifier: Apache-2.0
// The report page's source (no browser: report_page_test.cpp renders it): at least four charts,
// each a literal <canvas>; the run's machine, kernel, build, command and date at the top; the
// headline's figures equal to the JSON; noisy rows flagged; offline (Chart.js 4.5.1 inline, no
// external reference); printable.
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

Row row(const char* mech, Pattern pat, std::size_t size, double rate) {
  Row r;
  r.mechanism = mech;
  r.pattern = pat;
  r.size = size;
  r.placement = "cross-cpu";
  r.msgs_per_s = rate;
  if (pat == Pattern::kThroughput) {
    r.bytes_per_s = rate * static_cast<double>(size);
  } else {
    r.p50 = 1e9 / rate;
    r.p90 = 1.5e9 / rate;
    r.max = 9e9 / rate;
  }
  r.cpu_sender = 500;
  r.cpu_receiver = 400;
  r.verified = true;
  r.repeats = 3;
  r.spread = 0.1;
  r.per_repeat.msgs_per_s = {rate, rate * 1.05, rate * 0.95};
  return r;
}

Report sample() {
  Report r;
  r.command = "ipckit bench --html x.html";
  r.date = "2026-12-03T13:00:00Z";
  r.hostname = "testhost";
  r.git_revision = "abc123def456";
  r.build = {"g++ 12.2.0", "-O3 -DNDEBUG", "Release"};
  r.machine.cpus = 2;
  r.machine.model = "Test CPU <model>";
  r.machine.kernel = "6.1.0-test";
  r.machine.clocksource = "tsc";
  for (std::size_t size : {64u, 65536u}) {
    const double k = size == 64 ? 1 : 0.01;
    r.results.push_back(row("pipe", Pattern::kThroughput, size, 1.0e6 * k));
    r.results.push_back(row("unix-stream", Pattern::kThroughput, size, 1.2e6 * k));
    r.results.push_back(row("channel-spsc-blocking", Pattern::kThroughput, size, 9.0e6 * k));
    r.results.push_back(row("memcpy", Pattern::kThroughput, size, 20.0e6 * k));
  }
  r.results.push_back(row("pipe", Pattern::kRtt, 64, 30000));
  r.results.push_back(row("tcp", Pattern::kRtt, 64, 25000));
  r.results.back().spread = 0.6;  // noisy
  return r;
}

TEST(BenchHtml, FourOrMoreLiteralCanvasesAndTheRunAtTheTop) {
  const Report r = sample();
  const std::string html = to_html(r, "/* chart.js */");
  std::set<std::string> ids;
  const std::regex canvas("<canvas id=\"([a-z0-9-]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), canvas); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(ids.insert((*it)[1].str()).second) << "duplicate canvas id " << (*it)[1].str();
  }
  EXPECT_GE(ids.size(), 4u);
  for (const char* id : {"chart-msgs", "chart-rtt-64", "chart-cpu", "chart-throughput-kernel-stream---socket",
                         "chart-throughput-ipckit-channel", "chart-throughput-baseline"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
  const auto headline_at = html.find("<h2>Headline</h2>");
  ASSERT_NE(headline_at, std::string::npos);
  EXPECT_LT(headline_at, html.find("<canvas"));
  for (const char* meta : {"2026-12-03T13:00:00Z", "testhost", "Test CPU &lt;model&gt;", "6.1.0-test", "g++ 12.2.0",
                           "abc123def456", "ipckit bench --html x.html"}) {
    const auto at = html.find(meta);
    EXPECT_NE(at, std::string::npos) << meta;
    EXPECT_LT(at, headline_at) << meta;
  }
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  // No "Not available" heading over an empty list.
  EXPECT_EQ(html.find("Not available"), std::string::npos);
  // The noisy row is flagged in the table.
  EXPECT_NE(html.find("<tr class=\"noisy\"><td class=\"l\">tcp</td>"), std::string::npos);
}

TEST(BenchHtml, HeadlineFiguresEqualTheJson) {
  const Report r = sample();
  const std::string html = to_html(r, "");
  const nlohmann::json j = to_json(r);
  const std::regex answer(
      "<div class=\"answer\" data-mechanism=\"([^\"]+)\" data-pattern=\"([^\"]+)\" data-size=\"([0-9]+)\" "
      "data-placement=\"([^\"]+)\" data-figure=\"([^\"]+)\" data-value=\"([^\"]+)\"");
  int n = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), answer); it != std::sregex_iterator(); ++it, ++n) {
    const auto& m = *it;
    const nlohmann::json* found = nullptr;
    for (const auto& x : j["results"]) {
      if (x["mechanism"] == m[1].str() && x["pattern"] == m[2].str() && x["size"] == std::stoul(m[3].str()) &&
          x["placement"] == m[4].str()) {
        found = &x;
      }
    }
    ASSERT_NE(found, nullptr) << m[0].str();
    const std::string fig = m[5].str();
    const nlohmann::json& v = fig == "rtt_ns.p50" ? (*found)["rtt_ns"]["p50"] : (*found)[fig];
    EXPECT_EQ(std::stod(m[6].str()), v.get<double>()) << m[0].str();
  }
  EXPECT_EQ(n, 3);  // small messages, bulk, request/reply
  EXPECT_NE(html.find("data-mechanism=\"channel-spsc-blocking\" data-pattern=\"throughput\" data-size=\"64\""),
            std::string::npos) << "the fastest blocking mechanism at 64 B";
}

TEST(BenchHtml, EmbedsTheVendoredChartJs) {
  auto js = chart_js();
  ASSERT_TRUE(js) << js.error().str();
  EXPECT_NE(js->find("Chart.js v4.5.1"), std::string::npos);
  const std::string html = to_html(sample(), *js);
  EXPECT_NE(html.find("Chart.js v4.5.1"), std::string::npos);
}

}  // namespace
}  // namespace ipckit::bench
