// SPDX-License-Identifier: Apache-2.0
#include "engine/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::bench {
namespace detail {
// third_party/chartjs/chart.umd.min.js, compiled in by bench/CMakeLists.txt (cmake/IpckitEmbedFile.cmake).
extern const unsigned char kChartJs[];
extern const std::size_t kChartJs_size;
}  // namespace detail

namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

bool is_baseline(std::string_view m) {
  return m == "memcpy" || m == "atomic-pingpong" || m == "shm-handoff" || m == "shm-pingpong";
}

std::string cell(const std::optional<double>& v, std::string (*fmt_fn)(double)) { return v ? fmt_fn(*v) : "n/a"; }

std::string verified_text(const Row& r) {
  if (!r.verified) return "-";
  return *r.verified ? "yes" : "NO";
}

std::string group_key(const Row& r) { return r.mechanism + "|" + r.placement; }

double peak_bytes(const std::vector<Row>& rows, const std::string& key) {
  double best = 0;
  for (const auto& r : rows) {
    if (r.pattern == Pattern::kThroughput && group_key(r) == key && r.bytes_per_s) best = std::max(best, *r.bytes_per_s);
  }
  return best;
}

std::string cpu_pair(const Row& r) {
  auto one = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("-"); };
  return one(r.cpu_sender) + "/" + one(r.cpu_receiver);
}

}  // namespace

double tutorial_claim(std::string_view m) noexcept {
  if (m == "shm-sem") return 1e9;
  if (m == "unix-stream") return 300e6;
  if (m == "posix-mq") return 200e6;
  if (m == "pipe") return 200e6;
  if (m == "tcp") return 100e6;
  return 0;
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

json to_json(const Report& r) {
  json j;
  j["schema_version"] = r.schema_version;
  j["ipckit_version"] = r.ipckit_version;
  j["command"] = r.command;
  j["build"] = {{"compiler", r.build.compiler}, {"flags", r.build.flags}, {"type", r.build.type}};
  j["machine"] = {{"cpus", r.machine.cpus},
                  {"model", r.machine.model},
                  {"kernel", r.machine.kernel},
                  {"clocksource", r.machine.clocksource},
                  {"pinned", {r.machine.pinned[0], r.machine.pinned[1]}}};
  json rows = json::array();
  for (const Row& row : r.results) {
    json x;
    x["mechanism"] = row.mechanism;
    x["pattern"] = std::string(to_string(row.pattern));
    x["size"] = row.size;
    x["placement"] = row.placement;
    x["wait"] = std::string(to_string(row.wait));
    x["procs"] = {{"producers", row.procs.producers}, {"consumers", row.procs.consumers}};
    x["samples"] = row.samples;
    x["msgs_per_s"] = opt(row.msgs_per_s);
    x["rate_of"] = row.rate_of;
    x["sender_msgs_per_s"] = opt(row.sender_msgs_per_s);
    x["bytes_per_s"] = opt(row.bytes_per_s);
    x["rtt_ns"] = {{"p50", opt(row.p50)}, {"p90", opt(row.p90)}, {"p99", opt(row.p99)},
                   {"p999", opt(row.p999)}, {"max", opt(row.max)}};
    x["cpu_ns_per_msg"] = {{"sender", opt(row.cpu_sender)}, {"receiver", opt(row.cpu_receiver)}};
    x["repeats"] = row.repeats;
    x["verified"] = row.verified ? json(*row.verified) : json(nullptr);
    x["limited"] = row.limited ? json(*row.limited) : json(nullptr);
    x["lost"] = row.lost;
    x["zero_copy"] = row.zero_copy;
    rows.push_back(std::move(x));
  }
  j["results"] = std::move(rows);
  json na = json::array();
  for (const auto& n : r.not_available) na.push_back({{"mechanism", n.mechanism}, {"reason", n.reason}});
  j["not_available"] = std::move(na);
  return j;
}

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
    out += "\nTHROUGHPUT (one-way stream of verified frames; median of repeats, spread = (max-min)/median)\n";
    out += fmt::format("{:<22} {:>7} {:<10} {:<9} {:>11} {:>12} {:>7} {:>15} {:>10} {:>4}  {:<28}\n", "mechanism", "size",
                       "placement", "wait", "msgs/s", "bytes/s", "spread", "cpu ns snd/rcv", "samples", "ok",
                       "tutorial's claim (peak)");
    std::string last;
    for (const Row* row : tp) {
      const bool first = group_key(*row) != last;
      last = group_key(*row);
      std::string claim;
      if (first) {
        const double c = tutorial_claim(row->mechanism);
        const double peak = peak_bytes(r.results, last);
        if (c > 0 && peak > 0) claim = fmt::format("{} -> {:.3g}x", human_bytes_per_s(c), peak / c);
      }
      if (row->limited) {
        out += fmt::format("{:<22} {:>7} {:<10} {:<9} limited: {}\n", row->mechanism, human_size(row->size),
                           row->placement, to_string(row->wait), *row->limited);
        continue;
      }
      out += fmt::format("{:<22} {:>7} {:<10} {:<9} {:>11} {:>12} {:>6.1f}% {:>15} {:>10} {:>4}  {}\n", row->mechanism,
                         human_size(row->size), row->placement, to_string(row->wait),
                         cell(row->msgs_per_s, human_count), cell(row->bytes_per_s, human_bytes_per_s),
                         row->spread * 100, cpu_pair(*row), row->samples, verified_text(*row), claim);
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
        out += fmt::format("{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>6.1f}% {:>15} {:>9} {:>4}\n",
                           row->mechanism, human_size(row->size), row->placement, to_string(row->wait),
                           cell(row->p50, human_ns), cell(row->p99, human_ns), cell(row->max, human_ns),
                           row->spread * 100, cpu_pair(*row), row->samples, verified_text(*row));
      } else {
        out += fmt::format(
            "{:<22} {:>7} {:<10} {:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>6.1f}% {:>15} {:>9} {:>4}\n",
            row->mechanism, human_size(row->size), row->placement, to_string(row->wait), cell(row->p50, human_ns),
            cell(row->p90, human_ns), cell(row->p99, human_ns), cell(row->p999, human_ns), cell(row->max, human_ns),
            row->spread * 100, cpu_pair(*row), row->samples, verified_text(*row));
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

std::string format_summary(const Report& r) {
  std::vector<std::string> lines;
  auto best = [&](Pattern pat, std::size_t size, auto pred, bool higher) -> const Row* {
    const Row* b = nullptr;
    for (const auto& row : r.results) {
      if (row.pattern != pat || row.size != size || row.limited || !row.verified.value_or(false) || !pred(row)) continue;
      const auto v = pat == Pattern::kThroughput ? row.msgs_per_s : row.p50;
      if (!v) continue;
      const auto bv = b ? (pat == Pattern::kThroughput ? b->msgs_per_s : b->p50) : std::nullopt;
      if (!b || (higher ? *v > *bv : *v < *bv)) b = &row;
    }
    return b;
  };
  auto find = [&](std::string_view mech, Pattern pat, std::size_t size) -> const Row* {
    for (const auto& row : r.results) {
      if (row.mechanism == mech && row.pattern == pat && row.size == size && row.placement == "cross-cpu" &&
          !row.limited) {
        return &row;
      }
    }
    return nullptr;
  };
  std::set<std::size_t> tp_sizes, rt_sizes;
  for (const auto& row : r.results) (row.pattern == Pattern::kThroughput ? tp_sizes : rt_sizes).insert(row.size);
  auto kernel = [](const Row& row) { return row.wait == Wait::kBlocking && !is_baseline(row.mechanism); };
  auto cross = [](const Row& row) { return row.placement != "same-cpu"; };

  if (!tp_sizes.empty()) {
    const std::size_t small = *tp_sizes.begin();
    const std::size_t large = *tp_sizes.rbegin();
    if (const Row* k = best(Pattern::kThroughput, small, [&](const Row& x) { return kernel(x) && cross(x); }, true)) {
      std::string line = fmt::format("- Many small messages ({}): {} is the fastest blocking mechanism here ({} msgs/s)",
                                     human_size(small), k->mechanism, human_count(*k->msgs_per_s));
      if (const Row* p = find("pipe", Pattern::kThroughput, small); p && p->msgs_per_s && k->mechanism != "pipe") {
        line += fmt::format(", {:.2f}x pipe", *k->msgs_per_s / *p->msgs_per_s);
      }
      if (const Row* c = find("channel-spsc", Pattern::kThroughput, small); c && c->msgs_per_s) {
        line += fmt::format("; the ipckit channel (busy-poll) reaches {} msgs/s ({:.1f}x)", human_count(*c->msgs_per_s),
                            *c->msgs_per_s / *k->msgs_per_s);
      }
      if (const Row* h = find("shm-handoff", Pattern::kThroughput, small); h && h->msgs_per_s) {
        line += fmt::format("; a shared-memory handoff reaches {} msgs/s ({:.1f}x) by spinning a CPU",
                            human_count(*h->msgs_per_s), *h->msgs_per_s / *k->msgs_per_s);
      }
      lines.push_back(line + ".");
    }
    if (large != small) {
      if (const Row* k = best(Pattern::kThroughput, large, [&](const Row& x) { return kernel(x) && cross(x); }, true)) {
        std::string line = fmt::format("- Bulk data ({} messages): {} moves the most bytes ({})", human_size(large),
                                       k->mechanism, human_bytes_per_s(*k->bytes_per_s));
        if (const Row* m = best(Pattern::kThroughput, large, [](const Row& x) { return x.mechanism == "memcpy"; }, true)) {
          line += fmt::format("; a plain memcpy with the same verification reaches {}", human_bytes_per_s(*m->bytes_per_s));
        }
        lines.push_back(line + ".");
      }
    }
  }
  if (!rt_sizes.empty()) {
    const std::size_t small = *rt_sizes.begin();
    if (const Row* k = best(Pattern::kRtt, small, [&](const Row& x) { return kernel(x) && cross(x); }, false)) {
      std::string line = fmt::format("- Request/reply ({}): {} has the lowest blocking round trip (p50 {}, p99 {})",
                                     human_size(small), k->mechanism, human_ns(*k->p50),
                                     k->p99 ? human_ns(*k->p99) : std::string("n/a"));
      if (const Row* s = best(Pattern::kRtt, small, [&](const Row& x) { return kernel(x) && !cross(x); }, false)) {
        line += fmt::format("; with both sides on one CPU {} takes {}", s->mechanism, human_ns(*s->p50));
      }
      lines.push_back(line + ".");
    }
    const Row* spin = find("shm-pingpong", Pattern::kRtt, small);
    const Row* atom = nullptr;
    for (const auto& row : r.results) {
      if (row.mechanism == "atomic-pingpong" && row.p50) atom = &row;
    }
    if (spin && spin->p50) {
      lines.push_back(fmt::format(
          "- Lowest latency at any CPU cost: busy-polling shared memory answers in {} (raw atomic ping-pong: {}); "
          "use it only with a CPU to spare per side.",
          human_ns(*spin->p50), atom ? human_ns(*atom->p50) : std::string("n/a")));
    }
  }
  std::vector<std::string> claims;
  for (std::string_view m : {"shm-sem", "unix-stream", "posix-mq", "pipe", "tcp"}) {
    const double peak = peak_bytes(r.results, std::string(m) + "|cross-cpu");
    if (peak > 0) claims.push_back(fmt::format("{} {:.3g}x", m, peak / tutorial_claim(m)));
  }
  if (!claims.empty()) {
    std::string joined;
    for (const auto& c : claims) joined += (joined.empty() ? "" : ", ") + c;
    lines.push_back("- Against the tutorials' table (measured peak / claimed): " + joined + ".");
  }
  for (const auto& row : r.results) {
    if (row.mechanism == "udp" && row.lost > 0) {
      lines.push_back(fmt::format("- udp dropped {} messages in the {} run: use it only where losing messages is fine.",
                                  row.lost, to_string(row.pattern)));
      break;
    }
  }
  if (lines.empty()) return {};
  std::string out = "\nWHICH TO CHOOSE (from the figures above)\n";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string to_csv(const Report& r) {
  std::string out =
      "mechanism,pattern,size,placement,wait,producers,consumers,samples,msgs_per_s,bytes_per_s,p50_ns,p90_ns,"
      "p99_ns,p999_ns,max_ns,cpu_ns_sender,cpu_ns_receiver,repeats,spread,verified,limited,lost,zero_copy,"
      "rate_of,sender_msgs_per_s\n";
  auto num = [](const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : std::string(); };
  for (const auto& row : r.results) {
    std::string limited = row.limited.value_or("");
    std::replace(limited.begin(), limited.end(), '"', '\'');
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{},\"{}\",{},{},{},{}\n",
                       row.mechanism, to_string(row.pattern), row.size, row.placement, to_string(row.wait),
                       row.procs.producers, row.procs.consumers, row.samples, num(row.msgs_per_s),
                       num(row.bytes_per_s), num(row.p50), num(row.p90), num(row.p99), num(row.p999), num(row.max),
                       num(row.cpu_sender),
                       num(row.cpu_receiver), row.repeats, row.spread,
                       row.verified ? (*row.verified ? "true" : "false") : "", limited, row.lost,
                       row.zero_copy ? "true" : "false", row.rate_of, num(row.sender_msgs_per_s));
  }
  return out;
}

Result<std::string> chart_js() {
  if (const char* env = std::getenv("IPCKIT_CHART_JS"); env && *env) return read_text_file(env);
  return std::string(detail::kChartJs, detail::kChartJs + detail::kChartJs_size);
}

Result<std::string> read_text_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_errno().fail("open", ipckit::quoted(path));
  UniqueFd owner(fd);
  return read_all(fd, ipckit::quoted(path));
}

Result<void> write_text_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return last_errno().fail("open", ipckit::quoted(path));
  UniqueFd owner(fd);
  auto w = write_full(fd, as_bytes(text), nullptr, ipckit::quoted(path));
  if (!w) return fail(w.error());
  return owner.close();
}

Result<nlohmann::json> load_report(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return fail(text.error());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail_library(LibraryCode::kInvalidArgument, "--compare", ipckit::quoted(path), "not valid JSON");
  if (!j.is_object() || j.value("schema_version", 0) != 1 || !j.contains("results") || !j["results"].is_array()) {
    return fail_library(LibraryCode::kInvalidArgument, "--compare", ipckit::quoted(path),
                        "not an ipckit bench report (schema_version 1 with results)");
  }
  return j;
}

Result<std::string> compare_reports(const json& a, const json& b) {
  auto key = [](const json& row) {
    return fmt::format("{} {} {} {}", row.value("mechanism", "?"), row.value("pattern", "?"),
                       human_size(row.value("size", std::size_t{0})), row.value("placement", "?"));
  };
  std::map<std::string, const json*> in_b;
  for (const auto& row : b["results"]) in_b[key(row)] = &row;
  std::string out = fmt::format("{:<44} {:<22} {:>14} {:>14} {:>8}\n", "row", "figure", "A", "B", "B/A");
  std::set<std::string> seen;
  auto fig = [](const json& v) -> std::optional<double> {
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
  };
  for (const auto& row : a["results"]) {
    const std::string k = key(row);
    seen.insert(k);
    auto it = in_b.find(k);
    if (it == in_b.end()) {
      out += fmt::format("{:<44} only in A\n", k);
      continue;
    }
    const json& other = *it->second;
    std::vector<std::pair<std::string, std::pair<std::optional<double>, std::optional<double>>>> figures = {
        {"msgs_per_s", {fig(row.value("msgs_per_s", json())), fig(other.value("msgs_per_s", json()))}},
        {"bytes_per_s", {fig(row.value("bytes_per_s", json())), fig(other.value("bytes_per_s", json()))}},
        {"sender_msgs_per_s",
         {fig(row.value("sender_msgs_per_s", json())), fig(other.value("sender_msgs_per_s", json()))}},
    };
    for (const char* q : {"p50", "p90", "p99", "p999", "max"}) {
      figures.push_back({std::string("rtt_ns.") + q,
                         {fig(row.value("rtt_ns", json::object()).value(q, json())),
                          fig(other.value("rtt_ns", json::object()).value(q, json()))}});
    }
    for (const char* s : {"sender", "receiver"}) {
      figures.push_back({std::string("cpu_ns_per_msg.") + s,
                         {fig(row.value("cpu_ns_per_msg", json::object()).value(s, json())),
                          fig(other.value("cpu_ns_per_msg", json::object()).value(s, json()))}});
    }
    for (const auto& [name, ab] : figures) {
      if (!ab.first && !ab.second) continue;
      const std::string ra = ab.first ? fmt::format("{:.6g}", *ab.first) : "null";
      const std::string rb = ab.second ? fmt::format("{:.6g}", *ab.second) : "null";
      const std::string ratio =
          ab.first && ab.second && *ab.first != 0 ? fmt::format("{:.3f}", *ab.second / *ab.first) : "n/a";
      out += fmt::format("{:<44} {:<22} {:>14} {:>14} {:>8}\n", k, name, ra, rb, ratio);
    }
  }
  for (const auto& row : b["results"]) {
    if (!seen.count(key(row))) out += fmt::format("{:<44} only in B\n", key(row));
  }
  return out;
}

}  // namespace ipckit::bench
