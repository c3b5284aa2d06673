// SPDX-License-Identifier: Apache-2.0
// Private helpers shared by the message layer: how the three forms of a blocking verb (blocking,
// try_, _until) map onto one attempt loop.
#pragma once

#include <cerrno>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit::detail {

// Which form of a verb is running.
enum class WaitMode {
  kBlock,  // wait without limit
  kTry,    // one attempt, never wait: "would block" is the answer when it cannot complete now
  kUntil,  // wait until a steady-clock deadline: "timed out" when it passes first
};

// Runs `attempt(dontwait)` until it completes. `attempt` returns the syscall's result (>= 0 done,
// -1 with errno set). Each attempt is non-blocking unless the mode is kBlock, so deadlines are kept
// with poll() on `fd` for `events` between attempts; EINTR is retried. On success `done(rc)` builds
// the result; would-block and timeout become `status_value(IoStatus)`.
template <class Attempt, class Done, class Status, class OnError>
auto socket_retry(int fd, short events, WaitMode mode, Deadline deadline, Attempt attempt, Done done,
                  Status status_value, OnError on_error) -> decltype(done(0L)) {
  for (;;) {
    const long rc = attempt(mode != WaitMode::kBlock);
    if (rc >= 0) return done(rc);
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) return on_error(err);
    if (mode == WaitMode::kTry) return status_value(IoStatus::kWouldBlock);
    // A non-blocking descriptor in kBlock mode, or kUntil: wait for readiness, then try again.
    auto ready = poll_one(fd, events, mode == WaitMode::kBlock ? kNoDeadline : deadline);
    if (!ready) return fail(std::move(ready.error()));
    if (*ready == 0) return status_value(IoStatus::kTimedOut);
  }
}

}  // namespace ipckit::detail
