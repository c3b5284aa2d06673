// SPDX-License-Identifier: Apache-2.0
/// @file
/// The one parser and formatter for what users type as sizes, durations and counts: URL options
/// (capacity=1MiB, msgsize=8192), `ipckit send --size 4KiB`, `bench --sizes 64,4KiB --duration 300ms`,
/// `--timeout 1.5s`, `--count 10`. Every caller in the project uses these, so one spelling means one
/// value everywhere (docs/endpoints.md has the suffix table).
///
/// Sizes: a whole number of bytes with an optional suffix, optionally one space before it:
/// @verbatim
///   4096  4096B  64KiB  64K  64k  1MiB  1M  1GiB  1G  1TiB  1T  1PiB  1P  1EiB  1E  (all powers of 1024)
/// @endverbatim
/// SI spellings (kB, KB, MB, GB, TB, PB, EB) are REJECTED, with an error that names both readings
/// ("4KB is ambiguous: 4KiB = 4096 or 4000"). Why: the same text means 1000 in coreutils and the SI
/// and 1024 in JEDEC, in Windows and in ipckit before this parser (capacity=1MB was 1 MiB). A byte
/// count that silently changes by 2.4 % (K) to 15 % (E) between tools, or between two ipckit
/// versions, is worse than an error the user fixes once. The single letters K/M/G/T/P/E are binary,
/// as in dd, head -c, sort -S and ulimit.
/// Past 2^64 - 1 bytes is an error naming the value (1TiB parses; 16EiB does not).
///
/// Durations: a non-negative decimal number with an optional unit, optionally one space before it:
/// @verbatim
///   ns  us  ms  s  m or min  h  d        a bare number is seconds: 5, 0.1, 1e3
///   inf (also infinity, forever): no limit
/// @endverbatim
/// Negative values, nan, an unknown unit and trailing garbage are errors. A very large finite value
/// (1e300) parses as itself; whether it means "wait forever" is the caller's decision:
/// timeout_is_forever() and deadline_for() below are the helpers for it.
///
/// Counts: a whole decimal number, no sign, no suffix, checked against a range.
///
/// Errors are kInvalidArgument Errors with call = what the value is for ("--size", "capacity") and
/// object = the text quoted, so str() is one line naming the value and what is accepted:
/// @verbatim
///   --size("4KB"): invalid argument: "4KB" is ambiguous: write 4KiB (4096 bytes) or 4000; ...
/// @endverbatim
/// Pure functions: thread-safe, never block, never throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// Durations are seconds in floating point: 1.5s, 300ms and inf are all exact enough for timeouts.
using Seconds = std::chrono::duration<double>;

/// The accepted range of a size (inclusive on both ends).
struct SizeRange {
  std::uint64_t min = 0;  ///< smallest accepted value
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();  ///< largest accepted value
};

/// Parses a byte count as described above. `what` names the value in errors ("--size", "capacity").
/// A value outside `range` is an error naming the range ("at least 24 B and at most 16 MiB").
[[nodiscard]] IPCKIT_API Result<std::uint64_t> parse_size(std::string_view text, std::string_view what,
                                                          SizeRange range = {});

/// The accepted range of a duration. Infinity is accepted only when max is infinite.
struct DurationRange {
  Seconds min{0.0};  ///< smallest accepted value (see min_exclusive)
  bool min_exclusive = false;  ///< true: "above min" (a duration that must not be 0)
  Seconds max{std::numeric_limits<double>::infinity()};  ///< largest accepted value; infinite: inf is accepted
};

/// Parses a duration as described above; the result is >= 0, possibly infinite.
[[nodiscard]] IPCKIT_API Result<Seconds> parse_duration(std::string_view text, std::string_view what,
                                                        DurationRange range = {});

/// Parses a whole decimal number in [min, max] (a message count, a file descriptor, a repeat count).
[[nodiscard]] IPCKIT_API Result<std::uint64_t> parse_count(std::string_view text, std::string_view what,
                                                           std::uint64_t min = 0,
                                                           std::uint64_t max = std::numeric_limits<std::uint64_t>::max());

/// Durations at or above this (about 31.7 years) are "forever" for timeout_is_forever(): no steady
/// clock deadline that far away is reached by a process, and converting them to integer
/// nanoseconds would overflow.
inline constexpr Seconds kForeverThreshold{1e9};

/// True for inf and for durations >= kForeverThreshold: the caller waits without a deadline.
[[nodiscard]] constexpr bool timeout_is_forever(Seconds d) noexcept { return !(d < kForeverThreshold); }

/// now + d, or kNoDeadline when timeout_is_forever(d).
[[nodiscard]] inline Deadline deadline_for(Seconds d) {
  return timeout_is_forever(d) ? kNoDeadline : deadline_after(d);
}

/// "64 KiB", "1 MiB", "1000 B", "1 TiB": the largest binary unit that divides the value exactly;
/// otherwise, from 10 KiB up, the value in the largest unit it reaches with one decimal ("976.6 KiB").
/// Exact forms parse back with parse_size.
[[nodiscard]] IPCKIT_API std::string format_size(std::uint64_t bytes);

/// "250 ns", "1.5 us", "300 ms", "1.5 s", "2 min", "1.5 h", "forever" (inf or timeout_is_forever):
/// three significant digits at most, in the largest unit that keeps the number >= 1 (minutes from
/// 120 s, hours from 2 h). The text parses back with parse_duration.
[[nodiscard]] IPCKIT_API std::string format_duration(Seconds d);

}  // namespace ipckit
