// SPDX-License-Identifier: Apache-2.0
// SignalFd: signals read as data from a descriptor (signalfd(2)), waitable with poll/epoll.
//
// The signals must be blocked in every thread (ScopedSignalMask before creating threads), otherwise
// the kernel delivers them the normal way (default action or handler) instead of queueing them for
// the descriptor; create() checks the calling thread's mask and fails with a hint if they are not.
// The descriptor is O_NONBLOCK|O_CLOEXEC; the blocking forms wait with poll(). After fork() the child
// reads its own pending signals through the inherited descriptor. Thread-safe: each read is one
// syscall returning whole records.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/signal/signal_set.hpp"

namespace ipckit {

/// One signal taken from a SignalFd (the fields of signalfd_siginfo).
struct SignalInfo {
  int signo = 0;             ///< the signal number
  int code = 0;              ///< si_code: SI_USER (kill), SI_QUEUE (sigqueue), SI_KERNEL, ...
  pid_t sender_pid = 0;      ///< the sender's process id (for SIGCHLD: the child's)
  uid_t sender_uid = 0;      ///< the sender's real user id
  std::int32_t int_value = 0;  ///< sigqueue payload as int
  std::uint64_t ptr_value = 0; ///< sigqueue payload as pointer-sized value
  int status = 0;            ///< SIGCHLD: exit status or signal
};

/// Signals read as data from a signalfd(2) descriptor, waitable with poll/epoll (see
/// signal_fd.hpp: the signals must be blocked in every thread). Owns the descriptor; movable, not
/// copyable. Thread-safe: each read is one syscall returning whole records.
class IPCKIT_API SignalFd {
 public:
  /// No descriptor.
  SignalFd() noexcept = default;

  /// A signalfd for \p signals (O_NONBLOCK, O_CLOEXEC). Not blocking. Errors: invalid argument (a
  /// signal in \p signals is not blocked in this thread; the hint names it), EMFILE, EINVAL.
  [[nodiscard]] static Result<SignalFd> create(const SignalSet& signals);

  /// Blocks until a signal is pending; takes it.
  [[nodiscard]] Result<SignalInfo> read();
  /// Never blocks: the signal, or none with kWouldBlock when none is pending.
  [[nodiscard]] Result<Attempt<SignalInfo>> try_read();
  /// Waits until a signal is pending and takes it; none with kTimedOut when \p deadline passes first.
  [[nodiscard]] Result<Attempt<SignalInfo>> read_until(Deadline deadline);
  /// read_until() with a deadline \p d from now.
  template <class Rep, class Period>
  [[nodiscard]] Result<Attempt<SignalInfo>> read_for(std::chrono::duration<Rep, Period> d) {
    return read_until(deadline_after(d));
  }

  /// Readable while one of the signals is pending (for poll/epoll). Owned by this object.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// The signals this descriptor reads.
  [[nodiscard]] const SignalSet& signals() const noexcept { return signals_; }

 private:
  SignalFd(UniqueFd fd, const SignalSet& signals) noexcept : fd_(std::move(fd)), signals_(signals) {}
  UniqueFd fd_;
  SignalSet signals_;
};

}  // namespace ipckit
