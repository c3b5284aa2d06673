// SPDX-License-Identifier: Apache-2.0
// Unit formatting, the tutorials' claims, and the report's files.
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "engine/report.hpp"
#include "engine/report_detail.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/file/atomic_file.hpp"

namespace ipckit::bench {
namespace detail {
// third_party/chartjs/chart.umd.min.js, compiled in by bench/CMakeLists.txt (cmake/IpckitEmbedFile.cmake).
extern const unsigned char kChartJs[];
extern const std::size_t kChartJs_size;

std::string spread_text(const Row& r) { return r.spread ? fmt::format("{:.1f}%", *r.spread * 100) : std::string(); }

std::string cpu_pair(const Row& r) {
  auto one = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("-"); };
  return one(r.cpu_sender) + "/" + one(r.cpu_receiver);
}

std::string verified_text(const Row& r) {
  if (!r.verified) return "-";
  return *r.verified ? "yes" : "NO";
}
}  // namespace detail

double tutorial_claim(std::string_view m) noexcept {
  if (m == "shm-sem") return 1e9;
  if (m == "unix-stream") return 300e6;
  if (m == "posix-mq") return 200e6;
  if (m == "pipe") return 200e6;
  if (m == "tcp") return 100e6;
  return 0;
}

std::optional<Peak> claim_peak(const Report& r, std::string_view mechanism, std::string_view placement) {
  std::optional<Peak> best;
  for (const Row& row : r.results) {
    if (row.pattern != Pattern::kThroughput || row.mechanism != mechanism || row.placement != placement ||
        row.size < kClaimMinSize || !row.bytes_per_s) {
      continue;
    }
    if (!best || *row.bytes_per_s > best->bytes_per_s) best = Peak{*row.bytes_per_s, row.size};
  }
  return best;
}

std::string human_bytes_per_s(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} GB/s", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.1f} MB/s", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} kB/s", v / 1e3);
  return fmt::format("{:.0f} B/s", v);
}

std::string human_ns(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} ms", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f} us", v / 1e3);
  if (v >= 1e3) return fmt::format("{:.2f} us", v / 1e3);
  return fmt::format("{:.0f} ns", v);
}

std::string human_size(std::size_t v) {
  if (v >= (1u << 20) && v % (1u << 20) == 0) return fmt::format("{} MiB", v >> 20);
  if (v >= 1024 && v % 1024 == 0) return fmt::format("{} KiB", v >> 10);
  return fmt::format("{} B", v);
}

std::string human_count(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string human_ratio(double v) {
  if (!(v > 0)) return fmt::format("{:.2g}x", v);
  if (v >= 100) {  // 1234 -> "1200x": two significant digits, not an exponent
    const double scale = std::pow(10.0, std::floor(std::log10(v)) - 1);
    return fmt::format("{:.0f}x", std::round(v / scale) * scale);
  }
  if (v >= 10) return fmt::format("{:.0f}x", v);
  if (v >= 1) return fmt::format("{:.1f}x", v);
  if (v >= 0.1) return fmt::format("{:.2f}x", v);
  return fmt::format("{:.2g}x", v);
}

Result<std::string> chart_js() {
  if (const char* env = std::getenv("IPCKIT_CHART_JS"); env && *env) return read_text_file(env);
  return std::string(detail::kChartJs, detail::kChartJs + detail::kChartJs_size);
}

Result<std::string> read_text_file(const std::string& path) { return ipckit::read_file(path); }

Result<void> write_text_file(const std::string& path, const std::string& text) {
  return ipckit::atomic_replace(path, as_bytes(text), ReplaceOptions{0644, true});
}

}  // namespace ipckit::bench
