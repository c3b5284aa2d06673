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

enum class Restart { kNo, kYes };

using SignalHandlerFn = void (*)(int signo, siginfo_t* info, void* context);

class IPCKIT_API ScopedSignalHandler {
 public:
  // sigaction(signo) with `handler`, SA_SIGINFO, SA_RESTART per `restart`, and `also_block` blocked
  // while the handler runs (signo itself is always blocked then). Errors: EINVAL (SIGKILL, SIGSTOP,
  // or a number out of range).
  [[nodiscard]] static Result<ScopedSignalHandler> install(int signo, SignalHandlerFn handler, Restart restart,
                                                           const SignalSet& also_block = {});
  // Sets SIG_IGN for the scope (e.g. SIGPIPE for a whole program).
  [[nodiscard]] static Result<ScopedSignalHandler> ignore(int signo);

  ScopedSignalHandler(ScopedSignalHandler&& other) noexcept;
  ScopedSignalHandler& operator=(ScopedSignalHandler&&) = delete;
  ScopedSignalHandler(const ScopedSignalHandler&) = delete;
  ScopedSignalHandler& operator=(const ScopedSignalHandler&) = delete;
  // Restores the previous action.
  ~ScopedSignalHandler();

  [[nodiscard]] int signo() const noexcept { return signo_; }

 private:
  ScopedSignalHandler(int signo, const struct sigaction& old) noexcept : signo_(signo), old_(old) {}
  int signo_ = 0;
  struct sigaction old_;
  bool active_ = true;
};

// Whether `signo`'s current action has SA_RESTART (one sigaction() query).
[[nodiscard]] IPCKIT_API Result<bool> restarts_syscalls(int signo);

}  // namespace ipckit
