// SPDX-License-Identifier: Apache-2.0
// Internal: the one way every channel wait sleeps and every channel waker wakes (SPSC, MPMC and
// broadcast; docs/channel.md "Headers and the endpoint core").
//
// The handshake, one encoding for all three patterns. A side that may sleep has two shared words:
// `announced`, a count of sleepers, and `seq`, the futex word. A sleeper (sleep_unless_ready())
//   1. reads `seq` (acquire),
//   2. adds itself to `announced`,
//   3. fences (seq_cst) and re-checks its condition (a record, a free slot, a subscriber that moved),
//   4. sleeps on `seq` with the value of step 1, for at most its timeout.
// It never takes itself off `announced`. A waker publishes (the record, the index), fences (seq_cst),
// and when `announced` is non-zero takes announcements off, bumps `seq` (release) and FUTEX_WAKEs.
// Dekker: either the sleeper's re-check sees what the waker published, or the waker sees the
// announcement; and since `seq` was read before announcing, a bump that follows a taken
// announcement always makes the FUTEX_WAIT return at once. (Read after announcing, a wake landing
// between the two took the announcement and bumped a word not yet read: the sleeper slept a whole
// liveness interval; found by tools/model/announce_wake.pml.) A sleeper that left by timeout or
// found work on its re-check leaves a stale announcement that costs a later waker one FUTEX_WAKE
// finding nobody, never a lost wake-up (removing it itself could take another sleeper's).
#pragma once

#include <atomic>
#include <cstdint>

#include "ipckit/core/deadline.hpp"

namespace ipckit::detail {

// FUTEX_WAIT on a shared (not private) word, relative timeout; returns when woken, on timeout, on
// EINTR or when *word != expected. A timeout <= 0 returns at once.
void futex_wait(std::uint32_t* word, std::uint32_t expected, Clock::duration timeout) noexcept;
// FUTEX_WAKE of every waiter on `word`.
void futex_wake_all(std::uint32_t* word) noexcept;
// FUTEX_WAKE of at most `count` waiters on `word`.
void futex_wake(std::uint32_t* word, int count) noexcept;

// Bumps `seq` (release: pairs with the sleeper's acquire load of it in step 1, so a sleeper that
// reads the new value also sees what the waker published) and wakes every waiter. For wakers that
// must reach everyone whatever the announcements say (close, repairs, evictions).
void wake_seq(std::uint32_t& seq) noexcept;
// Takes one announcement off and wakes one sleeper (one message or one free slot feeds one
// sleeper: MPMC). False when nobody was announced. Call after the waker's seq_cst fence.
inline bool wake_one_announced(std::uint32_t& announced, std::uint32_t& seq) noexcept {
  std::atomic_ref<std::uint32_t> a(announced);
  std::uint32_t n = a.load(std::memory_order_relaxed);
  while (n != 0 && !a.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
  }
  if (n == 0) return false;
  std::atomic_ref<std::uint32_t>(seq).fetch_add(1, std::memory_order_release);  // as in wake_seq()
  futex_wake(&seq, 1);
  return true;
}
// Takes every announcement off and wakes all sleepers (SPSC's one sleeper per side; broadcast,
// where every subscriber wants every message). False when nobody was announced. The plain load
// first: no locked instruction where nobody sleeps. Call after the waker's seq_cst fence.
// Inline: SPSC calls it once per publish in blocking mode.
inline bool wake_all_announced(std::uint32_t& announced, std::uint32_t& seq) noexcept {
  std::atomic_ref<std::uint32_t> a(announced);
  if (a.load(std::memory_order_relaxed) == 0) return false;
  if (a.exchange(0, std::memory_order_relaxed) == 0) return false;
  wake_seq(seq);
  return true;
}

// Steps 1-4 of the handshake above. `ready()` is the re-check (relaxed loads suffice: the fence
// orders them). Returns true when the re-check found the condition (no sleep), false after a sleep
// (woken, timed out or interrupted: the caller re-checks and decides).
template <class Ready>
[[nodiscard]] bool sleep_unless_ready(std::uint32_t& announced, std::uint32_t& seq, Clock::duration timeout,
                                      Ready&& ready) noexcept {
  const std::uint32_t seen = std::atomic_ref<std::uint32_t>(seq).load(std::memory_order_acquire);
  std::atomic_ref<std::uint32_t>(announced).fetch_add(1, std::memory_order_relaxed);
  // Dekker: pairs with the waker's fence between its publish and its load of `announced`.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (ready()) return true;
  futex_wait(&seq, seen, timeout);
  return false;
}

// One spin-loop pause (PAUSE on x86, YIELD on arm).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace ipckit::detail
