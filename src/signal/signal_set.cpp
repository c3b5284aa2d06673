// SPDX-License-Identifier: Apache-2.0
#include "ipckit/signal/signal_set.hpp"

#include <cstring>

#include <fmt/format.h>

namespace ipckit {

SignalSet::SignalSet(std::initializer_list<int> signals) noexcept {
  ::sigemptyset(&set_);
  for (int s : signals) ::sigaddset(&set_, s);
}

SignalSet SignalSet::all() noexcept {
  SignalSet s;
  ::sigfillset(&s.set_);
  return s;
}

SignalSet& SignalSet::add(int signo) noexcept {
  ::sigaddset(&set_, signo);
  return *this;
}

SignalSet& SignalSet::remove(int signo) noexcept {
  ::sigdelset(&set_, signo);
  return *this;
}

Result<int> realtime_signal(int n) {
  if (n < 0 || n > SIGRTMAX - SIGRTMIN) {
    return fail_library(LibraryCode::kInvalidArgument, "realtime_signal", fmt::format("SIGRTMIN+{}", n),
                        fmt::format("real-time signals here are SIGRTMIN+0..SIGRTMIN+{} ({}..{})",
                                    SIGRTMAX - SIGRTMIN, SIGRTMIN, SIGRTMAX));
  }
  return SIGRTMIN + n;
}

std::string signal_name(int signo) {
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return fmt::format("SIGRTMIN+{}", signo - SIGRTMIN);
  const char* abbrev = ::sigabbrev_np(signo);
  if (abbrev != nullptr) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", signo);
}

SignalSet pending_signals() noexcept {
  SignalSet s;
  ::sigpending(&s.native());
  return s;
}

}  // namespace ipckit
