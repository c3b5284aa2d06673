// SPDX-License-Identifier: Apache-2.0
#include "ipckit/signal/send.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <cerrno>

#include <fmt/format.h>

#include "ipckit/signal/signal_set.hpp"

namespace ipckit {
namespace {

std::string target(pid_t pid, int signo) { return fmt::format("pid {}, {}", pid, signal_name(signo)); }

std::string queue_hint(int err) {
  if (err != EAGAIN) return {};
  rlimit rl{};
  if (::getrlimit(RLIMIT_SIGPENDING, &rl) != 0) return "the receiver's queue of pending signals is full";
  return fmt::format("the queue of pending signals is full: RLIMIT_SIGPENDING ({}, ulimit -i) per user",
                     rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur));
}

Result<void> queue(pid_t pid, int signo, sigval value) {
  if (::sigqueue(pid, signo, value) != 0) {
    const int err = errno;
    return fail_errno(err, "sigqueue", target(pid, signo), queue_hint(err));
  }
  return {};
}

}  // namespace

Result<void> send_signal(pid_t pid, int signo) {
  if (::kill(pid, signo) != 0) return last_errno().fail("kill", target(pid, signo));
  return {};
}

Result<void> queue_signal(pid_t pid, int signo, int value) {
  sigval v{};
  v.sival_int = value;
  return queue(pid, signo, v);
}

Result<void> queue_signal_ptr(pid_t pid, int signo, std::uintptr_t value) {
  sigval v{};
  // sival_ptr is as wide as a pointer, so every bit of the uintptr_t travels; it is never dereferenced.
  v.sival_ptr = reinterpret_cast<void*>(value);
  return queue(pid, signo, v);
}

}  // namespace ipckit
