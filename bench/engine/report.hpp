// SPDX-License-Identifier: Apache-2.0
// Output of `ipckit bench`: the table on stdout, the "which to choose" summary, JSON (the schema of
// the bench issue), CSV, the HTML report, and --compare.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/bench.hpp"

namespace ipckit::bench {

// The tutorials' figures ("shm ~1 GB/s, unix socket ~300 MB/s, mq ~200 MB/s, pipe ~200 MB/s, TCP
// ~100 MB/s"), mapped to the mechanism each one describes; 0 when the tutorials claim nothing.
[[nodiscard]] double tutorial_claim(std::string_view mechanism) noexcept;

[[nodiscard]] nlohmann::json to_json(const Report& report);
// The table grouped by pattern, fastest first, then the summary.
[[nodiscard]] std::string format_table(const Report& report);
[[nodiscard]] std::string format_summary(const Report& report);
[[nodiscard]] std::string to_csv(const Report& report);
// The self-contained HTML page (charts embed the vendored Chart.js read from `chart_js`).
[[nodiscard]] std::string to_html(const Report& report, const std::string& chart_js);
// The Chart.js to embed in the page: the file $IPCKIT_CHART_JS names when it is set (an error if it
// cannot be read), else the vendored copy compiled into the engine (no file is read: an installed
// ipckit works without its source tree).
[[nodiscard]] Result<std::string> chart_js();
[[nodiscard]] Result<std::string> read_text_file(const std::string& path);
[[nodiscard]] Result<void> write_text_file(const std::string& path, const std::string& text);

// --compare: the ratio B/A of every figure of every row present in both files.
[[nodiscard]] Result<std::string> compare_reports(const nlohmann::json& a, const nlohmann::json& b);
// Reads and checks a JSON report (schema_version 1).
[[nodiscard]] Result<nlohmann::json> load_report(const std::string& path);

// "1.23 GB/s", "812 ns", "4 KiB", ...
[[nodiscard]] std::string human_bytes_per_s(double v);
[[nodiscard]] std::string human_ns(double v);
[[nodiscard]] std::string human_size(std::size_t v);
[[nodiscard]] std::string human_count(double v);

}  // namespace ipckit::bench
