// SPDX-License-Identifier: Apache-2.0
#include "ipckit/signal/signal_handler.hpp"

#include <cerrno>

namespace ipckit {

Result<ScopedSignalHandler> ScopedSignalHandler::install(int signo, SignalHandlerFn handler, Restart restart,
                                                         const SignalSet& also_block) {
  struct sigaction sa{};
  sa.sa_sigaction = handler;
  sa.sa_mask = also_block.native();
  sa.sa_flags = SA_SIGINFO | (restart == Restart::kYes ? SA_RESTART : 0);
  struct sigaction old{};
  if (::sigaction(signo, &sa, &old) != 0) return last_errno().fail("sigaction", signal_name(signo));
  return ScopedSignalHandler(signo, old);
}

Result<ScopedSignalHandler> ScopedSignalHandler::ignore(int signo) {
  struct sigaction sa{};
  sa.sa_handler = SIG_IGN;
  ::sigemptyset(&sa.sa_mask);
  struct sigaction old{};
  if (::sigaction(signo, &sa, &old) != 0) return last_errno().fail("sigaction", signal_name(signo));
  return ScopedSignalHandler(signo, old);
}

ScopedSignalHandler::ScopedSignalHandler(ScopedSignalHandler&& other) noexcept
    : signo_(other.signo_), old_(other.old_) {
  other.active_ = false;
}

ScopedSignalHandler::~ScopedSignalHandler() {
  if (active_) (void)::sigaction(signo_, &old_, nullptr);
}

Result<bool> restarts_syscalls(int signo) {
  struct sigaction cur{};
  if (::sigaction(signo, nullptr, &cur) != 0) return last_errno().fail("sigaction", signal_name(signo));
  return (cur.sa_flags & SA_RESTART) != 0;
}

}  // namespace ipckit
