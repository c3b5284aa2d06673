// SPDX-License-Identifier: Apache-2.0
// SignalSet: a sigset_t built from a list of signal numbers, and helpers for real-time signals.
#pragma once

#include <signal.h>

#include <initializer_list>
#include <string>

#include "ipckit/core/result.hpp"

namespace ipckit {

class IPCKIT_API SignalSet {
 public:
  SignalSet() noexcept { ::sigemptyset(&set_); }
  // Signal numbers outside 1.._NSIG-1 are ignored by sigaddset; use validate_signal() first when they
  // come from users.
  SignalSet(std::initializer_list<int> signals) noexcept;
  static SignalSet all() noexcept;

  SignalSet& add(int signo) noexcept;
  SignalSet& remove(int signo) noexcept;
  [[nodiscard]] bool contains(int signo) const noexcept { return ::sigismember(&set_, signo) == 1; }
  [[nodiscard]] bool empty() const noexcept { return ::sigisemptyset(&set_) == 1; }
  [[nodiscard]] const sigset_t& native() const noexcept { return set_; }
  [[nodiscard]] sigset_t& native() noexcept { return set_; }

 private:
  sigset_t set_;
};

// SIGRTMIN + n, checked against SIGRTMAX. Use these rather than fixed numbers: glibc reserves the
// first few real-time signals for itself, so SIGRTMIN is a run-time value.
// Errors: invalid argument (n < 0 or SIGRTMIN + n > SIGRTMAX).
[[nodiscard]] IPCKIT_API Result<int> realtime_signal(int n);

// "SIGUSR1", "SIGRTMIN+3", "signal 99".
[[nodiscard]] IPCKIT_API std::string signal_name(int signo);

// The signals pending for this thread or process (sigpending): sent while blocked, not yet taken.
[[nodiscard]] IPCKIT_API SignalSet pending_signals() noexcept;

}  // namespace ipckit
