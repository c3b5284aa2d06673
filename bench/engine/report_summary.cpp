// SPDX-License-Identifier: Apache-2.0
// "Which to choose": the answers the figures give (headline()), as the text summary under the
// table and as the page's headline section. Every ratio names what it is relative to.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/report.hpp"
#include "engine/registry.hpp"
#include "engine/report_detail.hpp"

namespace ipckit::bench {
namespace {

using detail::is_baseline;

struct Finder {
  const Report& r;

  // The best verified row of `pat` at `size` that `pred` accepts: highest msgs/s or lowest p50.
  template <class Pred>
  const Row* best(Pattern pat, std::size_t size, Pred pred) const {
    const Row* b = nullptr;
    auto fig = [pat](const Row& x) { return pat == Pattern::kThroughput ? x.msgs_per_s : x.p50; };
    for (const auto& row : r.results) {
      if (row.pattern != pat || row.size != size || row.limited || !row.verified.value_or(false) || !pred(row)) continue;
      const auto v = fig(row);
      if (!v) continue;
      if (!b || (pat == Pattern::kThroughput ? *v > *fig(*b) : *v < *fig(*b))) b = &row;
    }
    return b;
  }
  const Row* find(std::string_view mech, Pattern pat, std::size_t size) const {
    for (const auto& row : r.results) {
      if (row.mechanism == mech && row.pattern == pat && row.size == size && row.placement == "cross-cpu" &&
          !row.limited) {
        return &row;
      }
    }
    return nullptr;
  }
};

bool blocking(const Row& row) { return row.wait == Wait::kBlocking && !is_baseline(row.mechanism); }
bool cross(const Row& row) { return row.placement != "same-cpu"; }

HeadlineItem item(std::string question, const Row& row, std::string figure, double value) {
  HeadlineItem h;
  h.question = std::move(question);
  h.mechanism = row.mechanism;
  h.pattern = row.pattern;
  h.size = row.size;
  h.placement = row.placement;
  h.figure = std::move(figure);
  h.value = value;
  return h;
}

}  // namespace

std::vector<HeadlineItem> headline(const Report& r) {
  std::vector<HeadlineItem> out;
  const Finder f{r};
  std::set<std::size_t> tp_sizes, rt_sizes;
  for (const auto& row : r.results) {
    // A mechanism of one fixed size (atomic-pingpong: 8 B, no payload) does not make a size a
    // question of its own: with it the smallest rtt size would be 8 B, where nothing else runs.
    const Mechanism* m = find_mechanism(row.mechanism);
    if (m && m->fixed_size(row.pattern)) continue;
    (row.pattern == Pattern::kThroughput ? tp_sizes : rt_sizes).insert(row.size);
  }
  auto kernel_cross = [](const Row& x) { return blocking(x) && cross(x); };

  if (!tp_sizes.empty()) {
    const std::size_t small = *tp_sizes.begin();
    const std::size_t large = *tp_sizes.rbegin();
    if (const Row* k = f.best(Pattern::kThroughput, small, kernel_cross)) {
      HeadlineItem h = item(fmt::format("Many small messages ({})", human_size(small)), *k, "msgs_per_s", *k->msgs_per_s);
      h.text = fmt::format("{} is the fastest blocking mechanism here ({} msgs/s", k->mechanism,
                           human_count(*k->msgs_per_s));
      if (const Row* p = f.find("pipe", Pattern::kThroughput, small); p && p->msgs_per_s && k->mechanism != "pipe") {
        h.text += fmt::format(", {} pipe's {} msgs/s", human_ratio(*k->msgs_per_s / *p->msgs_per_s),
                              human_count(*p->msgs_per_s));
      }
      h.text += ")";
      if (const Row* c = f.find("channel-spsc", Pattern::kThroughput, small); c && c->msgs_per_s) {
        h.text += fmt::format("; the ipckit channel (busy-poll) reaches {} msgs/s ({} {})", human_count(*c->msgs_per_s),
                              human_ratio(*c->msgs_per_s / *k->msgs_per_s), k->mechanism);
      }
      if (const Row* s = f.find("shm-handoff", Pattern::kThroughput, small); s && s->msgs_per_s) {
        h.text += fmt::format("; a shared-memory handoff reaches {} msgs/s ({} {}) by spinning a CPU",
                              human_count(*s->msgs_per_s), human_ratio(*s->msgs_per_s / *k->msgs_per_s), k->mechanism);
      }
      out.push_back(std::move(h));
    }
    if (large != small) {
      if (const Row* k = f.best(Pattern::kThroughput, large, kernel_cross); k && k->bytes_per_s) {
        HeadlineItem h = item(fmt::format("Bulk data ({} messages)", human_size(large)), *k, "bytes_per_s", *k->bytes_per_s);
        h.text = fmt::format("{} moves the most bytes ({})", k->mechanism, human_bytes_per_s(*k->bytes_per_s));
        if (const Row* m = f.best(Pattern::kThroughput, large, [](const Row& x) { return x.mechanism == "memcpy"; });
            m && m->bytes_per_s) {
          h.text += fmt::format("; a plain memcpy with the same verification reaches {} ({} {})",
                                human_bytes_per_s(*m->bytes_per_s), human_ratio(*m->bytes_per_s / *k->bytes_per_s),
                                k->mechanism);
        }
        out.push_back(std::move(h));
      }
    }
  }
  if (!rt_sizes.empty()) {
    const std::size_t small = *rt_sizes.begin();
    if (const Row* k = f.best(Pattern::kRtt, small, kernel_cross)) {
      HeadlineItem h = item(fmt::format("Request/reply ({})", human_size(small)), *k, "rtt_ns.p50", *k->p50);
      h.text = fmt::format("{} has the lowest blocking round trip (p50 {}, p99 {})", k->mechanism, human_ns(*k->p50),
                           k->p99 ? human_ns(*k->p99) : std::string("n/a"));
      if (const Row* s = f.best(Pattern::kRtt, small, [](const Row& x) { return blocking(x) && !cross(x); })) {
        h.text += fmt::format("; with both sides on one CPU {} takes {}", s->mechanism, human_ns(*s->p50));
      }
      out.push_back(std::move(h));
    }
    const Row* spin = f.find("shm-pingpong", Pattern::kRtt, small);
    const Row* atom = nullptr;
    for (const auto& row : r.results) {
      if (row.mechanism == "atomic-pingpong" && row.p50) atom = &row;
    }
    if (spin && spin->p50 && spin->verified.value_or(false)) {
      HeadlineItem h = item("Lowest latency at any CPU cost", *spin, "rtt_ns.p50", *spin->p50);
      h.text = fmt::format("busy-polling shared memory answers in {} (raw atomic ping-pong: {}); use it only with "
                           "a CPU to spare per side", human_ns(*spin->p50),
                           atom ? human_ns(*atom->p50) : std::string("n/a"));
      out.push_back(std::move(h));
    }
  }
  return out;
}

std::string format_summary(const Report& r) {
  std::vector<std::string> lines;
  for (const HeadlineItem& h : headline(r)) lines.push_back(fmt::format("- {}: {}.", h.question, h.text));

  // The tutorials quote bulk bandwidths: judged only against sizes of kClaimMinSize or more.
  std::vector<std::string> claims;
  bool any_claimed = false;
  std::size_t largest = 0;
  for (const auto& row : r.results) {
    if (row.pattern == Pattern::kThroughput) largest = std::max(largest, row.size);
  }
  for (std::string_view m : {"shm-sem", "unix-stream", "posix-mq", "pipe", "tcp"}) {
    const bool measured = std::any_of(r.results.begin(), r.results.end(), [&](const Row& x) {
      return x.mechanism == m && x.pattern == Pattern::kThroughput && x.bytes_per_s;
    });
    any_claimed = any_claimed || measured;
    if (const auto peak = claim_peak(r, m)) {
      claims.push_back(fmt::format("{} {} at {}", m, human_ratio(peak->bytes_per_s / tutorial_claim(m)),
                                   human_size(peak->size)));
    } else if (measured && largest >= kClaimMinSize) {
      claims.push_back(fmt::format("{}: no verified size >= {}", m, human_size(kClaimMinSize)));
    }
  }
  if (!claims.empty()) {
    std::string joined;
    for (const auto& c : claims) joined += (joined.empty() ? "" : ", ") + c;
    lines.push_back(fmt::format("- Against the tutorials' bulk figures (best bytes/s at {} or more / claimed): {}.",
                                human_size(kClaimMinSize), joined));
  } else if (any_claimed) {
    lines.push_back(fmt::format("- The tutorials' figures are bulk bandwidths; this run has no size of {} or more "
                                "(largest: {}) to judge them.",
                                human_size(kClaimMinSize), human_size(largest)));
  }
  for (const auto& row : r.results) {
    if (row.mechanism == "udp" && row.lost > 0) {
      lines.push_back(fmt::format("- udp dropped {} messages in the {} run: use it only where losing messages is fine.",
                                  row.lost, to_string(row.pattern)));
      break;
    }
  }
  const auto noisy = std::count_if(r.results.begin(), r.results.end(), [](const Row& x) { return is_noisy(x); });
  if (noisy > 0) {
    lines.push_back(fmt::format("- {} row{} noisy (spread above {:.0f}%, marked !): compare them with care, or rerun "
                                "with more --repeats.",
                                noisy, noisy == 1 ? " is" : "s are", kNoisySpread * 100));
  }
  if (!r.loaded.empty()) {
    std::string why;
    for (const auto& w : r.loaded) why += (why.empty() ? "" : "; ") + w;
    lines.push_back("- The machine looked loaded (" + why + "): figures may be low and noisy.");
  }
  if (lines.empty()) return {};
  std::string out = "\nWHICH TO CHOOSE (from the figures above)\n";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace ipckit::bench
