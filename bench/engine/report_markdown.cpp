// SPDX-License-Identifier: Apache-2.0
// --markdown FILE: the run as GitHub Markdown (a README or an issue): what ran where, the
// throughput and round-trip tables with units in the headers, noisy rows flagged, the summary.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/report.hpp"
#include "engine/report_detail.hpp"

namespace ipckit::bench {
namespace {

using detail::cell;

// A table cell: '|' would end it, a newline the row.
std::string md(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string spread_md(const Row& r) {
  if (!r.spread) return "";
  return detail::spread_text(r) + (is_noisy(r) ? " **noisy**" : "");
}

// The summary's list without its title line ("\nWHICH TO CHOOSE ...\n").
std::string md_summary_body(const std::string& summary) {
  std::string out;
  std::size_t pos = 0;
  while (pos < summary.size()) {
    const std::size_t nl = summary.find('\n', pos);
    const std::string line = summary.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.rfind("- ", 0) == 0) out += line + "\n";
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out + "\n";
}

std::string cpu_md(const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : "-"; }

}  // namespace

std::string to_markdown(const Report& r) {
  std::string out = "### ipckit bench\n\n";
  out += fmt::format("`{}` · {} UTC · {} · {}, {} CPUs, kernel {} · {} ({}){}\n\n", md(r.command), md(r.date),
                     md(r.hostname), md(r.machine.model), r.machine.cpus, md(r.machine.kernel), md(r.build.compiler),
                     md(r.build.type), r.git_revision ? " · rev " + md(*r.git_revision) : "");
  if (!r.loaded.empty()) {
    std::string why;
    for (const auto& w : r.loaded) why += (why.empty() ? "" : "; ") + w;
    out += "> **The machine looked loaded:** " + md(why) + ".\n\n";
  }
  std::vector<const Row*> tp, rt;
  for (const Row& row : r.results) (row.pattern == Pattern::kThroughput ? tp : rt).push_back(&row);
  std::stable_sort(tp.begin(), tp.end(), [](const Row* a, const Row* b) {
    if (a->size != b->size) return a->size < b->size;
    return a->msgs_per_s.value_or(-1) > b->msgs_per_s.value_or(-1);
  });
  std::stable_sort(rt.begin(), rt.end(), [](const Row* a, const Row* b) {
    if (a->size != b->size) return a->size < b->size;
    return a->p50.value_or(1e300) < b->p50.value_or(1e300);
  });
  if (!tp.empty()) {
    out += "#### Throughput (median of repeats; spread = (max − min) / median, noisy above 20%)\n\n";
    out += "| mechanism | size | placement | wait | msgs/s | bytes/s | spread | CPU ns/msg sender | CPU ns/msg receiver "
           "| verified |\n";
    out += "|---|---:|---|---|---:|---:|---:|---:|---:|---|\n";
    for (const Row* row : tp) {
      if (row->limited) {
        out += fmt::format("| {} | {} | {} | {} | limited: {} | | | | | |\n", md(row->mechanism), human_size(row->size),
                           row->placement, to_string(row->wait), md(*row->limited));
        continue;
      }
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", md(row->mechanism),
                         human_size(row->size), row->placement, to_string(row->wait), cell(row->msgs_per_s, human_count),
                         cell(row->bytes_per_s, human_bytes_per_s), spread_md(*row), cpu_md(row->cpu_sender),
                         cpu_md(row->cpu_receiver), detail::verified_text(*row));
    }
    out += "\n";
  }
  if (!rt.empty()) {
    out += "#### Round trip (percentiles from every sample; n/a = too few samples)\n\n";
    out += "| mechanism | size | placement | wait | p50 | p90 | p99 | p99.9 | max | spread of p50 | CPU ns/rtt client "
           "| CPU ns/rtt server | verified |\n";
    out += "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const Row* row : rt) {
      if (row->limited) {
        out += fmt::format("| {} | {} | {} | {} | limited: {} | | | | | | | | |\n", md(row->mechanism),
                           human_size(row->size), row->placement, to_string(row->wait), md(*row->limited));
        continue;
      }
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", md(row->mechanism),
                         human_size(row->size), row->placement, to_string(row->wait), cell(row->p50, human_ns),
                         cell(row->p90, human_ns), cell(row->p99, human_ns), cell(row->p999, human_ns),
                         cell(row->max, human_ns), spread_md(*row), cpu_md(row->cpu_sender), cpu_md(row->cpu_receiver),
                         detail::verified_text(*row));
    }
    out += "\n";
  }
  const std::string summary = format_summary(r);
  if (!summary.empty()) {
    out += "#### Which to choose\n\n";
    // format_summary's lines start with "- " already: a Markdown list; skip its title line.
    out += md_summary_body(summary);
  }
  if (!r.not_available.empty()) {
    out += "#### Not available\n\n";
    for (const auto& n : r.not_available) out += fmt::format("- `{}`: {}\n", n.mechanism, md(n.reason));
    out += "\n";
  }
  return out;
}

}  // namespace ipckit::bench
