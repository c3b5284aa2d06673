// SPDX-License-Identifier: Apache-2.0
// RouDi, iceoryx's broker daemon, for the iceoryx peer of `ipckit bench`.
//
// iceoryx applications only run while a RouDi serves them. If one is already running on this machine
// (its lock /tmp/iox-unique-roudi.lock is held) the bench reuses it and never stops it. Otherwise the
// bench starts a private one (`iox-roudi -c <config>` with mempools sized for the bench's frames,
// 64 B .. 1 MiB), in its own process group so a terminal's Ctrl-C reaches only the bench, with
// PR_SET_PDEATHSIG so it ends with the bench even if the bench is killed, and stops it (SIGTERM, then
// SIGKILL and removal of its segments) when the bench run ends, on every exit path including Ctrl-C.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "ipckit/core/result.hpp"

namespace ipckit::bench {

class RouDiDaemon {
 public:
  // The largest frame the private RouDi's mempools hold.
  static constexpr std::size_t kMaxChunk = std::size_t{1} << 20;

  // Parent only. Blocks until a RouDi serves clients: reuses a running one, or starts a private one
  // and waits (at most 10 s, and not past a bench stop request) for its "ready" line. Not thread-safe.
  [[nodiscard]] static Result<void> ensure();
  // Parent only. Stops the private RouDi if this process started one (blocks up to ~5 s), removes its
  // config and log files; a reused RouDi is left alone. Idempotent, never fails.
  static void release() noexcept;
  // Whether a RouDi other than ours holds the lock now.
  [[nodiscard]] static bool external_running() noexcept;
  // The pid of the private RouDi, or -1 (tests).
  [[nodiscard]] static pid_t private_pid() noexcept;
  // Why RouDi cannot be started here ("iox-roudi not found in PATH ..."), or empty.
  [[nodiscard]] static std::string unavailable_reason();
};

}  // namespace ipckit::bench
