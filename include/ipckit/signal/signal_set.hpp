// SPDX-License-Identifier: Apache-2.0
// SignalSet: a sigset_t built from a list of signal numbers, and helpers for real-time signals.
#pragma once

#include <signal.h>

#include <initializer_list>
#include <string>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// A sigset_t built from a list of signal numbers.
class IPCKIT_API SignalSet {
 public:
  /// The empty set.
  SignalSet() noexcept { ::sigemptyset(&set_); }
  /// The set of \p signals. Signal numbers outside 1.._NSIG-1 are ignored by sigaddset; use
  /// validate_signal() first when they come from users.
  SignalSet(std::initializer_list<int> signals) noexcept;
  /// Every signal (sigfillset).
  static SignalSet all() noexcept;

  /// Adds \p signo (ignored when out of range); returns this set.
  SignalSet& add(int signo) noexcept;
  /// Removes \p signo (ignored when out of range); returns this set.
  SignalSet& remove(int signo) noexcept;
  /// Whether \p signo is in the set (false when out of range).
  [[nodiscard]] bool contains(int signo) const noexcept { return ::sigismember(&set_, signo) == 1; }
  /// Whether the set has no signal.
  [[nodiscard]] bool empty() const noexcept { return ::sigisemptyset(&set_) == 1; }
  /// The underlying sigset_t.
  [[nodiscard]] const sigset_t& native() const noexcept { return set_; }
  /// The underlying sigset_t, for the sigset functions.
  [[nodiscard]] sigset_t& native() noexcept { return set_; }

 private:
  sigset_t set_;
};

/// SIGRTMIN + n, checked against SIGRTMAX. Use these rather than fixed numbers: glibc reserves the
/// first few real-time signals for itself, so SIGRTMIN is a run-time value.
/// Errors: invalid argument (`n < 0` or `SIGRTMIN + n > SIGRTMAX`).
[[nodiscard]] IPCKIT_API Result<int> realtime_signal(int n);

/// The name of \p signo: "SIGUSR1", "SIGRTMIN+3", "signal 99".
[[nodiscard]] IPCKIT_API std::string signal_name(int signo);

/// The signals pending for this thread or process (sigpending): sent while blocked, not yet taken.
[[nodiscard]] IPCKIT_API SignalSet pending_signals() noexcept;

}  // namespace ipckit
