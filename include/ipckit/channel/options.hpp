// SPDX-License-Identifier: Apache-2.0
/// @file
/// Options, wait strategies, outcomes and counters shared by every channel endpoint.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// How an endpoint waits when the ring is full (producer) or empty (consumer).
enum class WaitStrategy : std::uint32_t {
  kBusyPoll = 0,       ///< spin on the shared word; lowest latency, burns a CPU. Never sleeps.
  kSpinThenFutex = 1,  ///< spin `spin_iterations`, then sleep on a futex (woken by the peer)
  kBlocking = 2,       ///< sleep on a futex at once (lowest CPU, highest latency)
};

/// The strategy's name ("busy-poll", "spin-then-futex", "blocking"; "unknown" for any other value).
[[nodiscard]] IPCKIT_API const char* to_string(WaitStrategy strategy) noexcept;

/// Options of one channel endpoint (SPSC, MPMC; BroadcastOptions embeds one).
struct ChannelOptions {
  /// Ring bytes, creation only (ignored when opening an existing channel): a power of two, at
  /// least 2 x record_size(max_message).
  std::size_t capacity = std::size_t{1} << 20;
  /// Largest payload in bytes, creation only.
  std::size_t max_message = std::size_t{64} << 10;
  /// Permissions of the shared-memory objects at creation; when opening an existing channel, the
  /// widest mode accepted (an object found with more permission bits is refused: kUntrusted).
  mode_t mode = kDefaultMode;
  /// Owners trusted besides this process's effective uid when opening an existing channel (its
  /// data object, `.ctl` and subscriber records): an object of any other owner is refused with
  /// kUntrusted naming the owner and the mode, never used (core/ownership.hpp).
  TrustPolicy trust{};
  /// How long an opener waits for a creator that has not yet set the ready flag.
  std::chrono::milliseconds open_timeout{1000};
  /// How this endpoint waits.
  WaitStrategy wait = WaitStrategy::kSpinThenFutex;
  /// Spins before sleeping, for WaitStrategy::kSpinThenFutex.
  std::uint32_t spin_iterations = 4096;
  /// How often a waiting endpoint re-checks that its peer still lives (futex waits time out this
  /// often; busy-polling reads the clock every few hundred spins). Bounds how long anyone waits on
  /// a dead peer. Each check wakes a sleeping endpoint: 1 s keeps an idle blocking receiver well
  /// under 1 ms of CPU per 10 s (docs/channel.md has the measured figure); lower it for faster
  /// death detection.
  std::chrono::milliseconds liveness_interval{1000};
};

/// Expected outcomes of send/receive: values, never Errors.
enum class ChannelStatus : std::uint8_t {
  kOk,          ///< the operation succeeded
  kWouldBlock,  ///< try_*: ring full (send) or empty (receive)
  kTimedOut,     ///< *_until: the deadline passed
  kPeerClosed,  ///< the peer closed in order: empty ring and no producer (receive), or full ring and
                ///< no consumer (send)
  kPeerDied,    ///< the peer was found dead (its liveness token released) with nothing left to do
  /// Deprecated: kTimedOut's name before 0.2 (one timeout name in every layer now); to be removed in 1.0.
  kTimeout [[deprecated("ChannelStatus::kTimeout is now kTimedOut")]] = kTimedOut,
};

/// The status's name ("ok", "would block", "timed out", "peer closed", "peer died"; "unknown"
/// for any other value).
[[nodiscard]] IPCKIT_API const char* to_string(ChannelStatus status) noexcept;

/// Counters of one channel, read from the shared header (each is a relaxed snapshot; the set is not
/// atomic as a whole).
struct ChannelCounters {
  std::uint64_t sent = 0;         ///< records published by producers
  std::uint64_t received = 0;     ///< records released by consumers
  std::uint64_t full_waits = 0;   ///< sends that found the ring full and waited
  std::uint64_t empty_waits = 0;  ///< receives that found the ring empty and waited
  std::uint64_t futex_wakes = 0;  ///< FUTEX_WAKE syscalls made (both sides) + epoll notifications
  std::uint64_t redelivered = 0;  ///< records handed to a consumer a second time after a crash
  std::uint64_t reclaimed = 0;    ///< roles taken over from dead holders
  std::uint64_t skipped = 0;      ///< MPMC: slots abandoned by a producer that died (or closed) mid-write
};

}  // namespace ipckit
