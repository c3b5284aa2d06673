// SPDX-License-Identifier: Apache-2.0
// ScopedSignalHandler: installs a sigaction() handler only when the caller asks, restores the previous
// disposition when destroyed. ipckit itself never installs handlers or changes dispositions.
//
// SA_RESTART is a required choice (Restart::kYes/kNo), never a silent default: with kNo, slow system
// calls interrupted by the handler fail with EINTR (ipckit retries EINTR everywhere; your own code may
// not); with kYes the kernel restarts most of them (not all: see signal(7), "Interruption of system
// calls"). The handler always gets siginfo (SA_SIGINFO) so sigqueue payloads reach it.
// Only async-signal-safe work belongs in a handler: set a lock-free atomic or write(2) to a pipe.
// A process-wide setting: install and destroy from one thread, not concurrently with others doing so.
#pragma once

#include <signal.h>

#include "ipckit/core/result.hpp"
#include "ipckit/signal/signal_set.hpp"

namespace ipckit {

/// Whether a handler installs with SA_RESTART: kNo (interrupted slow calls fail with EINTR) or
/// kYes (the kernel restarts most of them).
enum class Restart { kNo, kYes };

/// An SA_SIGINFO signal handler: signal number, siginfo (with any sigqueue payload), ucontext.
using SignalHandlerFn = void (*)(int signo, siginfo_t* info, void* context);

/// A signal disposition installed for a scope: the previous one is restored on destruction. Install
/// and destroy from one thread (a process-wide setting; see signal_handler.hpp). Movable only by
/// construction, not assignable or copyable.
class IPCKIT_API ScopedSignalHandler {
 public:
  /// sigaction(signo) with \p handler, SA_SIGINFO, SA_RESTART per \p restart, and \p also_block blocked
  /// while the handler runs (signo itself is always blocked then). Errors: EINVAL (SIGKILL, SIGSTOP,
  /// or a number out of range).
  [[nodiscard]] static Result<ScopedSignalHandler> install(int signo, SignalHandlerFn handler, Restart restart,
                                                           const SignalSet& also_block = {});
  /// Sets SIG_IGN for the scope (e.g. SIGPIPE for a whole program). Errors: EINVAL as for install().
  [[nodiscard]] static Result<ScopedSignalHandler> ignore(int signo);

  /// Takes over the duty to restore; \p other then restores nothing.
  ScopedSignalHandler(ScopedSignalHandler&& other) noexcept;
  /// Not assignable.
  ScopedSignalHandler& operator=(ScopedSignalHandler&&) = delete;
  /// Not copyable.
  ScopedSignalHandler(const ScopedSignalHandler&) = delete;
  /// Not copyable.
  ScopedSignalHandler& operator=(const ScopedSignalHandler&) = delete;
  /// Restores the previous action.
  ~ScopedSignalHandler();

  /// The signal this object installed for.
  [[nodiscard]] int signo() const noexcept { return signo_; }

 private:
  ScopedSignalHandler(int signo, const struct sigaction& old) noexcept : signo_(signo), old_(old) {}
  int signo_ = 0;
  struct sigaction old_;
  bool active_ = true;
};

/// Whether \p signo's current action has SA_RESTART (one sigaction() query).
[[nodiscard]] IPCKIT_API Result<bool> restarts_syscalls(int signo);

}  // namespace ipckit
