// SPDX-License-Identifier: Apache-2.0
// `ipckit bench`: every mechanism measured side by side on this machine. The measuring lives in the
// bench engine (bench/engine); this file parses options, reports progress, installs the Ctrl-C
// handler and writes the outputs.
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "engine/bench.hpp"
#include "engine/report.hpp"
#include "engine/runner.hpp"
#include "ipckit/core/units.hpp"

namespace ipckit::cli {
namespace {

struct BenchArgs {
  bool quick = false;
  // Given on the command line (an empty value such as --mechanisms '' is an error, not the default).
  bool mechanisms_given = false, sizes_given = false, duration_given = false, pin_given = false;
  bool warmup_given = false, fail_if_slower_given = false;
  bool same_cpu = false;
  bool list = false;
  bool progress = false;
  std::string mechanisms, sizes, duration, warmup, pin, json, csv, html, markdown, fail_if_slower;
  std::string repeats;  // empty: not given
  std::vector<std::string> compare;
};

void on_signal(int) { bench::request_stop(); }

// Restores the previous SIGINT/SIGTERM handlers when the run ends.
class StopHandlers {
 public:
  StopHandlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a wait in the parent wakes up at once
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopHandlers() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopHandlers(const StopHandlers&) = delete;
  StopHandlers& operator=(const StopHandlers&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Exit 2: a bad option (one line, "ipckit bench: ...").
int usage_error(const Error& e) {
  std::fprintf(stderr, "ipckit bench: %s\n", e.str().c_str());
  return kExitUsage;
}
int usage_error(const std::string& text) {
  std::fprintf(stderr, "ipckit bench: %s\n", text.c_str());
  return kExitUsage;
}

// Exit 1: a set-up that failed before measuring (an output file that cannot be written).
int setup_error(const Error& e) {
  std::fprintf(stderr, "ipckit bench: %s\n", e.str().c_str());
  return kExitFailure;
}

// --fail-if-slower PCT: a percentage, 0 to 1000, "10" or "10%".
Result<double> parse_percent(std::string text) {
  if (!text.empty() && text.back() == '%') text.pop_back();
  double v = -1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !(v >= 0 && v <= 1000)) {
    return fail_library(LibraryCode::kInvalidArgument, "--fail-if-slower", ipckit::quoted(text),
                        "expected a percentage 0..1000, e.g. --fail-if-slower 10");
  }
  return v;
}

std::string format_eta(double s) {
  const int t = static_cast<int>(s + 0.5);
  return t >= 60 ? fmt::format("{}m{:02}s", t / 60, t % 60) : fmt::format("{}s", t);
}

// Exit 3: --compare found a figure slower than --fail-if-slower allows (for CI).
constexpr int kExitSlower = 3;

int run_compare(const BenchArgs& a) {
  std::optional<double> threshold;
  if (a.fail_if_slower_given) {
    auto pct = parse_percent(a.fail_if_slower);
    if (!pct) return usage_error(pct.error());
    threshold = *pct;
  }
  auto x = bench::load_report(a.compare[0]);
  if (!x) return usage_error(x.error());
  auto y = bench::load_report(a.compare[1]);
  if (!y) return usage_error(y.error());
  const bench::Comparison c = bench::compare_reports(*x, *y, threshold);
  std::fputs(fmt::format("A = {}\nB = {}\n", a.compare[0], a.compare[1]).c_str(), stdout);
  std::fputs(c.text.c_str(), stdout);
  std::fflush(stdout);
  if (threshold && !c.slower.empty()) {
    std::fprintf(stderr, "ipckit bench: %zu figure(s) slower by more than %g%% (--fail-if-slower):\n", c.slower.size(),
                 *threshold);
    for (const auto& s : c.slower) std::fprintf(stderr, "  %s\n", s.c_str());
    return kExitSlower;
  }
  return 0;
}

int run_list() {
  for (const bench::Mechanism* m : bench::all_mechanisms()) {
    const auto av = m->available();
    std::fputs(fmt::format("{:<22} {:<10} {}{}{}\n", m->name(), bench::to_string(m->wait()), m->description(),
                           m->in_default_run() ? "" : " [only when named]",
                           av.ok ? "" : " [not available: " + av.reason + "]")
                   .c_str(),
               stdout);
  }
  return 0;
}

int run_bench_command(const BenchArgs& a, bool compare_given) {
  if (compare_given) {
    if (a.compare.size() != 2) {
      return usage_error("--compare needs two JSON reports: --compare A.json B.json; run ipckit bench --help for the usage");
    }
    return run_compare(a);
  }
  if (a.fail_if_slower_given) return usage_error("--fail-if-slower applies to --compare A.json B.json only");
  if (a.list) return run_list();
  bench::BenchOptions o;
  o.quick = a.quick;
  o.same_cpu = a.same_cpu;
  std::string command = "ipckit bench";
  if (a.quick) command += " --quick";
  if (a.mechanisms_given) {
    auto m = bench::parse_mechanisms(a.mechanisms);
    if (!m) return usage_error(m.error());
    o.mechanisms = *m;
    command += " --mechanisms " + a.mechanisms;
  }
  if (a.sizes_given) {
    auto s = bench::parse_sizes(a.sizes);
    if (!s) return usage_error(s.error());
    o.sizes = *s;
    command += " --sizes " + a.sizes;
  }
  if (a.duration_given) {
    auto d = bench::parse_duration(a.duration);
    if (!d) return usage_error(d.error());
    o.duration_s = *d;
    command += " --duration " + a.duration;
  }
  if (a.warmup_given) {
    auto w = bench::parse_warmup(a.warmup);
    if (!w) return usage_error(w.error());
    o.warmup_s = *w;
    command += " --warmup " + a.warmup;
  }
  if (a.pin_given) {
    auto p = bench::parse_pin(a.pin);
    if (!p) return usage_error(p.error());
    o.pin = *p;
    command += " --pin " + a.pin;
  }
  if (!a.repeats.empty()) {
    auto r = parse_count(a.repeats, "--repeats", 1, 100);
    if (!r) return usage_error(r.error());
    o.repeats = static_cast<int>(*r);
    command += " --repeats " + a.repeats;
  }
  if (a.same_cpu) command += " --same-cpu";
  if (!a.json.empty()) command += " --json " + a.json;
  if (!a.csv.empty()) command += " --csv " + a.csv;
  if (!a.html.empty()) command += " --html " + a.html;
  if (!a.markdown.empty()) command += " --markdown " + a.markdown;
  o.command = command;
  if (auto v = bench::validate(o); !v) return usage_error(v.error());

  // Set-up checks before minutes of measuring: the outputs can be written, the chart library read.
  std::string chart_js;
  if (!a.html.empty()) {
    auto js = bench::chart_js();
    if (!js) {
      return setup_error(js.error().with_hint("IPCKIT_CHART_JS names a Chart.js that cannot be read (unset it to use the embedded one)"));
    }
    chart_js = std::move(*js);
  }
  for (const std::string* path : {&a.json, &a.csv, &a.html, &a.markdown}) {
    if (path->empty()) continue;
    if (auto w = bench::write_text_file(*path, ""); !w) return setup_error(w.error());
  }

  // On a terminal the progress line rewrites itself; with --progress and no terminal (a CI log)
  // each configuration is a line of its own.
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  StopHandlers handlers;
  auto report = bench::run_bench(o, [&](const bench::Progress& p) {
    if (!tty && !a.progress) return;
    const std::string line = fmt::format("[{}/{}] {} {} {} {}, repeat {}, ETA {}", p.done + 1, p.total, p.mechanism,
                                         bench::to_string(p.pattern), format_size(p.size), p.placement, p.repeat + 1,
                                         format_eta(p.eta_s));
    if (tty) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    } else {
      std::fprintf(stderr, "ipckit bench: %s\n", line.c_str());
    }
    std::fflush(stderr);
  });
  if (tty) std::fputs("\r\033[K", stderr);
  if (!report) {
    std::fprintf(stderr, "ipckit bench: set-up failed: %s\n", report.error().str().c_str());
    return 1;
  }
  if (report->interrupted) {
    for (const std::string* path : {&a.json, &a.csv, &a.html, &a.markdown}) {
      if (!path->empty()) ::unlink(path->c_str());
    }
    std::fputs("ipckit bench: interrupted; the children were stopped and every IPC object removed\n", stderr);
    return 130;
  }
  std::fputs(bench::format_table(*report).c_str(), stdout);
  std::fputs(bench::format_summary(*report).c_str(), stdout);
  std::fflush(stdout);
  auto write = [](const std::string& path, const std::string& text) {
    if (path.empty()) return true;
    if (auto w = bench::write_text_file(path, text); !w) {
      std::fprintf(stderr, "ipckit bench: %s\n", w.error().str().c_str());
      return false;
    }
    return true;
  };
  bool ok = write(a.json, bench::to_json(*report).dump(2) + "\n");
  ok = write(a.csv, bench::to_csv(*report)) && ok;
  ok = write(a.html, bench::to_html(*report, chart_js)) && ok;
  ok = write(a.markdown, bench::to_markdown(*report)) && ok;
  return ok ? 0 : 1;
}

}  // namespace

void add_bench_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Measure every IPC mechanism side by side on this machine: throughput, round-trip percentiles and CPU\n"
      "cost, every message verified (sequence + length + xxh3). Default run: under 3 minutes.");
  cmd->add_flag("--quick", args->quick, "short runs (under 30 s), indicative figures: p50/p99 only in the table");
  auto* mechanisms = cmd->add_option("--mechanisms", args->mechanisms, "comma-separated names (see --list); default: all but the rows\n"
                  "marked [only when named] (channel-broadcast-2/4/8, channel-mpmc-2x2/4x4)");
  auto* sizes = cmd->add_option("--sizes", args->sizes,
                                "message sizes for both patterns, 24 B..16 MiB each, e.g. 64,4KiB,1MiB (binary "
                                "suffixes; default: throughput 64 B..1 MiB, rtt 64 B,4 KiB)");
  auto* duration = cmd->add_option("--duration", args->duration,
                                   "measured time of one run, above 0 and at most 60 s, e.g. 0.3 or 300ms "
                                   "(default 0.3 s)");
  auto* warmup = cmd->add_option("--warmup", args->warmup,
                                 "warm-up before each measured window, not counted, 0 to 60 s, e.g. 100ms "
                                 "(default: a quarter of --duration)");
  auto* pin = cmd->add_option("--pin", args->pin, "sender and receiver CPUs, e.g. 0,1 (default: the first two CPUs)");
  cmd->add_option("--repeats", args->repeats, "runs per configuration, 1..100, interleaved (default 3: median and spread)")
      ->type_name("N");
  cmd->add_flag("--same-cpu", args->same_cpu, "also measure both sides on one CPU (never for busy-poll)");
  cmd->add_option("--json", args->json,
                  "write the results as JSON (schema_version 2: version 1 plus date, host, load, per-repeat values)");
  cmd->add_option("--csv", args->csv, "write the results as CSV (full precision)");
  cmd->add_option("--html", args->html, "write a self-contained HTML report: headline, charts, every figure");
  cmd->add_option("--markdown", args->markdown, "write the tables as GitHub Markdown (for a README or an issue)");
  cmd->add_flag("--progress", args->progress,
                "print a progress line per configuration on stderr even when it is not a terminal (CI logs)");
  // expected(1, 2), checked for two in run_bench_command: with expected(2) CLI11 renders the
  // usage as "A.json B.json x 2".
  auto* compare = cmd->add_option("--compare", args->compare,
                                  "compare two reports written by --json (JSON only, schema 1 or 2): per figure A, B,\n"
                                  "B/A and a verdict from the repeats (Mann-Whitney U with >= 5 repeats per run,\n"
                                  "else a spread rule)")
                      ->expected(1, 2)
                      ->type_name("A.json B.json");
  auto* fail_if_slower = cmd->add_option("--fail-if-slower", args->fail_if_slower,
                                         "with --compare: exit 3 when a figure of B is judged slower than A by more "
                                         "than PCT percent")
                             ->type_name("PCT");
  cmd->add_flag("--list", args->list, "list the mechanisms and what each driver does");
  cmd->footer("Sizes take binary suffixes (64, 4KiB, 1MiB; 4KB is refused as ambiguous); durations a unit or\n"
              "seconds (300ms, 0.5). Exit codes: 0 the run completed · 1 set-up failed (an output file cannot be\n"
              "written) · 2 bad option · 3 --compare found a figure slower than --fail-if-slower allows · 130\n"
              "interrupted.");
  cmd->callback([args, &ctx, mechanisms, sizes, duration, warmup, pin, compare, fail_if_slower] {
    args->warmup_given = warmup->count() > 0;
    args->fail_if_slower_given = fail_if_slower->count() > 0;
    args->mechanisms_given = mechanisms->count() > 0;
    args->sizes_given = sizes->count() > 0;
    args->duration_given = duration->count() > 0;
    args->pin_given = pin->count() > 0;
    ctx.exit_code = run_bench_command(*args, compare->count() > 0);
  });
}

}  // namespace ipckit::cli
