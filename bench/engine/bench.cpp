// SPDX-License-Identifier: Apache-2.0
#include "engine/bench.hpp"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "engine/runner.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/version.hpp"

#ifndef IPCKIT_BUILD_TYPE
#define IPCKIT_BUILD_TYPE "unknown"
#endif
#ifndef IPCKIT_BUILD_FLAGS
#define IPCKIT_BUILD_FLAGS "unknown"
#endif

namespace ipckit::bench {
namespace {

Unexpected bad_option(std::string_view option, std::string_view value, std::string detail) {
  return fail_library(LibraryCode::kInvalidArgument, std::string(option), ipckit::quoted(value), std::move(detail));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = s.find(',');
    out.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string cpu_list(const std::vector<int>& cpus) {
  std::string s;
  for (int c : cpus) s += (s.empty() ? "" : ",") + std::to_string(c);
  return s;
}

std::string read_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || line.empty()) return std::nullopt;
  return line;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return std::string(trim(line.substr(colon + 1)));
    }
  }
  return "unknown";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<double> spread_of(const std::vector<double>& v) {
  if (v.size() < 2) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  const double m = median(v);
  return m > 0 ? (*hi - *lo) / m : 0;
}

std::optional<double> positive(double v) { return v > 0 ? std::optional<double>(v) : std::nullopt; }

std::optional<double> per_msg(std::uint64_t cpu, std::uint64_t msgs) {
  return msgs > 0 ? std::optional<double>(static_cast<double>(cpu) / static_cast<double>(msgs)) : std::nullopt;
}

struct Plan {
  const Mechanism* mechanism;
  Pattern pattern;
  std::size_t size;
  std::string placement;
  int cpu_a, cpu_b;
  std::optional<std::string> limited;
  std::vector<RunOutcome> outcomes;  // one per repeat
  std::vector<std::string> failures;
};

// Frames per second of one process over its measured window (0 when it has none).
double side_rate(const SideStats& s) {
  return s.elapsed_ns > 0 && s.msgs > 0 ? static_cast<double>(s.msgs) * 1e9 / static_cast<double>(s.elapsed_ns) : 0;
}

Row aggregate(const Plan& p) {
  Row row;
  row.mechanism = std::string(p.mechanism->name());
  row.pattern = p.pattern;
  row.size = p.size;
  row.placement = p.placement;
  row.wait = p.mechanism->wait();
  row.procs = p.mechanism->procs();
  row.zero_copy = p.mechanism->zero_copy();
  const Delivery delivery = p.mechanism->delivery();
  row.rate_of = p.pattern == Pattern::kRtt    ? "round-trips"
                : delivery == Delivery::kEach ? "per-subscriber"
                : row.procs.consumers > 1     ? "all-consumers"
                                              : "receiver";
  if (p.limited) {
    row.limited = p.limited;
    return row;
  }
  const bool two = row.procs.consumers > 0;
  std::vector<double> rates;
  std::vector<double> sender_rates;
  std::vector<double> p50s;
  Histogram merged;
  std::uint64_t cpu_s = 0, msgs_s = 0, cpu_r = 0, msgs_r = 0;
  bool verified = p.failures.empty();
  std::string note = p.failures.empty() ? "" : p.failures.front();
  auto unverified = [&](const std::string& why) {
    verified = false;
    if (note.empty()) note = why;
  };
  for (const RunOutcome& o : p.outcomes) {
    double sender_rate = 0;
    for (const SideStats& s : o.senders) sender_rate += side_rate(s);
    // The rate of the receiving side: its one receiver, or over several consumers the sum (each
    // frame goes to one of them) or the mean (each receives every frame). Single-process mechanisms
    // and rtt clients: the sender.
    double rate = sender_rate;
    if (p.pattern == Pattern::kThroughput && two) {
      rate = 0;
      for (const SideStats& r : o.receivers) rate += side_rate(r);
      if (delivery == Delivery::kEach && !o.receivers.empty()) rate /= static_cast<double>(o.receivers.size());
    }
    if (rate > 0) rates.push_back(rate);
    if (p.pattern == Pattern::kThroughput && sender_rate > 0) sender_rates.push_back(sender_rate);
    row.per_repeat.msgs_per_s.push_back(positive(rate));
    std::uint64_t rep_cpu_s = 0, rep_msgs_s = 0, rep_cpu_r = 0, rep_msgs_r = 0;
    for (const SideStats& s : o.senders) {
      rep_cpu_s += s.cpu_ns;
      rep_msgs_s += s.msgs;
      row.lost += s.lost;
      if (!s.verified) unverified(s.error);
    }
    for (const SideStats& r : o.receivers) {
      rep_cpu_r += r.cpu_ns;
      rep_msgs_r += r.msgs;
      if (!r.verified) unverified(r.error);
    }
    cpu_s += rep_cpu_s;
    msgs_s += rep_msgs_s;
    cpu_r += rep_cpu_r;
    msgs_r += rep_msgs_r;
    row.per_repeat.cpu_sender.push_back(per_msg(rep_cpu_s, rep_msgs_s));
    row.per_repeat.cpu_receiver.push_back(two ? per_msg(rep_cpu_r, rep_msgs_r) : std::nullopt);
    if (p.pattern == Pattern::kRtt) {
      row.per_repeat.p50.push_back(o.histogram.reported_percentile(0.5));
      row.per_repeat.p99.push_back(o.histogram.reported_percentile(0.99));
    } else {
      row.per_repeat.p50.push_back(std::nullopt);
      row.per_repeat.p99.push_back(std::nullopt);
    }
    if (p.pattern == Pattern::kThroughput && two) {
      std::string problem;
      row.lost += check_delivery(o, delivery, problem);
      if (!problem.empty()) unverified(problem);
    }
    if (p.pattern == Pattern::kThroughput) {
      for (const SideStats& r : two ? o.receivers : o.senders) row.samples += r.msgs;
    } else {
      merged.merge(o.histogram);
      // Spread over the repeats whose p50 is meaningful (a repeat descheduled into a handful of
      // samples would dominate it); the percentiles themselves come from every sample.
      if (auto q = o.histogram.reported_percentile(0.5)) p50s.push_back(*q);
    }
  }
  if (row.lost > 0) unverified(fmt::format("{} messages lost", row.lost));
  row.repeats = static_cast<int>(p.outcomes.size());
  row.verified = verified;
  if (p.outcomes.empty() && !p.failures.empty()) row.limited = "failed: " + p.failures.front();
  row.note = note;
  if (!rates.empty()) {
    row.msgs_per_s = median(rates);
    if (p.pattern == Pattern::kThroughput) {
      row.bytes_per_s = *row.msgs_per_s * static_cast<double>(p.size);
      row.spread = spread_of(rates);
    }
  }
  if (!sender_rates.empty()) row.sender_msgs_per_s = median(sender_rates);
  if (msgs_s > 0) row.cpu_sender = static_cast<double>(cpu_s) / static_cast<double>(msgs_s);
  if (two && msgs_r > 0) row.cpu_receiver = static_cast<double>(cpu_r) / static_cast<double>(msgs_r);
  if (p.pattern == Pattern::kRtt) {
    row.samples = merged.count();
    row.p50 = merged.reported_percentile(0.5);
    row.p90 = merged.reported_percentile(0.9);
    row.p99 = merged.reported_percentile(0.99);
    row.p999 = merged.reported_percentile(0.999);
    if (merged.count() > 0) row.max = static_cast<double>(merged.max());
    row.spread = spread_of(p50s);
  }
  return row;
}

}  // namespace

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
    }
  }
  return cpus;
}

Result<std::vector<std::size_t>> parse_sizes(std::string_view text) {
  std::vector<std::size_t> sizes;
  if (trim(text).empty()) return bad_option("--sizes", text, "no size given; expected e.g. --sizes 64,4KiB,1MiB");
  for (auto part : split(text)) {
    auto s = ipckit::parse_size(part, "--sizes", {kMinMessage, kMaxMessage});
    if (!s && s.error().hint().find("out of range") != std::string::npos) {
      return bad_option("--sizes", part,
                        fmt::format("{} (a frame carries a {}-byte verified header)", s.error().hint(), kMinMessage));
    }
    if (!s) return fail(s.error());
    if (std::find(sizes.begin(), sizes.end(), *s) == sizes.end()) sizes.push_back(*s);
  }
  std::sort(sizes.begin(), sizes.end());
  return sizes;
}

// Levenshtein distance, for "did you mean" (names are short: O(n*m) is nothing).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The known name closest to `name` (a misspelling or a prefix), or "" when none is close.
std::string closest_mechanism(std::string_view name) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const Mechanism* m : all_mechanisms()) {
    const std::string_view known = m->name();
    std::size_t d = edit_distance(name, known);
    if (known.substr(0, name.size()) == name && name.size() >= 3) d = std::min<std::size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = std::string(known);
    }
  }
  return best;
}

Result<std::vector<std::string>> parse_mechanisms(std::string_view text) {
  std::vector<std::string> names;
  if (trim(text).empty()) {
    return bad_option("--mechanisms", text, "no mechanism named; expected names from --list, e.g. --mechanisms pipe,unix-stream");
  }
  for (auto part : split(text)) {
    if (part.empty()) return bad_option("--mechanisms", text, "an empty name between commas");
    if (find_mechanism(part) == nullptr) {
      const std::string guess = closest_mechanism(part);
      std::string known;
      for (const Mechanism* m : all_mechanisms()) known += (known.empty() ? "" : ", ") + std::string(m->name());
      if (!guess.empty()) {
        return bad_option("--mechanisms", part, fmt::format("unknown mechanism; did you mean {}? known: {}", guess, known));
      }
      return bad_option("--mechanisms", part, "unknown mechanism; known: " + known);
    }
    if (std::find(names.begin(), names.end(), part) == names.end()) names.emplace_back(part);
  }
  return names;
}

Result<std::pair<int, int>> parse_pin(std::string_view text) {
  const auto parts = split(text);
  int cpu[2] = {-1, -1};
  if (parts.size() != 2) return bad_option("--pin", text, "expected two CPUs: --pin A,B");
  for (int i = 0; i < 2; ++i) {
    const auto [ptr, ec] = std::from_chars(parts[static_cast<std::size_t>(i)].data(),
                                           parts[static_cast<std::size_t>(i)].data() + parts[static_cast<std::size_t>(i)].size(), cpu[i]);
    if (ec != std::errc() || ptr != parts[static_cast<std::size_t>(i)].data() + parts[static_cast<std::size_t>(i)].size() || cpu[i] < 0) {
      return bad_option("--pin", text, "expected two CPU numbers: --pin A,B");
    }
  }
  if (cpu[0] == cpu[1]) return bad_option("--pin", text, "the two CPUs must differ (same-CPU rows: --same-cpu)");
  const auto allowed = allowed_cpus();
  for (int c : cpu) {
    if (std::find(allowed.begin(), allowed.end(), c) == allowed.end()) {
      return bad_option("--pin", text, fmt::format("CPU {} is not available to this process (allowed: {})", c, cpu_list(allowed)));
    }
  }
  return std::pair{cpu[0], cpu[1]};
}

Result<double> parse_duration(std::string_view text) {
  auto d = ipckit::parse_duration(trim(text), "--duration", kDurationRange);
  if (!d) return fail(d.error());
  return d->count();
}

Result<double> parse_warmup(std::string_view text) {
  auto d = ipckit::parse_duration(trim(text), "--warmup", kWarmupRange);
  if (!d) return fail(d.error());
  return d->count();
}

std::optional<LoadAverage> read_load_average() {
  std::ifstream in("/proc/loadavg");
  LoadAverage l;
  if (!(in >> l.one >> l.five >> l.fifteen)) return std::nullopt;
  return l;
}

std::vector<std::string> detect_load(const Report& r) {
  std::vector<std::string> why;
  if (r.load_start && r.machine.cpus > 0 && r.load_start->one > r.machine.cpus - 1) {
    why.push_back(fmt::format("1-minute load average {:.2f} at the start, above CPUs - 1 = {}", r.load_start->one,
                              r.machine.cpus - 1));
  }
  for (const Row& row : r.results) {
    if (row.mechanism != "atomic-pingpong" || row.pattern != Pattern::kRtt) continue;
    std::vector<double> p50s;
    for (const auto& v : row.per_repeat.p50) {
      if (v) p50s.push_back(*v);
    }
    if (p50s.size() < 2) continue;
    const double m = median(p50s);
    for (std::size_t i = 0; i < p50s.size(); ++i) {
      if (m > 0 && (p50s[i] > 2 * m || p50s[i] < m / 2)) {
        why.push_back(fmt::format("the atomic ping-pong probe's p50 moved: {:.0f} ns in one repeat, median {:.0f} ns",
                                  p50s[i], m));
        break;
      }
    }
  }
  return why;
}

Result<void> validate(const BenchOptions& o) {
  if (o.warmup_s && (!(*o.warmup_s >= 0) || Seconds(*o.warmup_s) > kWarmupRange.max)) {
    return bad_option("--warmup", format_duration(Seconds(*o.warmup_s)), "must be 0 to 60 s");
  }
  if (o.repeats && (*o.repeats < 1 || *o.repeats > 100)) {
    return bad_option("--repeats", std::to_string(*o.repeats), "must be 1..100 (3 or more for a median and spread)");
  }
  if (o.duration_s && (!(Seconds(*o.duration_s) > kDurationRange.min) || Seconds(*o.duration_s) > kDurationRange.max)) {
    return bad_option("--duration", format_duration(Seconds(*o.duration_s)), "must be above 0 and at most 60 s");
  }
  for (const auto& m : o.mechanisms) {
    if (find_mechanism(m) == nullptr) return bad_option("--mechanisms", m, "unknown mechanism");
  }
  for (auto s : o.sizes) {
    if (s < kMinMessage || s > kMaxMessage) return bad_option("--sizes", std::to_string(s), "out of range");
  }
  if (o.pin) {
    auto p = parse_pin(fmt::format("{},{}", o.pin->first, o.pin->second));
    if (!p) return fail(p.error());
  }
  return {};
}

std::vector<const Mechanism*> default_mechanisms() {
  std::vector<const Mechanism*> out;
  for (const Mechanism* m : all_mechanisms()) {
    if (m->in_default_run()) out.push_back(m);
  }
  return out;
}

Result<Report> run_bench(const BenchOptions& o, const std::function<void(const Progress&)>& progress) {
  if (auto v = validate(o); !v) return fail(v.error());
  const auto started = SideClock::now_ns();
  Report report;
  report.ipckit_version = kVersionString;
  report.command = o.command;
  report.quick = o.quick;
#if defined(__clang__)
  report.build.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  report.build.compiler = "g++ " __VERSION__;
#else
  report.build.compiler = "unknown";
#endif
  report.build.flags = std::string(trim(IPCKIT_BUILD_FLAGS));
  report.build.type = IPCKIT_BUILD_TYPE;

  const auto cpus = allowed_cpus();
  if (cpus.empty()) return last_errno().fail("sched_getaffinity", "", "cannot read this process's CPU set");
  int a = cpus[0];
  int b = cpus.size() > 1 ? cpus[1] : cpus[0];
  if (o.pin) std::tie(a, b) = *o.pin;
  utsname u{};
  ::uname(&u);
  report.machine.cpus = static_cast<int>(cpus.size());
  report.machine.model = cpu_model();
  report.machine.kernel = u.release;
  report.machine.clocksource = read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  report.machine.pinned[0] = a;
  report.machine.pinned[1] = b;
  report.machine.cpu_governor = read_first_line(fmt::format("/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", a));
  report.date = utc_now_iso8601();
  report.hostname = u.nodename;
#ifdef IPCKIT_GIT_REVISION
  if (std::string_view(IPCKIT_GIT_REVISION).size() > 0) report.git_revision = IPCKIT_GIT_REVISION;
#endif
  report.load_start = read_load_average();
  const bool cross_possible = a != b;
  // Runs with several processes per side spread them over these as well (RunConfig::spare_cpus);
  // --pin keeps them on the two CPUs named.
  std::vector<int> spare;
  if (!o.pin) {
    for (int c : cpus) {
      if (c != a && c != b) spare.push_back(c);
    }
  }
  const int cross_cpus = static_cast<int>(spare.size()) + (cross_possible ? 2 : 1);

  const std::vector<std::size_t> tp_sizes =
      !o.sizes.empty() ? o.sizes
      : o.quick        ? std::vector<std::size_t>{64, 65536}
                       : std::vector<std::size_t>{64, 1024, 4096, 65536, 1u << 20};
  const std::vector<std::size_t> rtt_sizes = !o.sizes.empty() ? o.sizes
                                             : o.quick        ? std::vector<std::size_t>{64}
                                                              : std::vector<std::size_t>{64, 4096};
  const double duration = o.duration_s.value_or(o.quick ? 0.075 : 0.3);
  const int repeats = o.repeats.value_or(3);
  const auto duration_ns = static_cast<std::uint64_t>(duration * 1e9);
  const double warmup = o.warmup_s.value_or(duration / 4);
  const auto warmup_ns = static_cast<std::uint64_t>(warmup * 1e9);
  report.duration_s = duration;
  report.warmup_s = warmup;

  std::vector<const Mechanism*> mechs;
  if (o.mechanisms.empty()) {
    mechs = default_mechanisms();
  } else {
    for (const auto& n : o.mechanisms) mechs.push_back(find_mechanism(n));
  }

  // Whatever a mechanism started for the whole run (iceoryx's private RouDi) stops on every way out
  // of this function: the end, an error, Ctrl-C (an interrupted run returns through here too).
  struct ReleaseGuard {
    const std::vector<const Mechanism*>& mechs;
    ~ReleaseGuard() {
      for (const Mechanism* m : mechs) m->release();
    }
  } release_guard{mechs};

  std::vector<Plan> plans;
  std::size_t max_size = 64;
  for (const Mechanism* m : mechs) {
    Availability av = m->available();
    // Never busy-poll with more processes than CPUs: a spinning process would wait for its peer's
    // time slice.
    const Procs procs = m->procs();
    const int busy_procs = m->wait() == Wait::kBusy && procs.consumers > 0 ? procs.producers + procs.consumers : 0;
    if (av.ok && busy_procs > cross_cpus) {
      av = {false, fmt::format("busy-poll needs {} CPUs; {} available to this process", busy_procs,
                               o.pin ? 2 : static_cast<int>(cpus.size()))};
    }
    if (!av.ok) {
      report.not_available.push_back({std::string(m->name()), av.reason});
      continue;
    }
    for (Pattern pat : {Pattern::kThroughput, Pattern::kRtt}) {
      if (!m->supports(pat)) continue;
      std::vector<std::size_t> sizes = pat == Pattern::kThroughput ? tp_sizes : rtt_sizes;
      if (auto fixed = m->fixed_size(pat)) sizes = {*fixed};
      for (std::size_t size : sizes) {
        std::vector<std::pair<std::string, std::pair<int, int>>> placements;
        if (m->procs().consumers == 0) {
          placements.push_back({"in-process", {a, a}});
        } else {
          if (cross_possible) placements.push_back({"cross-cpu", {a, b}});
          // Busy-poll on one CPU only measures the scheduler's time slice: never run it.
          if ((o.same_cpu || !cross_possible) && m->wait() != Wait::kBusy) placements.push_back({"same-cpu", {a, a}});
        }
        for (auto& [placement, pins] : placements) {
          Plan p{m, pat, size, placement, pins.first, pins.second, m->limit(pat, size), {}, {}};
          if (!p.limited) max_size = std::max(max_size, size);
          plans.push_back(std::move(p));
        }
      }
    }
  }

  const PayloadSource payload(max_size);
  std::size_t runnable = 0;
  for (const auto& p : plans) runnable += p.limited ? 0 : 1;
  const std::size_t total = runnable * static_cast<std::size_t>(repeats);
  std::size_t done = 0;
  // Repeats are interleaved across mechanisms, so a slow phase of the machine (another process
  // waking up) spreads over every mechanism instead of skewing one.
  for (int r = 0; r < repeats; ++r) {
    for (auto& p : plans) {
      if (p.limited) continue;
      if (progress) {
        const double elapsed = static_cast<double>(SideClock::now_ns() - started) / 1e9;
        const double eta = done ? elapsed / static_cast<double>(done) * static_cast<double>(total - done)
                                : static_cast<double>(total) * (duration + warmup + 0.02);
        progress(Progress{done, total, p.mechanism->name(), p.pattern, p.size, p.placement, r, eta});
      }
      RunConfig cfg;
      cfg.mechanism = p.mechanism;
      cfg.pattern = p.pattern;
      cfg.size = p.size;
      cfg.cpu_sender = p.cpu_a;
      cfg.cpu_receiver = p.cpu_b;
      if (p.cpu_a != p.cpu_b) cfg.spare_cpus = spare;  // same-cpu rows keep every process on one CPU
      cfg.warmup_ns = warmup_ns;
      cfg.duration_ns = duration_ns;
      cfg.payload = &payload;
      auto out = run_once(cfg);
      if (!out) return fail(out.error());
      if (out->interrupted || stop_requested()) {
        report.interrupted = true;
        report.results.clear();
        return report;
      }
      if (!out->error.empty()) {
        p.failures.push_back(out->error);
      } else {
        p.outcomes.push_back(std::move(*out));
      }
      ++done;
    }
  }
  for (const auto& p : plans) report.results.push_back(aggregate(p));
  report.load_end = read_load_average();
  report.loaded = detect_load(report);
  report.wall_s = static_cast<double>(SideClock::now_ns() - started) / 1e9;
  return report;
}

}  // namespace ipckit::bench
