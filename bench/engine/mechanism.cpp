// SPDX-License-Identifier: Apache-2.0
#include "engine/mechanism.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace ipckit::bench {

std::string_view to_string(Pattern p) noexcept { return p == Pattern::kThroughput ? "throughput" : "rtt"; }

std::string_view to_string(Wait w) noexcept {
  switch (w) {
    case Wait::kBusy: return "busy";
    case Wait::kSpinFutex: return "spin-futex";
    case Wait::kBlocking: return "blocking";
    case Wait::kEpoll: return "epoll";
  }
  return "?";
}

void SideStats::set_error(std::string_view text) noexcept {
  failed = 1;
  verified = 0;
  const std::size_t n = std::min(text.size(), sizeof error - 1);
  std::copy_n(text.data(), n, error);
  error[n] = '\0';
}

void SideStats::set_unverified(std::string_view text) noexcept {
  if (verified == 0) return;  // keep the first reason
  verified = 0;
  const std::size_t n = std::min(text.size(), sizeof error - 1);
  std::copy_n(text.data(), n, error);
  error[n] = '\0';
}

std::uint64_t SideClock::now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t SideClock::cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

SideClock::SideClock(const RunContext& ctx) noexcept
    : ctx_(ctx), start_(now_ns()), start_cpu_(cpu_ns()), end_(start_ + ctx.warmup_ns + ctx.duration_ns) {
  if (ctx.warmup_ns == 0) {
    warm_ = true;
    snap_time_ = start_;
    snap_cpu_ = start_cpu_;
  }
}

bool SideClock::tick(std::uint64_t msgs_so_far) noexcept {
  const std::uint64_t now = now_ns();
  if (!warm_ && now - start_ >= ctx_.warmup_ns) {
    warm_ = true;
    snap_time_ = now;
    snap_cpu_ = cpu_ns();
    snap_msgs_ = msgs_so_far;
  }
  return now < end_ && !ctx_.stop_requested();
}

void SideClock::mark_last() noexcept { last_ = now_ns(); }

void SideClock::finish(std::uint64_t msgs_total, SideStats& stats) noexcept {
  // The run ended inside the warm-up, or nothing passed after it (a side descheduled for the whole
  // window on a loaded machine): report the whole run rather than nothing.
  if (!warm_ || msgs_total <= snap_msgs_) {
    snap_time_ = start_;
    snap_cpu_ = start_cpu_;
    snap_msgs_ = 0;
  }
  const std::uint64_t end = last_ ? last_ : now_ns();
  stats.msgs_total = msgs_total;
  stats.msgs = msgs_total - std::min(msgs_total, snap_msgs_);
  stats.elapsed_ns = end > snap_time_ ? end - snap_time_ : 0;
  stats.cpu_ns = cpu_ns() - snap_cpu_;
}

std::string unique_object_name() {
  static unsigned counter = 0;
  return fmt::format("/ipckit.bench.{}.{}", ::getpid(), counter++);
}

}  // namespace ipckit::bench
