// SPDX-License-Identifier: Apache-2.0
#include "ipckit/signal/signal_fd.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/signal/signal_mask.hpp"

namespace ipckit {
namespace {

std::string object_of(int fd) { return fmt::format("signalfd {}", fd_object(fd)); }

}  // namespace

Result<SignalFd> SignalFd::create(const SignalSet& signals) {
  // An unblocked signal is delivered the normal way and never shows up on the descriptor: a silent
  // failure worth reporting up front.
  const SignalSet blocked = blocked_signals();
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    if (signals.contains(s) && !blocked.contains(s)) {
      return fail_library(LibraryCode::kInvalidArgument, "signalfd", signal_name(s),
                          "the signal is not blocked in this thread: block it with ScopedSignalMask (in every "
                          "thread) before creating the SignalFd, or it is delivered normally instead");
    }
  }
  const int fd = ::signalfd(-1, &signals.native(), SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return last_errno().fail("signalfd", "");
  return SignalFd(UniqueFd(fd), signals);
}

Result<Attempt<SignalInfo>> SignalFd::try_read() {
  signalfd_siginfo si{};
  const ssize_t n = no_eintr(::read, fd_.get(), &si, sizeof si);
  if (n < 0) {
    if (errno == EAGAIN) return Attempt<SignalInfo>::none(IoStatus::kWouldBlock);
    return last_errno().fail("read", object_of(fd_.get()));
  }
  if (n != static_cast<ssize_t>(sizeof si)) {
    return fail_library(LibraryCode::kTruncated, "read", object_of(fd_.get()),
                        fmt::format("{} bytes, expected {}", n, sizeof si));
  }
  SignalInfo info;
  info.signo = static_cast<int>(si.ssi_signo);
  info.code = si.ssi_code;
  info.sender_pid = static_cast<pid_t>(si.ssi_pid);
  info.sender_uid = static_cast<uid_t>(si.ssi_uid);
  info.int_value = si.ssi_int;
  info.ptr_value = si.ssi_ptr;
  info.status = si.ssi_status;
  return Attempt<SignalInfo>(info);
}

Result<Attempt<SignalInfo>> SignalFd::read_until(Deadline deadline) {
  for (;;) {
    auto r = try_read();
    if (!r || r->has_value()) return r;
    auto ready = wait_readable(fd_.get(), deadline);
    if (!ready) return fail(ready.error());
    if (*ready == IoStatus::kTimedOut) return Attempt<SignalInfo>::none(IoStatus::kTimedOut);
  }
}

Result<SignalInfo> SignalFd::read() {
  auto r = read_until(kNoDeadline);
  if (!r) return fail(r.error());
  return **r;
}

}  // namespace ipckit
