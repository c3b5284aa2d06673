// SPDX-License-Identifier: Apache-2.0
// Process identity and liveness checks for crash detection.
//
// A pid alone cannot tell whether a peer is alive: pids are reused. A ProcessIdentity adds the
// process start time (from /proc/PID/stat, in clock ticks since boot) and the inode of the pid
// namespace the pid was read in. A peer is alive only if a process with that pid exists *and* has the
// same start time. If the peer's pid namespace differs from ours its pid means nothing here, so the
// answer is kUnknown and nothing may be reclaimed on that guess.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "ipckit/core/result.hpp"

namespace ipckit {

// Standard layout with fixed-width fields: it is stored in shared memory.
struct ProcessIdentity {
  std::int64_t pid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/PID/stat
  std::uint64_t pid_ns = 0;      // st_ino of /proc/self/ns/pid of the process that recorded it

  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

enum class Liveness { kAlive, kDead, kUnknown };

[[nodiscard]] IPCKIT_API const char* to_string(Liveness liveness) noexcept;

// This process's identity. Computed on every call (it changes after fork()).
[[nodiscard]] IPCKIT_API Result<ProcessIdentity> self_identity();

// The identity of process `pid` as seen from this process's pid namespace.
[[nodiscard]] IPCKIT_API Result<ProcessIdentity> identity_of(pid_t pid);

// The pid namespace inode of this process.
[[nodiscard]] IPCKIT_API Result<std::uint64_t> current_pid_namespace();

// Whether the process recorded in `who` still runs. A zombie (exited, not yet reaped) counts as
// dead: it will never touch shared memory again.
[[nodiscard]] IPCKIT_API Liveness liveness(const ProcessIdentity& who) noexcept;

}  // namespace ipckit
