// SPDX-License-Identifier: Apache-2.0
// --compare A.json B.json: one table per figure (A, B with units, B/A, a verdict), the verdict
// decided from both runs' per-repeat values, never from the medians alone.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

using nlohmann::json;

std::optional<double> number(const json& row, const char* key, const char* sub) {
  const json* v = &row;
  for (const char* k : {key, sub}) {
    if (k == nullptr) break;
    if (!v->is_object() || !v->contains(k)) return std::nullopt;
    v = &(*v)[k];
  }
  return v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
}

std::vector<double> repeats_of(const json& row, const char* key, double scale) {
  std::vector<double> out;
  if (!row.contains("per_repeat") || !row["per_repeat"].is_object()) return out;
  const json& pr = row["per_repeat"];
  if (!pr.contains(key) || !pr[key].is_array()) return out;
  for (const json& v : pr[key]) {
    if (v.is_number()) out.push_back(v.get<double>() * scale);
  }
  return out;
}

std::string msgs(double v) { return human_count(v) + " msgs/s"; }

struct Figure {
  const char* title;
  const char* pattern;  // the rows it applies to (nullptr: every row)
  const char* scope;    // what the table says about the rows
  const char* key;
  const char* sub;  // the field under `key`, or nullptr
  const char* per_repeat;  // key under per_repeat, or nullptr
  bool scale_by_size;      // bytes/s from per-repeat msgs/s
  bool higher_is_better;
  std::string (*format)(double);
};

const Figure kFigures[] = {
    {"msgs/s", "throughput", "throughput", "msgs_per_s", nullptr, "msgs_per_s", false, true, msgs},
    {"bytes/s", "throughput", "throughput", "bytes_per_s", nullptr, "msgs_per_s", true, true, human_bytes_per_s},
    {"round trip p50", "rtt", "rtt", "rtt_ns", "p50", "rtt_p50_ns", false, false, human_ns},
    {"round trip p99", "rtt", "rtt", "rtt_ns", "p99", "rtt_p99_ns", false, false, human_ns},
    {"round trip p99.9", "rtt", "rtt", "rtt_ns", "p999", nullptr, false, false, human_ns},
    {"CPU per message, sender", nullptr, "every row; rtt: the client, per round trip", "cpu_ns_per_msg", "sender",
     "cpu_ns_per_msg_sender", false, false, human_ns},
    {"CPU per message, receiver", nullptr, "every row; rtt: the server, per round trip",
     "cpu_ns_per_msg", "receiver", "cpu_ns_per_msg_receiver", false, false, human_ns},
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string row_name(const json& row) {
  return fmt::format("{} {} {}", row.value("mechanism", "?"), human_size(row.value("size", std::size_t{0})),
                     row.value("placement", "?"));
}

std::string key_of(const json& row) { return row.value("pattern", "?") + std::string(" ") + row_name(row); }

std::string verdict_text(Verdict v) {
  switch (v) {
    case Verdict::kFaster: return "faster";
    case Verdict::kSlower: return "slower";
    case Verdict::kWithinNoise: return "within noise";
    case Verdict::kNone: break;
  }
  return "no verdict";
}

std::string run_line(const char* name, const json& j) {
  std::string s = fmt::format("{}: schema {}", name, j.value("schema_version", 0));
  for (const char* k : {"date", "hostname", "git_revision", "command"}) {
    if (j.contains(k) && j[k].is_string() && !j[k].get<std::string>().empty()) s += ", " + j[k].get<std::string>();
  }
  return s + "\n";
}

}  // namespace

double mann_whitney_p(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  if (n1 == 0 || n2 == 0) return 1;
  std::vector<std::pair<double, int>> all;
  for (double v : x) all.push_back({v, 0});
  for (double v : y) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  double rank_sum_x = 0, ties = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // mean of ranks i+1..j
    const double t = static_cast<double>(j - i);
    ties += t * t * t - t;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].second == 0) rank_sum_x += rank;
    }
    i = j;
  }
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2), dn = static_cast<double>(n);
  const double u = rank_sum_x - dn1 * (dn1 + 1) / 2;
  const double mean = dn1 * dn2 / 2;
  const double var = dn1 * dn2 / 12 * ((dn + 1) - ties / (dn * (dn - 1)));
  if (!(var > 0)) return 1;
  const double z = std::max(0.0, std::fabs(u - mean) - 0.5) / std::sqrt(var);
  return std::erfc(z / std::sqrt(2.0));
}

Judgement judge(const std::vector<double>& a, const std::vector<double>& b, bool higher_is_better) {
  Judgement j;
  if (a.empty() || b.empty()) {
    j.how = "no per-repeat values";
    return j;
  }
  const double ma = median_of(a), mb = median_of(b);
  j.change = ma != 0 ? mb / ma : 0;
  const bool b_better = higher_is_better ? mb > ma : mb < ma;
  if (static_cast<int>(a.size()) >= kMinRepeatsForUTest && static_cast<int>(b.size()) >= kMinRepeatsForUTest) {
    const double p = mann_whitney_p(a, b);
    j.how = fmt::format("U test, p={:.2g}", p);
    j.verdict = p < kCompareAlpha ? (b_better ? Verdict::kFaster : Verdict::kSlower) : Verdict::kWithinNoise;
    return j;
  }
  const auto [alo, ahi] = std::minmax_element(a.begin(), a.end());
  const auto [blo, bhi] = std::minmax_element(b.begin(), b.end());
  const bool overlap = !(*bhi < *alo || *ahi < *blo);
  const double change = ma != 0 ? std::fabs(mb / ma - 1) : 0;
  if (overlap) {
    j.how = fmt::format("spread rule, {}+{} repeats: ranges overlap", a.size(), b.size());
    j.verdict = Verdict::kWithinNoise;
  } else if (change <= kSpreadRuleMinChange) {
    j.how = fmt::format("spread rule, {}+{} repeats: {:.1f}% apart", a.size(), b.size(), change * 100);
    j.verdict = Verdict::kWithinNoise;
  } else {
    j.how = fmt::format("spread rule, {}+{} repeats: ranges apart", a.size(), b.size());
    j.verdict = b_better ? Verdict::kFaster : Verdict::kSlower;
  }
  return j;
}

Comparison compare_reports(const json& a, const json& b, std::optional<double> fail_if_slower_pct) {
  Comparison c;
  std::string& out = c.text;
  out += run_line("A", a);
  out += run_line("B", b);
  out += fmt::format(
      "Verdicts from the per-repeat values of both runs: a two-sided Mann-Whitney U test (p < {}) where both have "
      "at least {} repeats; with fewer, the spread rule: within noise when the ranges of the repeats overlap or the "
      "medians differ by {:.0f}% or less, else faster/slower. No verdict without per-repeat values (schema 1, "
      "p99.9).\n",
      kCompareAlpha, kMinRepeatsForUTest, kSpreadRuleMinChange * 100);

  std::map<std::string, const json*> in_b;
  for (const auto& row : b["results"]) in_b[key_of(row)] = &row;
  std::vector<std::pair<const json*, const json*>> pairs;
  std::vector<std::string> only_a, only_b;
  std::set<std::string> seen;
  for (const auto& row : a["results"]) {
    seen.insert(key_of(row));
    auto it = in_b.find(key_of(row));
    if (it == in_b.end()) {
      only_a.push_back(key_of(row));
    } else {
      pairs.push_back({&row, it->second});
    }
  }
  for (const auto& row : b["results"]) {
    if (!seen.count(key_of(row))) only_b.push_back(key_of(row));
  }

  int counts[4] = {0, 0, 0, 0};
  for (const Figure& f : kFigures) {
    std::string table;
    for (const auto& [ra, rb] : pairs) {
      if (f.pattern && ra->value("pattern", "") != f.pattern) continue;
      const auto va = number(*ra, f.key, f.sub);
      const auto vb = number(*rb, f.key, f.sub);
      if (!va && !vb) continue;
      const double size = static_cast<double>(ra->value("size", std::size_t{0}));
      const std::string ratio = va && vb && *va != 0 ? fmt::format("{:.3f}", *vb / *va) : "n/a";
      Judgement jd;
      if (f.per_repeat) {
        jd = judge(repeats_of(*ra, f.per_repeat, f.scale_by_size ? size : 1),
                   repeats_of(*rb, f.per_repeat, f.scale_by_size ? size : 1), f.higher_is_better);
      } else {
        jd.how = "no per-repeat values";
      }
      if (!va || !vb) {
        jd = Judgement{Verdict::kNone, "measured in one run only"};
      }
      ++counts[static_cast<int>(jd.verdict)];
      std::string verdict = verdict_text(jd.verdict);
      // How much: the change of the repeats' medians, which the verdict judged (for msgs/s the
      // same as B/A; a percentile of the merged histogram may move differently from its repeats').
      if (jd.verdict == Verdict::kSlower && jd.change > 0) {
        const double pct = f.higher_is_better ? (1 - jd.change) * 100 : (jd.change - 1) * 100;
        verdict += fmt::format(" by {:.0f}%", pct);
        if (!fail_if_slower_pct || pct > *fail_if_slower_pct) {
          c.slower.push_back(fmt::format("{} {}: {:.0f}% slower", key_of(*ra), f.title, pct));
        }
      } else if (jd.verdict == Verdict::kFaster && jd.change > 0) {
        const double pct = f.higher_is_better ? (jd.change - 1) * 100 : (1 - jd.change) * 100;
        verdict += fmt::format(" by {:.0f}%", pct);
      }
      table += fmt::format("  {:<40} {:>16} {:>16} {:>7}  {} ({})\n", f.pattern ? row_name(*ra) : key_of(*ra),
                           va ? f.format(*va) : "n/a",
                           vb ? f.format(*vb) : "n/a", ratio, verdict, jd.how);
    }
    if (table.empty()) continue;
    out += fmt::format("\n{} ({}; {} is better)\n", f.title, f.scope, f.higher_is_better ? "higher" : "lower");
    out += fmt::format("  {:<40} {:>16} {:>16} {:>7}  {}\n", "row", "A", "B", "B/A", "verdict");
    out += table;
  }
  if (!only_a.empty() || !only_b.empty()) {
    out += "\n";
    for (const auto& k : only_a) out += fmt::format("only in A: {}\n", k);
    for (const auto& k : only_b) out += fmt::format("only in B: {}\n", k);
  }
  out += fmt::format("\n{} faster, {} slower, {} within noise, {} without a verdict.\n",
                     counts[static_cast<int>(Verdict::kFaster)], counts[static_cast<int>(Verdict::kSlower)],
                     counts[static_cast<int>(Verdict::kWithinNoise)], counts[static_cast<int>(Verdict::kNone)]);
  return c;
}

}  // namespace ipckit::bench
