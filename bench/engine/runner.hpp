// SPDX-License-Identifier: Apache-2.0
// One benchmark run: fork one child per producer and per consumer, pin each to its CPU, prepare them
// all, release them together, wait (bounded), collect their figures, and remove every object the run
// created.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/mechanism.hpp"

namespace ipckit::bench {

struct RunConfig {
  const Mechanism* mechanism = nullptr;
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 64;
  int cpu_sender = 0;
  int cpu_receiver = 1;
  // Further CPUs for runs with several processes per side. The children, taken in the order sender
  // 0, receiver 0, sender 1, receiver 1, ... (then the side with more), go round robin onto
  // cpu_sender, cpu_receiver (when different), then these: with two CPUs every sender shares the
  // first and every receiver the second when their counts are equal.
  std::vector<int> spare_cpus;
  std::uint64_t warmup_ns = 0;
  std::uint64_t duration_ns = 0;
  const PayloadSource* payload = nullptr;
};

struct RunOutcome {
  std::vector<SideStats> senders;    // one per producer
  std::vector<SideStats> receivers;  // one per consumer; empty for single-process mechanisms
  Histogram histogram;
  std::string error;   // non-empty: the run failed (a side could not set up, crashed or hung)
  bool interrupted = false;
};

// Blocks for about warm-up + duration. Errors are failures of the harness itself (fork, pipe,
// mmap); a mechanism that fails is reported in RunOutcome::error. Not thread-safe (forks).
[[nodiscard]] Result<RunOutcome> run_once(const RunConfig& config);

// Throughput runs with receivers: checks that they got exactly the frames the senders sent.
// Delivery::kOne: the frame counts summed over the receivers against the senders', and the
// SideStats::digest sums (equal counts with different sets: a frame lost and another duplicated);
// Delivery::kEach: every receiver's count against the senders' (each checked its sequence numbers).
// Returns the frames lost; sets `problem` when more frames arrived than were sent or the sets differ.
[[nodiscard]] std::uint64_t check_delivery(const RunOutcome& outcome, Delivery delivery, std::string& problem);

// Async-signal-safe: asks the current and every later run to stop (SIGINT/SIGTERM handlers).
void request_stop() noexcept;
[[nodiscard]] bool stop_requested() noexcept;
// Clears the request (tests).
void clear_stop_request() noexcept;

}  // namespace ipckit::bench
