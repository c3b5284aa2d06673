// SPDX-License-Identifier: Apache-2.0
// `ipckit bench`: plans the runs (mechanisms x patterns x sizes x placements), runs them with
// warm-up and interleaved repeats, and aggregates the figures into a Report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/mechanism.hpp"
#include "ipckit/core/units.hpp"

namespace ipckit::bench {

struct BenchOptions {
  std::vector<std::string> mechanisms;  // empty: default_mechanisms()
  std::vector<std::size_t> sizes;       // empty: the defaults of each pattern
  std::optional<double> duration_s;     // measured window of one run
  std::optional<double> warmup_s;       // warm-up before it (default: a quarter of duration_s)
  std::optional<int> repeats;
  std::optional<std::pair<int, int>> pin;  // sender CPU, receiver CPU
  bool same_cpu = false;                   // add same-CPU rows (never for busy-poll)
  bool quick = false;
  std::string command;                     // the command line, recorded in the report
};

// Option parsing, on the project's one size/duration parser (core/units.hpp: 4KiB, 300ms; SI
// spellings such as 4KB are rejected as ambiguous); errors name the option and the value:
// `--sizes("4KB"): invalid argument: "KB" is ambiguous ...`.
// --sizes: comma-separated sizes, kMinMessage..kMaxMessage each; sorted, duplicates dropped.
[[nodiscard]] Result<std::vector<std::size_t>> parse_sizes(std::string_view text);
// --mechanisms: comma-separated names; empty is an error; an unknown name says "did you mean".
[[nodiscard]] Result<std::vector<std::string>> parse_mechanisms(std::string_view text);
[[nodiscard]] Result<std::pair<int, int>> parse_pin(std::string_view text);
// --duration: above 0 and at most 60 s (kDurationRange), in seconds.
[[nodiscard]] Result<double> parse_duration(std::string_view text);
inline constexpr DurationRange kDurationRange{Seconds(0.0), true, Seconds(60.0)};
// --warmup: 0 (no warm-up) up to 60 s, in seconds.
[[nodiscard]] Result<double> parse_warmup(std::string_view text);
inline constexpr DurationRange kWarmupRange{Seconds(0.0), false, Seconds(60.0)};
// Checks a whole option set (CPUs exist, sizes in range, repeats >= 1, ...).
[[nodiscard]] Result<void> validate(const BenchOptions& options);
// The CPUs this process may run on (sched_getaffinity), in ascending order.
[[nodiscard]] std::vector<int> allowed_cpus();

inline constexpr std::size_t kMaxMessage = 16u << 20;

struct Row {
  std::string mechanism;
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 0;
  std::string placement;  // "cross-cpu", "same-cpu", "in-process" (memcpy)
  Wait wait = Wait::kBlocking;
  Procs procs;
  std::uint64_t samples = 0;
  std::optional<double> msgs_per_s;  // throughput: the receivers' rate (see rate_of); rtt: round trips per second
  // What msgs_per_s is: "receiver" (the one receiving process), "all-consumers" (the sum over
  // several consumers, each frame going to one of them), "per-subscriber" (the mean over the
  // subscribers, each receiving every frame), "round-trips" (rtt).
  std::string rate_of;
  std::optional<double> sender_msgs_per_s;  // throughput: frames sent per second, summed over the senders
  std::optional<double> bytes_per_s;
  std::optional<double> p50, p90, p99, p999, max;  // rtt, ns
  std::optional<double> cpu_sender, cpu_receiver;  // ns per message (rtt: per round trip)
  int repeats = 0;
  std::optional<bool> verified;  // null for limited rows
  std::optional<std::string> limited;
  std::uint64_t lost = 0;
  bool zero_copy = false;  // the receiver reads in place: bytes/s is not a copy bandwidth
  // (max - min) / median of the repeats' headline figure (throughput: msgs/s; rtt: p50); nullopt
  // with fewer than two repeats that have the figure.
  std::optional<double> spread;
  // One entry per repeat that ran (repeat order; as long as `repeats`), nullopt where that repeat
  // has no such figure (a p99 from too few samples). schema_version 2.
  struct PerRepeat {
    std::vector<std::optional<double>> msgs_per_s, p50, p99, cpu_sender, cpu_receiver;
  } per_repeat;
  std::string note;  // the first failure, if any (table only)
};

// Spread above this marks a row as noisy (table, page, Markdown, JSON `noisy`).
inline constexpr double kNoisySpread = 0.20;
[[nodiscard]] inline bool is_noisy(const Row& r) noexcept { return r.spread && *r.spread > kNoisySpread; }

struct NotAvailable {
  std::string mechanism;
  std::string reason;
};

// 1-, 5- and 15-minute load averages (/proc/loadavg); nullopt where unreadable.
struct LoadAverage {
  double one = 0, five = 0, fifteen = 0;
};
[[nodiscard]] std::optional<LoadAverage> read_load_average();

struct Report {
  // 2 adds fields to 1 (date, hostname, load_average, cpu_governor, git_revision, warmup_s,
  // duration_s, loaded; per row spread, noisy, per_repeat); every field of 1 keeps its meaning.
  int schema_version = 2;
  std::string ipckit_version;
  std::string command;
  std::string date;      // start of the run, UTC, ISO 8601 ("2026-12-03T13:00:15Z")
  std::string hostname;
  std::optional<std::string> git_revision;  // of the source tree at configure time, when it was a git checkout
  struct {
    std::string compiler, flags, type;
  } build;
  struct {
    int cpus = 0;
    std::string model, kernel, clocksource;
    int pinned[2] = {0, 0};
    std::optional<std::string> cpu_governor;  // cpufreq scaling_governor of the first pinned CPU
  } machine;
  std::optional<LoadAverage> load_start, load_end;
  double warmup_s = 0, duration_s = 0;
  // The machine looked loaded: the reasons (empty: it did not). See detect_load().
  std::vector<std::string> loaded;
  std::vector<Row> results;
  std::vector<NotAvailable> not_available;
  bool quick = false;
  bool interrupted = false;
  double wall_s = 0;
};

struct Progress {
  std::size_t done = 0;
  std::size_t total = 0;
  std::string_view mechanism;
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 0;
  std::string_view placement;
  int repeat = 0;  // 0-based
  double eta_s = 0;
};

// Why the machine looked loaded during `report` (empty: it did not): the 1-minute load average at
// the start above CPUs - 1 (the bench itself then competes with other work), or an atomic-pingpong
// repeat whose p50 is more than twice or less than half the median of its repeats (the probe's
// own figure moved: something else took the CPUs for part of the run).
[[nodiscard]] std::vector<std::string> detect_load(const Report& report);

// The mechanisms a run without --mechanisms measures: every registered one but the variants that
// run only when named (Mechanism::in_default_run()).
[[nodiscard]] std::vector<const Mechanism*> default_mechanisms();

// Runs the benchmark. Errors: a failed set-up of the harness itself (options are validated first).
// Interrupted runs (request_stop()) return a Report with interrupted = true and no results.
[[nodiscard]] Result<Report> run_bench(const BenchOptions& options,
                                       const std::function<void(const Progress&)>& progress = {});

}  // namespace ipckit::bench
