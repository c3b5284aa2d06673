// SPDX-License-Identifier: Apache-2.0
// ScopedSignalMask: blocks signals in the calling thread for a scope, then restores the previous mask.
//
// Blocking is the first step of reading signals as data (SignalFd) and of sending to oneself without
// a handler running. Masks are per thread: block signals before creating threads (they inherit it),
// or the kernel may deliver a process-directed signal to another thread that has it unblocked.
// Must be destroyed on the thread that created it (it restores that thread's mask); not movable.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/signal/signal_set.hpp"

namespace ipckit {

/// A change to the calling thread's signal mask for a scope; the previous mask is restored on
/// destruction, which must happen on the thread that created it (see signal_mask.hpp).
class IPCKIT_API ScopedSignalMask {
 public:
  /// Adds \p signals to this thread's blocked set (pthread_sigmask SIG_BLOCK). Never blocks.
  /// Errors: EINVAL only for a bad `how`, i.e. never in practice; SIGKILL/SIGSTOP are silently not
  /// blocked (the kernel refuses them).
  [[nodiscard]] static Result<ScopedSignalMask> block(const SignalSet& signals);
  /// Removes \p signals from the blocked set for the scope (SIG_UNBLOCK): pending ones are delivered.
  [[nodiscard]] static Result<ScopedSignalMask> unblock(const SignalSet& signals);

  /// Takes over the duty to restore; \p other then restores nothing. Keep the result on the same
  /// thread.
  ScopedSignalMask(ScopedSignalMask&& other) noexcept;
  /// Not assignable.
  ScopedSignalMask& operator=(ScopedSignalMask&&) = delete;
  /// Not copyable.
  ScopedSignalMask(const ScopedSignalMask&) = delete;
  /// Not copyable.
  ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;
  /// Restores the mask saved at construction.
  ~ScopedSignalMask();

  /// The mask saved at construction (restored by the destructor).
  [[nodiscard]] const sigset_t& previous() const noexcept { return old_; }

 private:
  explicit ScopedSignalMask(const sigset_t& old) noexcept : old_(old) {}
  sigset_t old_;
  bool active_ = true;
};

/// This thread's blocked set now.
[[nodiscard]] IPCKIT_API SignalSet blocked_signals() noexcept;

}  // namespace ipckit
