// One benchmark run: fork one child per side, pin each to its CPU, prepare both, release them
// together, wait (bounded), collect their figures, and remove every object the run created.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/mechanism.hpp"

namespace ipckit::bench {

struct RunConfig {
  const Mechanism* mechanism = nullptr;
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 64;
  int cpu_sender = 0;
  int cpu_receiver = 1;
  std::uint64_t warmup_ns = 0;
  std::uint64_t duration_ns = 0;
  const PayloadSource* payload = nullptr;
};

struct RunOutcome {
  SideStats sender;
  SideStats receiver;  // untouched for single-process mechanisms
  Histogram histogram;
  std::string error;   // non-empty: the run failed (a side could not set up, crashed or hung)
  bool interrupted = false;
};

// Blocks for about warm-up + duration. Errors are failures of the harness itself (fork, pipe,
// mmap); a mechanism that fails is reported in RunOutcome::error. Not thread-safe (forks).
[[nodiscard]] Result<RunOutcome> run_once(const RunConfig& config);

// Async-signal-safe: asks the current and every later run to stop (SIGINT/SIGTERM handlers).
void request_stop() noexcept;
[[nodiscard]] bool stop_requested() noexcept;
// Clears the request (tests).
void clear_stop_request() noexcept;

}  // namespace ipckit::bench
