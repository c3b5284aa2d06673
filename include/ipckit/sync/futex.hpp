// SPDX-License-Identifier: Apache-2.0
/// @file
/// futex wait/wake on a 32-bit word in shared memory (Linux futex(2), shared — not FUTEX_PRIVATE —
/// so waiters and wakers may be different processes mapping the same page).
///
/// The word is a plain std::uint32_t inside the mapping, accessed through std::atomic_ref so that the
/// shared-memory layout holds no std::atomic object. futex_wait() sleeps only if the word still holds
/// `expected` when the kernel checks it (atomically with queueing the waiter), so a wake between the
/// caller's load and the wait is never lost. Spurious wake-ups are allowed: loop on the condition.
/// Linux has no futex file descriptor: use EventFd when a waiter must also poll()/epoll.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "futex words must be lock-free");
static_assert(alignof(std::uint32_t) >= std::atomic_ref<std::uint32_t>::required_alignment);

/// How futex_wait() ended without an error.
enum class FutexWait {
  kWoken,          ///< a futex_wake() (or a spurious wake-up) ended the wait: re-check the word
  kValueMismatch,  ///< the word no longer held `expected` (someone changed it first): re-check
  kTimedOut,       ///< the deadline passed
};

/// The value as text ("woken", "value mismatch", "timed out").
[[nodiscard]] IPCKIT_API const char* to_string(FutexWait w) noexcept;

/// Sleeps while `word` == expected, until woken or `deadline` (absolute, CLOCK_MONOTONIC via
/// FUTEX_WAIT_BITSET, so EINTR retries never stretch it). EINTR is retried (after re-checking the word).
/// Thread- and process-safe. Errors: EFAULT (word not mapped), EINVAL (misaligned word).
[[nodiscard]] IPCKIT_API Result<FutexWait> futex_wait(std::uint32_t& word, std::uint32_t expected,
                                                      Deadline deadline = kNoDeadline);
/// futex_wait() with deadline_after(d).
template <class Rep, class Period>
[[nodiscard]] Result<FutexWait> futex_wait_for(std::uint32_t& word, std::uint32_t expected,
                                              std::chrono::duration<Rep, Period> d) {
  return futex_wait(word, expected, deadline_after(d));
}

/// Wakes up to `count` waiters on `word` (INT_MAX: all). Returns how many were woken. Never blocks.
/// Change the word (with release order) *before* waking, or a waiter may sleep again.
[[nodiscard]] IPCKIT_API Result<int> futex_wake(std::uint32_t& word, int count = 1);
/// Wakes every waiter on `word`: futex_wake(word, INT_MAX).
[[nodiscard]] IPCKIT_API Result<int> futex_wake_all(std::uint32_t& word);

}  // namespace ipckit
