// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/deadline.hpp"

#include <climits>

namespace ipckit {
namespace {

timespec to_timespec(std::chrono::nanoseconds ns) noexcept {
  if (ns.count() < 0) ns = std::chrono::nanoseconds(0);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  return ts;
}

// Clock reading as nanoseconds; clock_gettime on these clocks cannot fail.
std::chrono::nanoseconds now_on(clockid_t clock) noexcept {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// A far-away time for kNoDeadline that still fits in time_t arithmetic (about 68 years ahead).
constexpr std::chrono::nanoseconds kFarAway = std::chrono::seconds(INT_MAX);

}  // namespace

Clock::duration remaining(Deadline deadline) noexcept {
  const auto now = Clock::now();
  if (deadline <= now) return Clock::duration::zero();
  return deadline - now;
}

int poll_timeout_ms(Deadline deadline) noexcept {
  if (deadline == kNoDeadline) return -1;
  const auto left = remaining(deadline);
  if (left <= Clock::duration::zero()) return 0;
  // Round up: poll() with a truncated timeout returns just before the deadline and the caller would
  // spin once more with timeout 0.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

timespec remaining_timespec(Deadline deadline) noexcept {
  if (deadline == kNoDeadline) return to_timespec(kFarAway);
  return to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(remaining(deadline)));
}

timespec to_realtime_timespec(Deadline deadline) noexcept {
  const auto left = deadline == kNoDeadline
                        ? kFarAway
                        : std::chrono::duration_cast<std::chrono::nanoseconds>(remaining(deadline));
  return to_timespec(now_on(CLOCK_REALTIME) + left);
}

timespec to_monotonic_timespec(Deadline deadline) noexcept {
  if (deadline == kNoDeadline) return to_timespec(now_on(CLOCK_MONOTONIC) + kFarAway);
  return to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()));
}

}  // namespace ipckit
