// SPDX-License-Identifier: Apache-2.0
#include "ipckit/signal/signal_mask.hpp"

#include <pthread.h>

namespace ipckit {

Result<ScopedSignalMask> ScopedSignalMask::block(const SignalSet& signals) {
  sigset_t old;
  // pthread_sigmask, not sigprocmask: the mask is per thread and this is what restores it.
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &signals.native(), &old); rc != 0) {
    return fail_errno(rc, "pthread_sigmask(SIG_BLOCK)", "");
  }
  return ScopedSignalMask(old);
}

Result<ScopedSignalMask> ScopedSignalMask::unblock(const SignalSet& signals) {
  sigset_t old;
  if (const int rc = ::pthread_sigmask(SIG_UNBLOCK, &signals.native(), &old); rc != 0) {
    return fail_errno(rc, "pthread_sigmask(SIG_UNBLOCK)", "");
  }
  return ScopedSignalMask(old);
}

ScopedSignalMask::ScopedSignalMask(ScopedSignalMask&& other) noexcept : old_(other.old_) { other.active_ = false; }

ScopedSignalMask::~ScopedSignalMask() {
  if (active_) (void)::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

SignalSet blocked_signals() noexcept {
  SignalSet s;
  (void)::pthread_sigmask(SIG_BLOCK, nullptr, &s.native());
  return s;
}

}  // namespace ipckit
