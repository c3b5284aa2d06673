// SPDX-License-Identifier: Apache-2.0
// Sending signals: kill(2) and sigqueue(3) with an int or pointer-sized payload.
//
// A payload travels intact in siginfo_t::si_value (handlers) or signalfd_siginfo::ssi_int/ssi_ptr
// (SignalFd). The pointer-sized form carries a std::uintptr_t: a number, not a pointer another process
// could dereference (address spaces differ) — an offset into shared memory, an index, a token.
// Real-time signals (SIGRTMIN..SIGRTMAX) queue: N sent while blocked are N delivered, in order, each
// with its payload. Standard signals (SIGUSR1, ...) do not: N sent while blocked arrive once, and a
// queued payload may be lost. Use real-time signals for data.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// kill(pid, signo). Errors: ESRCH (no such process), EPERM, EINVAL.
[[nodiscard]] IPCKIT_API Result<void> send_signal(pid_t pid, int signo);
/// sigqueue with si_value.sival_int = value. Errors: EAGAIN (the receiver's RLIMIT_SIGPENDING queue is
/// full; the hint names the limit), ESRCH, EPERM, EINVAL.
[[nodiscard]] IPCKIT_API Result<void> queue_signal(pid_t pid, int signo, int value);
/// sigqueue with si_value.sival_ptr = value (all pointer-size bits). Errors as above.
[[nodiscard]] IPCKIT_API Result<void> queue_signal_ptr(pid_t pid, int signo, std::uintptr_t value);

}  // namespace ipckit
