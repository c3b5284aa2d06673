// SPDX-License-Identifier: Apache-2.0
/// @file
/// The one place that retries a system call interrupted by a signal (EINTR).
///
/// Two shapes of call exist, so there are two helpers (as folly's wrapNoInt):
///   - calls that return -1 and set errno (open, ftruncate, fcntl, mq_open, ...): no_eintr();
///   - calls that return the error number itself (posix_fallocate, pthread_*): no_eintr_rc().
/// Both retry without bound: EINTR means "a signal arrived", never "give up". Calls whose EINTR means
/// something else (close(), which must not be retried on Linux; the timed waits, whose deadline must be
/// re-read) do not use them.
#pragma once

#include <cerrno>
#include <utility>

namespace ipckit {

/// Calls f(args...) until it does not fail with EINTR; returns its last result with errno as the
/// call left it. `f` returns -1 (or another value equal to -1, such as mqd_t) on failure.
/// @code
///   const int fd = no_eintr(::open, path, O_RDONLY | O_CLOEXEC);
/// @endcode
template <class F, class... Args>
auto no_eintr(F&& f, Args&&... args) -> decltype(f(args...)) {
  for (;;) {
    auto rc = f(args...);
    if (!(rc == -1 && errno == EINTR)) return rc;
  }
}

/// Calls f(args...) until it returns something other than EINTR; for calls that return 0 or an
/// error number and leave errno alone.
/// @code
///   const int rc = no_eintr_rc(::posix_fallocate, fd, 0, size);
/// @endcode
template <class F, class... Args>
int no_eintr_rc(F&& f, Args&&... args) {
  for (;;) {
    const int rc = f(args...);
    if (rc != EINTR) return rc;
  }
}

}  // namespace ipckit
