// SPDX-License-Identifier: Apache-2.0
/// @file
/// The shared-memory layout of an MPMC channel (pattern 2) beyond the common header of layout.hpp:
/// the MPMC line (the header's reserved line at 896), the member table (128 RoleSlots at 1024, each
/// member's counters in its reserved words) and the slots that follow it, each a state word, a
/// length and the payload, padded to kSlotAlign. Fixed offsets (static_asserts); every mutable field
/// is accessed through std::atomic_ref and validated after reading (docs/channel.md, "Part 2: MPMC").
#pragma once

#include <cstddef>
#include <cstdint>

#include "ipckit/channel/layout.hpp"

namespace ipckit::mpmc_layout {

/// Slot header: state word (u64) + length (u64).
inline constexpr std::uint64_t kSlotHeader = 16;
/// Slots are padded to whole cache lines (channel_layout::kCacheLine, 128: adjacent-line prefetch
/// pairs 64-byte lines), so producers and consumers of neighbouring slots never false-share. 64 until
/// layout 3.0.
inline constexpr std::uint64_t kSlotAlign = channel_layout::kCacheLine;

// State word.
/// State word: the lap starts at this bit (lap: 40 bits | state: 2 | redelivered: 1 | owner: 21).
inline constexpr unsigned kLapShift = 24;
/// State word: the lap's 40 bits, after shifting by kLapShift.
inline constexpr std::uint64_t kLapMask = (std::uint64_t{1} << 40) - 1;
/// State word: the State starts at this bit (2 bits).
inline constexpr unsigned kStateShift = 22;
/// State word: the record is being redelivered (its consumer died while reading it).
inline constexpr std::uint64_t kRedelivered = std::uint64_t{1} << 21;
/// State word: the owner, the member index of the process writing or reading the slot.
inline constexpr std::uint64_t kOwnerMask = (std::uint64_t{1} << 21) - 1;
/// State of a slot on its lap: free -> writing (a producer's) -> full -> reading (a consumer's) ->
/// free on the next lap.
enum State : std::uint64_t { kFree = 0, kWriting = 1, kFull = 2, kReading = 3 };
/// @var kFree
/// Empty, ready for a producer of this lap.
/// @var kWriting
/// Claimed by the owner producer, being written.
/// @var kFull
/// Written, ready for a consumer.
/// @var kReading
/// Claimed by the owner consumer, being read.

/// The state word of lap `lap`, state `state`, owner member index `owner` and redelivered flag.
[[nodiscard]] constexpr std::uint64_t make_word(std::uint64_t lap, State state, std::uint64_t owner,
                                           bool redelivered = false) noexcept {
  return ((lap & kLapMask) << kLapShift) | (static_cast<std::uint64_t>(state) << kStateShift) |
         (redelivered ? kRedelivered : 0) | (owner & kOwnerMask);
}
/// The lap of state word `w`.
constexpr std::uint64_t lap_of(std::uint64_t w) noexcept { return w >> kLapShift; }
/// The State of state word `w`.
constexpr State state_of(std::uint64_t w) noexcept { return static_cast<State>((w >> kStateShift) & 3); }
/// The owner member index of state word `w`.
constexpr std::uint32_t owner_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w & kOwnerMask); }
/// Laps compared modulo 2^40 (a wrap takes 2^40 laps): < 0 older, 0 same, > 0 newer than `lap`.
constexpr std::int64_t lap_diff(std::uint64_t word_lap, std::uint64_t lap) noexcept {
  const std::uint64_t d = (word_lap - lap) & kLapMask;
  return d >= (std::uint64_t{1} << 39) ? static_cast<std::int64_t>(d) - (std::int64_t{1} << 40)
                                       : static_cast<std::int64_t>(d);
}

static_assert(kSlotHeader == 16);
static_assert(kSlotAlign % channel_layout::kCacheLine == 0);  // slot sizes are whole lines

/// Fields of the header's reserved line used by MPMC (each written with atomics by anyone).
struct MpmcLine {
  std::uint64_t producer_joins;  ///< offset 0: producers that ever joined
  std::uint64_t consumer_joins;  ///< offset 8: consumers that ever joined
  std::uint64_t producer_exit;   ///< offset 16: how the last producer left: 1 closed, 2 died
  std::uint64_t consumer_exit;   ///< offset 24: how the last consumer left: 1 closed, 2 died
  std::uint64_t skipped;         ///< offset 32: skipped slots, totals of departed members (live members keep their own)
  std::int64_t orphans;          ///< offset 40: redelivered records not yet taken (may be briefly negative)
  std::uint64_t departures;      ///< offset 48: members that closed or were reaped: waiters re-check the others
  std::uint64_t reserved[9];     ///< reserved
};
static_assert(sizeof(MpmcLine) == sizeof(channel_layout::Header::reserved_line));
static_assert(offsetof(MpmcLine, orphans) == 40);
static_assert(offsetof(MpmcLine, departures) == 48);

// How the last member of a side left (MpmcLine::producer_exit / consumer_exit).
/// MpmcLine::producer_exit / consumer_exit: the last member of the side closed.
inline constexpr std::uint64_t kExitClosed = 1;
/// MpmcLine::producer_exit / consumer_exit: the last member of the side died.
inline constexpr std::uint64_t kExitDied = 2;

}  // namespace ipckit::mpmc_layout
