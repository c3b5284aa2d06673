// SPDX-License-Identifier: Apache-2.0
// Output of `ipckit bench`, one file per concern: the text table (report_table.cpp), the "which to
// choose" summary and the page's headline (report_summary.cpp), JSON (report_json.cpp), CSV
// (report_csv.cpp), Markdown (report_markdown.cpp), the HTML page (report_html.cpp) and --compare
// (report_compare.cpp); unit formatting and files in report_common.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bench.hpp"

namespace ipckit::bench {

// The tutorials' figures ("shm ~1 GB/s, unix socket ~300 MB/s, mq ~200 MB/s, pipe ~200 MB/s, TCP
// ~100 MB/s"), mapped to the mechanism each one describes; 0 when the tutorials claim nothing.
[[nodiscard]] double tutorial_claim(std::string_view mechanism) noexcept;
// The claims are bulk bandwidths: a run judges them only at this size or above.
inline constexpr std::size_t kClaimMinSize = 64 * 1024;

// A mechanism's best bytes/s over the throughput sizes of a run, at or above kClaimMinSize.
struct Peak {
  double bytes_per_s = 0;
  std::size_t size = 0;
};
[[nodiscard]] std::optional<Peak> claim_peak(const Report& report, std::string_view mechanism,
                                             std::string_view placement = "cross-cpu");

[[nodiscard]] nlohmann::json to_json(const Report& report);
// The table grouped by pattern, fastest first, then the summary.
[[nodiscard]] std::string format_table(const Report& report);
[[nodiscard]] std::string format_summary(const Report& report);
[[nodiscard]] std::string to_csv(const Report& report);
// The tables as GitHub Markdown (--markdown), units in the headers, noisy rows flagged.
[[nodiscard]] std::string to_markdown(const Report& report);

// The answers of the summary, one per question, for the text summary and the page's headline.
struct HeadlineItem {
  std::string question;  // "Many small messages (64 B)"
  std::string mechanism;
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 0;
  std::string placement;
  std::string figure;  // the JSON field of the row: "msgs_per_s", "bytes_per_s", "rtt_ns.p50"
  double value = 0;    // that field's value
  std::string text;    // the summary's sentence
};
[[nodiscard]] std::vector<HeadlineItem> headline(const Report& report);

// The self-contained HTML page (charts embed the vendored Chart.js read from `chart_js`).
[[nodiscard]] std::string to_html(const Report& report, const std::string& chart_js);
// The Chart.js to embed in the page: the file $IPCKIT_CHART_JS names when it is set (an error if it
// cannot be read), else the vendored copy compiled into the engine (no file is read: an installed
// ipckit works without its source tree).
[[nodiscard]] Result<std::string> chart_js();
// ipckit::read_file / ipckit::atomic_replace (mode 0644): a reader never sees half a report.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path);
[[nodiscard]] Result<void> write_text_file(const std::string& path, const std::string& text);

// --compare. Rows match by mechanism, pattern, size and placement. Each figure gets a table: A and B
// with units, B/A, and a verdict from the per-repeat values of both runs (schema_version 2): with
// at least kMinRepeatsForUTest values on each side a two-sided Mann-Whitney U test at
// kCompareAlpha; with fewer, "within noise" when the two ranges of repeats overlap or the medians
// differ by at most kSpreadRuleMinChange, else faster/slower. Without per-repeat values (schema 1,
// p99.9, max) there is no verdict.
inline constexpr int kMinRepeatsForUTest = 5;
inline constexpr double kCompareAlpha = 0.05;
inline constexpr double kSpreadRuleMinChange = 0.05;

enum class Verdict { kFaster, kSlower, kWithinNoise, kNone };

struct Comparison {
  std::string text;
  // "pipe throughput 64 B cross-cpu msgs/s: 21% slower", for every figure judged slower by more
  // than the threshold given to compare_reports (every slower one when none is given).
  std::vector<std::string> slower;
};
[[nodiscard]] Comparison compare_reports(const nlohmann::json& a, const nlohmann::json& b,
                                         std::optional<double> fail_if_slower_pct = std::nullopt);
// Two-sided p-value of the Mann-Whitney U test (normal approximation with tie and continuity
// correction); 1 when either side is empty or every value is tied.
[[nodiscard]] double mann_whitney_p(const std::vector<double>& x, const std::vector<double>& y);
// The verdict for a figure where higher (or lower) is better, and how it was decided.
struct Judgement {
  Verdict verdict = Verdict::kNone;
  std::string how;   // "U test, p=0.008", "spread rule, 3+3 repeats: ranges overlap", ...
  double change = 0; // median of b's values / median of a's (0 without values)
};
[[nodiscard]] Judgement judge(const std::vector<double>& a, const std::vector<double>& b, bool higher_is_better);

// Reads and checks a JSON report (schema_version 1 or 2).
[[nodiscard]] Result<nlohmann::json> load_report(const std::string& path);

// "1.23 GB/s", "812 ns", "4 KiB", ...
[[nodiscard]] std::string human_bytes_per_s(double v);
[[nodiscard]] std::string human_ns(double v);
[[nodiscard]] std::string human_size(std::size_t v);
[[nodiscard]] std::string human_count(double v);
// A ratio with two significant digits: "33x", "1.3x", "0.80x", "0.047x".
[[nodiscard]] std::string human_ratio(double v);

}  // namespace ipckit::bench
