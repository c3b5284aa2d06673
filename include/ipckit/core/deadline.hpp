// SPDX-License-Identifier: Apache-2.0
/// @file
/// Deadlines: absolute steady_clock time points, so that retries after EINTR never stretch a wait.
#pragma once

#include <chrono>
#include <ctime>

#include "ipckit/export.hpp"

namespace ipckit {

/// The clock of every deadline in ipckit (CLOCK_MONOTONIC on Linux).
using Clock = std::chrono::steady_clock;
/// An absolute point on Clock by which a wait gives up.
using Deadline = Clock::time_point;

/// A deadline that never passes: waits with it block until the event happens.
inline constexpr Deadline kNoDeadline = Deadline::max();

/// now + d, saturating at kNoDeadline.
/// A zero or negative \p d gives now (already passed).
template <class Rep, class Period>
[[nodiscard]] Deadline deadline_after(std::chrono::duration<Rep, Period> d) {
  const auto now = Clock::now();
  // Compare in floating point first: casting a huge duration to nanoseconds would overflow.
  if (std::chrono::duration<double>(d) >= std::chrono::duration<double>(kNoDeadline - now)) return kNoDeadline;
  if (d <= d.zero()) return now;
  return now + std::chrono::duration_cast<Clock::duration>(d);
}

/// Time left until `deadline` (zero when it has passed).
[[nodiscard]] IPCKIT_API Clock::duration remaining(Deadline deadline) noexcept;

/// Milliseconds left for poll()/epoll_wait(): rounded up so a wait never ends before the deadline;
/// -1 for kNoDeadline; 0 when passed; capped at INT_MAX.
[[nodiscard]] IPCKIT_API int poll_timeout_ms(Deadline deadline) noexcept;

/// The same instant on CLOCK_REALTIME, for calls that only take wall-clock deadlines
/// (mq_timedsend/mq_timedreceive). Call it afresh on every attempt: the wall clock can jump, so
/// loops must also compare against the steady deadline.
[[nodiscard]] IPCKIT_API timespec to_realtime_timespec(Deadline deadline) noexcept;

/// The same instant on CLOCK_MONOTONIC (steady_clock is CLOCK_MONOTONIC on Linux), for
/// sem_clockwait, pthread_*_clock* and futex waits.
[[nodiscard]] IPCKIT_API timespec to_monotonic_timespec(Deadline deadline) noexcept;

/// Relative time left as a timespec (for semtimedop and FUTEX_WAIT, which take relative timeouts).
[[nodiscard]] IPCKIT_API timespec remaining_timespec(Deadline deadline) noexcept;

}  // namespace ipckit
