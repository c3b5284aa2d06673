// SPDX-License-Identifier: Apache-2.0
/// @file
/// Process identity and liveness checks for crash detection.
///
/// A pid alone cannot tell whether a peer is alive: pids are reused. A ProcessIdentity adds the
/// process start time (from /proc/PID/stat, in clock ticks since boot) and the inode of the pid
/// namespace the pid was read in. A peer is alive only if a process with that pid exists *and* has the
/// same start time. If the peer's pid namespace differs from ours its pid means nothing here, so the
/// answer is kUnknown and nothing may be reclaimed on that guess.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Who a process is, in a form that survives pid reuse: pid, start time and pid namespace.
///
/// Standard layout with fixed-width fields: it is stored in shared memory.
struct ProcessIdentity {
  std::int64_t pid = 0;  ///< the pid as seen in the namespace pid_ns
  std::uint64_t start_time = 0;  ///< field 22 of /proc/PID/stat
  std::uint64_t pid_ns = 0;      ///< st_ino of /proc/self/ns/pid of the process that recorded it

  /// Field-wise equality: the same process recorded in the same namespace.
  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

/// The answer of liveness(): kAlive (it runs), kDead (it exited, or its pid now names another process) or
/// kUnknown (another pid namespace, or /proc could not tell: nothing may be reclaimed on that guess).
enum class Liveness { kAlive, kDead, kUnknown };

/// The value as text ("alive", "dead", "unknown").
[[nodiscard]] IPCKIT_API const char* to_string(Liveness liveness) noexcept;

/// This process's identity. Computed on every call (it changes after fork()).
[[nodiscard]] IPCKIT_API Result<ProcessIdentity> self_identity();

/// The identity of process `pid` as seen from this process's pid namespace.
/// Errors: the open() of /proc/PID/stat (ENOENT: no such process), kProtocol when it cannot be parsed.
[[nodiscard]] IPCKIT_API Result<ProcessIdentity> identity_of(pid_t pid);

/// The pid namespace inode of this process.
/// Errors: the stat() of /proc/self/ns/pid.
[[nodiscard]] IPCKIT_API Result<std::uint64_t> current_pid_namespace();

/// Whether the process recorded in `who` still runs. A zombie (exited, not yet reaped) counts as
/// dead: it will never touch shared memory again.
/// kUnknown when `who` was recorded in another pid namespace or /proc cannot be read. Never blocks.
[[nodiscard]] IPCKIT_API Liveness liveness(const ProcessIdentity& who) noexcept;

}  // namespace ipckit
