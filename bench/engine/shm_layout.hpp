// SPDX-License-Identifier: Apache-2.0
// Helpers for the shared-memory drivers: an anonymous shared region laid out in cache lines.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "engine/mechanism.hpp"
#include "ipckit/core/mapping.hpp"

namespace ipckit::bench {

inline constexpr std::size_t kCacheLine = 128;

inline constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// A flag or sequence word on its own cache line.
struct alignas(kCacheLine) SharedWord {
  std::atomic<std::uint64_t> value{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(SharedWord) == kCacheLine);

// Spins until `pred()` holds; checks the stop flag every 1024 tries. Returns false on stop.
template <class Pred>
inline bool spin_until(const RunContext& ctx, Pred pred) noexcept {
  for (unsigned i = 1;; ++i) {
    if (pred()) return true;
    cpu_relax();
    if ((i & 1023) == 0 && ctx.stop_requested()) return false;
  }
}

}  // namespace ipckit::bench
