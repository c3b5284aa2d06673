// SPDX-License-Identifier: Apache-2.0
// The text table on stdout: throughput, the rows with several processes, round trips, notes.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/report.hpp"
#include "engine/report_detail.hpp"

namespace ipckit::bench {
namespace {

using detail::cell;
using detail::cpu_pair;
using detail::verified_text;

std::string group_key(const Row& r) { return r.mechanism + "|" + r.placement; }

double peak_bytes(const std::vector<Row>& rows, const std::string& key) {
  double best = 0;
  for (const auto& r : rows) {
    if (r.pattern == Pattern::kThroughput && group_key(r) == key && r.bytes_per_s) best = std::max(best, *r.bytes_per_s);
  }
  return best;
}

// "12.3%", "45.0%!" for a noisy row, "" with one repeat.
std::string spread_cell(const Row& r) { return detail::spread_text(r) + (is_noisy(r) ? "!" : ""); }

}  // namespace

std::string format_table(const Report& r) {
  std::string out;
  out += fmt::format("ipckit bench {} -- {}, {} CPUs, kernel {}, clocksource {}, pinned to CPUs {},{}\n",
                     r.ipckit_version, r.machine.model, r.machine.cpus, r.machine.kernel, r.machine.clocksource,
                     r.machine.pinned[0], r.machine.pinned[1]);
  out += fmt::format("build: {} ({}, {})\n", r.build.compiler, r.build.type, r.build.flags);
  if (r.quick) out += "quick run: short runs, indicative figures only (run without --quick for the full table)\n";

  // Throughput: mechanisms (with placement) ordered by their peak bytes/s, sizes ascending.
  std::vector<const Row*> tp;
  for (const auto& row : r.results) {
    if (row.pattern == Pattern::kThroughput) tp.push_back(&row);
  }
  if (!tp.empty()) {
    std::stable_sort(tp.begin(), tp.end(), [&](const Row* x, const Row* y) {
      const double px = peak_bytes(r.results, group_key(*x));
      const double py = peak_bytes(r.results, group_key(*y));
      if (px != py) return px > py;
      if (group_key(*x) != group_key(*y)) return group_key(*x) < group_key(*y);
      return x->size < y->size;
    });
    out += "\nTHROUGHPUT (one-way stream of verified frames; median of repeats, spread = (max-min)/median, "
           "! = noisy: spread above 20%)\n";
    out += fmt::format("{:<22} {:>7} {:<10} {:<9} {:>11} {:>12} {:>7} {:>15} {:>10} {:>4}  {:<28}\n", "mechanism", "size",
                       "placement", "wait", "msgs/s", "bytes/s", "spread", "cpu ns snd/rcv", "samples", "ok",
                       "tutorial's claim -> best/claim");
    std::string last;
    for (const Row* row : tp) {
      const bool first = group_key(*row) != last;
      last = group_key(*row);
      std::string claim;
      if (first) {
        const double c = tutorial_claim(row->mechanism);
        if (c > 0) {
          const auto peak = claim_peak(r, row->mechanism, row->placement);
          claim = peak ? fmt::format("{} -> {} at {}", human_bytes_per_s(c), human_ratio(peak->bytes_per_s / c),
                                     human_size(peak->size))
                       : fmt::format("{}: no size >= {} here", human_bytes_per_s(c), human_size(kClaimMinSize));
        }
      }
      if (row->limited) {
        out += fmt::format("{:<22} {:>7} {:<10} {:<9} limited: {}\n", row->mechanism, human_size(row->size),
                           row->placement, to_string(row->wait), *row->limited);
        continue;
      }
      out += fmt::format("{:<22} {:>7} {:<10} {:<9} {:>11} {:>12} {:>7} {:>15} {:>10} {:>4}  {}\n", row->mechanism,
                         human_size(row->size), row->placement, to_string(row->wait),
                         cell(row->msgs_per_s, human_count), cell(row->bytes_per_s, human_bytes_per_s),
                         spread_cell(*row), cpu_pair(*row), row->samples, verified_text(*row), claim);
    }
  }

  // Rows with several processes: what their msgs/s is, the senders' rate, and the deliveries.
  std::vector<const Row*> multi;
  for (const Row* row : tp) {
    if (!row->limited && (row->rate_of != "receiver" || row->procs.producers > 1)) multi.push_back(row);
  }
  if (!multi.empty()) {
    out += "\nSEVERAL PROCESSES (msgs/s above: per-subscriber = each subscriber's rate, every one receiving every "
           "frame;\n  all-consumers = the sum over the consumers, each frame going to one of them)\n";
    out += fmt::format("{:<22} {:>7} {:>5} {:>11} {:<15} {:>13} {:>13}\n", "mechanism", "size", "procs", "msgs/s",
                       "rate of", "sender msgs/s", "deliveries/s");
    for (const Row* row : multi) {
      std::optional<double> deliveries = row->msgs_per_s;
      if (deliveries && row->rate_of == "per-subscriber") *deliveries *= row->procs.consumers;
      out += fmt::format("{:<22} {:>7} {:>5} {:>11} {:<15} {:>13} {:>13}\n", row->mechanism, human_size(row->size),
                         fmt::format("{}x{}", row->procs.producers, row->procs.consumers),
                         cell(row->msgs_per_s, human_count), row->rate_of, cell(row->sender_msgs_per_s, human_count),
                         cell(deliveries, human_count));
    }
  }

  std::vector<const Row*> rt;
  for (const auto& row : r.results) {
    if (row.pattern == Pattern::kRtt) rt.push_back(&row);
  }
  if (!rt.empty()) {
    std::stable_sort(rt.begin(), rt.end(), [](const Row* x, const Row* y) {
      if (x->size != y->size) return x->size < y->size;
      const double px = x->p50.value_or(1e300);
      const double py = y->p50.value_or(1e300);
      return px < py;
    });
    out += "\nROUND TRIP (request + verified reply; percentiles from every sample, n/a = too few samples)\n";
    if (r.quick) {
      out += fmt::format("{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>7} {:>15} {:>9} {:>4}\n", "mechanism",
                         "size", "placement", "wait", "p50", "p99", "max", "spread", "cpu ns cli/srv", "samples", "ok");
    } else {
      out += fmt::format("{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7} {:>15} {:>9} {:>4}\n",
                         "mechanism", "size", "placement", "wait", "p50", "p90", "p99", "p99.9", "max", "spread",
                         "cpu ns cli/srv", "samples", "ok");
    }
    for (const Row* row : rt) {
      if (row->limited) {
        out += fmt::format("{:<22} {:>7} {:<10} {:<10} limited: {}\n", row->mechanism, human_size(row->size),
                           row->placement, to_string(row->wait), *row->limited);
        continue;
      }
      if (r.quick) {
        out += fmt::format("{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>7} {:>15} {:>9} {:>4}\n",
                           row->mechanism, human_size(row->size), row->placement, to_string(row->wait),
                           cell(row->p50, human_ns), cell(row->p99, human_ns), cell(row->max, human_ns),
                           spread_cell(*row), cpu_pair(*row), row->samples, verified_text(*row));
      } else {
        out += fmt::format(
            "{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7} {:>15} {:>9} {:>4}\n",
            row->mechanism, human_size(row->size), row->placement, to_string(row->wait), cell(row->p50, human_ns),
            cell(row->p90, human_ns), cell(row->p99, human_ns), cell(row->p999, human_ns), cell(row->max, human_ns),
            spread_cell(*row), cpu_pair(*row), row->samples, verified_text(*row));
      }
    }
  }

  std::vector<std::string> notes;
  for (const auto& row : r.results) {
    if (!row.note.empty() && !row.limited) {
      notes.push_back(fmt::format("  {} {} {} {}: {}", row.mechanism, to_string(row.pattern), human_size(row.size),
                                  row.placement, row.note));
    }
  }
  std::vector<std::string> zero_copy;
  for (const auto& row : r.results) {
    if (row.zero_copy && std::find(zero_copy.begin(), zero_copy.end(), row.mechanism) == zero_copy.end()) {
      zero_copy.push_back(row.mechanism);
    }
  }
  if (!zero_copy.empty()) {
    std::string names;
    for (const auto& n : zero_copy) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format("\nZero-copy (the receiver verifies the sender's bytes in place; their bytes/s is not a copy "
                       "bandwidth): {}\n", names);
  }
  if (!notes.empty()) {
    out += "\nNot verified:\n";
    for (const auto& n : notes) out += n + "\n";
  }
  if (!r.not_available.empty()) {
    out += "\nNot available:\n";
    for (const auto& n : r.not_available) out += fmt::format("  {}: {}\n", n.mechanism, n.reason);
  }
  return out;
}

}  // namespace ipckit::bench
