// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 180
// The HTML report of a real tiny run opens offline in headless Chromium: the page renders, its
// charts have data (the page writes a marker with the counts after drawing), and the browser's
// console stays silent (no script errors).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

// Runs the browser on `url`; returns stdout (the DOM) and stderr (its log, console included).
struct BrowserOutput {
  std::string dom;
  std::string log;
  int status = -1;
};

BrowserOutput dump_dom(const std::string& browser, const std::string& url, const std::string& profile) {
  ::ipckit::test::TempDir tmp;
  const std::string out_path = tmp.file("dom.html");
  const std::string err_path = tmp.file("log.txt");
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    const std::string user_dir = "--user-data-dir=" + profile;
    ::execl(browser.c_str(), browser.c_str(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--enable-logging=stderr", "--v=0", user_dir.c_str(),
            "--virtual-time-budget=5000", "--dump-dom", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  BrowserOutput r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.dom = read_text_file(out_path).value_or("");
  r.log = read_text_file(err_path).value_or("");
  return r;
}

TEST(BenchHtml, RendersInHeadlessChromiumWithDataAndNoConsoleErrors) {
  const std::string browser = find_chromium();
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  auto js = chart_js();
  ASSERT_TRUE(js) << js.error().str();
  auto report = run_bench(test::tiny({"pipe", "unix-stream", "shm-sem", "memcpy"}));
  ASSERT_TRUE(report) << report.error().str();
  const std::string html = to_html(*report, *js);
  // Self-contained: no external scripts, styles or images.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);

  ::ipckit::test::TempDir dir;
  const std::string page = dir.file("report.html");
  ASSERT_TRUE(write_text_file(page, html));
  const BrowserOutput out = dump_dom(browser, "file://" + page, dir.file("profile"));
  ASSERT_EQ(out.status, 0) << out.log;
  std::smatch m;
  const std::regex marker("id=\"render-status\" data-charts=\"([0-9]+)\" data-points=\"([0-9]+)\"");
  ASSERT_TRUE(std::regex_search(out.dom, m, marker)) << "the page did not finish rendering:\n" << out.log;
  EXPECT_EQ(std::stoi(m[1].str()), 3);
  // The page plots exactly the figures the report has: every throughput point, every rtt
  // percentile that has enough samples, and both CPU bars at the smallest size.
  int expected = 0;
  for (const Row& row : report->results) {
    if (row.pattern == Pattern::kThroughput && row.bytes_per_s) {
      expected += 1 + (row.cpu_sender ? 1 : 0) + (row.cpu_receiver ? 1 : 0);
    }
    if (row.pattern == Pattern::kRtt && row.p50) {
      for (const auto& q : {row.p50, row.p90, row.p99, row.p999, row.max}) expected += q ? 1 : 0;
    }
  }
  EXPECT_GE(expected, 3);  // blocking mechanisms always move frames in a 30 ms window
  EXPECT_EQ(std::stoi(m[2].str()), expected);
  EXPECT_EQ(out.log.find(":CONSOLE"), std::string::npos) << out.log;
  EXPECT_NE(out.dom.find("<canvas"), std::string::npos);
}

TEST(BenchHtml, BrokenScriptIsCaughtByTheConsoleCheck) {
  // The console check above must be able to fail: a page with a script error is reported.
  const std::string browser = find_chromium();
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed";
  ::ipckit::test::TempDir dir;
  const std::string page = dir.file("broken.html");
  ASSERT_TRUE(write_text_file(page, "<html><body><script>noSuchFunction();</script></body></html>"));
  const BrowserOutput out = dump_dom(browser, "file://" + page, dir.file("profile"));
  EXPECT_NE(out.log.find(":CONSOLE"), std::string::npos) << out.log;
  EXPECT_EQ(out.dom.find("render-status"), std::string::npos);
}

}  // namespace
}  // namespace ipckit::bench
