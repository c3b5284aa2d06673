// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <fmt/format.h>

namespace ipckit {
namespace {

std::string word_object(const void* word) { return fmt::format("futex word at {}", word); }

long sys_futex(std::uint32_t* word, int op, std::uint32_t val, const timespec* ts, std::uint32_t val3) {
  return ::syscall(SYS_futex, word, op, val, ts, nullptr, val3);
}

}  // namespace

const char* to_string(FutexWait w) noexcept {
  switch (w) {
    case FutexWait::kWoken:
      return "woken";
    case FutexWait::kValueMismatch:
      return "value mismatch";
    case FutexWait::kTimedOut:
      return "timed out";
  }
  return "unknown";
}

Result<FutexWait> futex_wait(std::uint32_t& word, std::uint32_t expected, Deadline deadline) {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout (FUTEX_WAIT's is relative), which is
  // exactly a steady_clock deadline; no FUTEX_PRIVATE_FLAG because the word may be shared.
  const timespec ts = to_monotonic_timespec(deadline);
  const timespec* tp = deadline == kNoDeadline ? nullptr : &ts;
  for (;;) {
    if (sys_futex(&word, FUTEX_WAIT_BITSET, expected, tp, FUTEX_BITSET_MATCH_ANY) == 0) return FutexWait::kWoken;
    const int err = errno;
    if (err == EAGAIN) return FutexWait::kValueMismatch;
    if (err == ETIMEDOUT) return FutexWait::kTimedOut;
    if (err == EINTR) {
      // A signal handler may have changed the word; report that instead of sleeping on stale data.
      // relaxed: only a hint to return early; the caller re-reads the word with its own ordering.
      if (std::atomic_ref<std::uint32_t>(word).load(std::memory_order_relaxed) != expected) {
        return FutexWait::kValueMismatch;
      }
      continue;
    }
    return fail_errno(err, "futex(FUTEX_WAIT_BITSET)", word_object(&word));
  }
}

Result<int> futex_wake(std::uint32_t& word, int count) {
  const long n = sys_futex(&word, FUTEX_WAKE, static_cast<std::uint32_t>(count), nullptr, 0);
  if (n < 0) return last_errno().fail("futex(FUTEX_WAKE)", word_object(&word));
  return static_cast<int>(n);
}

Result<int> futex_wake_all(std::uint32_t& word) { return futex_wake(word, INT_MAX); }

}  // namespace ipckit
