// SPDX-License-Identifier: Apache-2.0
// The shared-memory layout of an MPMC channel (pattern 2) beyond the common header of layout.hpp:
// the MPMC line (the header's reserved line at 896), the member table (128 RoleSlots at 1024, each
// member's counters in its reserved words) and the slots that follow it, each a state word, a
// length and the payload, padded to kSlotAlign. Fixed offsets (static_asserts); every mutable field
// is accessed through std::atomic_ref and validated after reading (docs/channel.md, "Part 2: MPMC").
#pragma once

#include <cstddef>
#include <cstdint>

#include "ipckit/channel/layout.hpp"

namespace ipckit::mpmc_layout {

// Slot header: state word (u64) + length (u64).
inline constexpr std::uint64_t kSlotHeader = 16;
inline constexpr std::uint64_t kSlotAlign = 64;  // adjacent slots on different lines: producers do not false-share

// State word.
inline constexpr unsigned kLapShift = 24;
inline constexpr std::uint64_t kLapMask = (std::uint64_t{1} << 40) - 1;
inline constexpr unsigned kStateShift = 22;
inline constexpr std::uint64_t kRedelivered = std::uint64_t{1} << 21;
inline constexpr std::uint64_t kOwnerMask = (std::uint64_t{1} << 21) - 1;
enum State : std::uint64_t { kFree = 0, kWriting = 1, kFull = 2, kReading = 3 };

[[nodiscard]] constexpr std::uint64_t make_word(std::uint64_t lap, State state, std::uint64_t owner,
                                           bool redelivered = false) noexcept {
  return ((lap & kLapMask) << kLapShift) | (static_cast<std::uint64_t>(state) << kStateShift) |
         (redelivered ? kRedelivered : 0) | (owner & kOwnerMask);
}
constexpr std::uint64_t lap_of(std::uint64_t w) noexcept { return w >> kLapShift; }
constexpr State state_of(std::uint64_t w) noexcept { return static_cast<State>((w >> kStateShift) & 3); }
constexpr std::uint32_t owner_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w & kOwnerMask); }
// Laps compared modulo 2^40 (a wrap takes 2^40 laps): < 0 older, 0 same, > 0 newer than `lap`.
constexpr std::int64_t lap_diff(std::uint64_t word_lap, std::uint64_t lap) noexcept {
  const std::uint64_t d = (word_lap - lap) & kLapMask;
  return d >= (std::uint64_t{1} << 39) ? static_cast<std::int64_t>(d) - (std::int64_t{1} << 40)
                                       : static_cast<std::int64_t>(d);
}

static_assert(kSlotHeader == 16);
static_assert(kSlotAlign % 8 == 0);

// Fields of the header's reserved line used by MPMC (each written with atomics by anyone).
struct MpmcLine {
  std::uint64_t producer_joins;  // 0  producers that ever joined
  std::uint64_t consumer_joins;  // 8
  std::uint64_t producer_exit;   // 16 how the last producer left: 1 closed, 2 died
  std::uint64_t consumer_exit;   // 24
  std::uint64_t skipped;         // 32 totals of departed members (live members keep their own)
  std::int64_t orphans;          // 40 redelivered records not yet taken (may be briefly negative)
  std::uint64_t departures;      // 48 members that closed or were reaped: waiters re-check the others
  std::uint64_t reserved[9];
};
static_assert(sizeof(MpmcLine) == sizeof(channel_layout::Header::reserved_line));
static_assert(offsetof(MpmcLine, orphans) == 40);
static_assert(offsetof(MpmcLine, departures) == 48);

// How the last member of a side left (MpmcLine::producer_exit / consumer_exit).
inline constexpr std::uint64_t kExitClosed = 1;
inline constexpr std::uint64_t kExitDied = 2;

}  // namespace ipckit::mpmc_layout
