// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 240
// ipckit-test: label reliability
// The report page of a real tiny run, rendered offline in headless Chromium by
// scripts/bench-screenshot (the renderer of docs/figures/bench-report.png): every chart drew (the
// page's marker counts its canvases), each chart's series have distinct colours, the headline's
// figures equal the JSON, the console stays silent, and a full-page screenshot is kept under the
// build tree (bench-artifacts/report-page.png) as an artefact. Label reliability: a browser start
// takes seconds, so it runs in the release pass only.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

bool have_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (::access(p, X_OK) == 0) return true;
  }
  return false;
}

// scripts/bench-screenshot PAGE PNG DOM; returns its exit status.
int render(const std::string& page, const std::string& png, const std::string& dom) {
  const std::string script = std::string(IPCKIT_SOURCE_DIR) + "/scripts/bench-screenshot";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(script.c_str(), script.c_str(), page.c_str(), png.c_str(), dom.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  }
  return s;
}

TEST(BenchReportPage, RendersInHeadlessChromiumWithDistinctColoursAndTheJsonsFigures) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  auto js = chart_js();
  ASSERT_TRUE(js) << js.error().str();
  auto o = test::tiny({"pipe", "unix-stream", "fifo", "shm-sem", "memcpy", "channel-spsc-blocking"});
  o.sizes = {64, 65536};
  o.repeats = 2;
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  const std::string html = to_html(*report, *js);
  const nlohmann::json j = to_json(*report);

  const std::string dir = std::string(IPCKIT_TEST_BINARY_DIR) + "/bench-artifacts";
  ::mkdir(dir.c_str(), 0755);
  const std::string page = dir + "/report-page.html";
  const std::string png = dir + "/report-page.png";
  const std::string dom_path = dir + "/report-page-dom.html";
  ASSERT_TRUE(write_text_file(page, html));
  ASSERT_EQ(render(page, png, dom_path), 0) << read_text_file(png + ".log").value_or("");
  const std::string dom = read_text_file(dom_path).value_or("");
  const std::string log = read_text_file(dom_path + ".log").value_or("");
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;

  // Every canvas of the source drew a chart.
  std::size_t canvases = 0;
  for (std::size_t at = html.find("<canvas "); at != std::string::npos; at = html.find("<canvas ", at + 1)) ++canvases;
  EXPECT_GE(canvases, 4u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("id=\"render-status\" data-charts=\"([0-9]+)\" data-points=\"([0-9]+)\"")))
      << "the page did not finish rendering:\n" << log;
  EXPECT_EQ(std::stoul(m[1].str()), canvases);
  EXPECT_GT(std::stoi(m[2].str()), 0);

  // Each chart: its series (bars or lines) have distinct colours.
  const std::regex colours("<canvas id=\"([a-z0-9-]+)\"[^>]* data-series-colors=\"([^\"]*)\"");
  std::size_t checked = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), colours); it != std::sregex_iterator(); ++it, ++checked) {
    const auto list = nlohmann::json::parse(unescape((*it)[2].str()));
    SCOPED_TRACE((*it)[1].str() + " " + list.dump());
    ASSERT_TRUE(list.is_array());
    EXPECT_FALSE(list.empty());
    const std::set<std::string> distinct(list.begin(), list.end());
    EXPECT_EQ(distinct.size(), list.size());
  }
  EXPECT_EQ(checked, canvases);

  // The headline's figures: the value written by the engine, the value the page's script looked up
  // in its own JSON, and the JSON of the report are one number.
  const std::regex answer(
      "<div class=\"answer\" data-mechanism=\"([^\"]+)\" data-pattern=\"([^\"]+)\" data-size=\"([0-9]+)\" "
      "data-placement=\"([^\"]+)\" data-figure=\"([^\"]+)\" data-value=\"([^\"]+)\" data-json-value=\"([^\"]+)\"");
  int answers = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), answer); it != std::sregex_iterator(); ++it, ++answers) {
    const auto& a = *it;
    SCOPED_TRACE(a[0].str());
    const nlohmann::json* row = nullptr;
    for (const auto& x : j["results"]) {
      if (x["mechanism"] == a[1].str() && x["pattern"] == a[2].str() && x["size"] == std::stoul(a[3].str()) &&
          x["placement"] == a[4].str()) {
        row = &x;
      }
    }
    ASSERT_NE(row, nullptr);
    const nlohmann::json& v = a[5].str() == "rtt_ns.p50" ? (*row)["rtt_ns"]["p50"] : (*row)[a[5].str()];
    ASSERT_TRUE(v.is_number());
    EXPECT_EQ(std::stod(a[6].str()), v.get<double>());
    EXPECT_EQ(std::stod(a[7].str()), v.get<double>());
  }
  EXPECT_GE(answers, 2);  // small messages and bulk data at least: every mechanism here blocks

  // The screenshot, kept for CI: a PNG of the whole page.
  const std::string shot = read_text_file(png).value_or("");
  ASSERT_GT(shot.size(), 10000u);
  EXPECT_EQ(shot.substr(1, 3), "PNG");
}

TEST(BenchReportPage, BrokenScriptIsCaughtByTheConsoleCheck) {
  // The console check above must be able to fail: a page with a script error is reported.
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  ::ipckit::test::TempDir dir;
  const std::string page = dir.file("broken.html");
  ASSERT_TRUE(write_text_file(page, "<html><body><script>noSuchFunction();</script></body></html>"));
  ASSERT_EQ(render(page, dir.file("broken.png"), dir.file("dom.html")), 0);
  const std::string log = read_text_file(dir.file("dom.html.log")).value_or("");
  EXPECT_NE(log.find(":CONSOLE"), std::string::npos) << log;
  EXPECT_EQ(read_text_file(dir.file("dom.html")).value_or("").find("render-status"), std::string::npos);
}

}  // namespace
}  // namespace ipckit::bench
