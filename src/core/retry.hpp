// SPDX-License-Identifier: Apache-2.0
// The one retry loop for system calls on descriptors, shared by every layer (private to the library).
//
// Two helpers, one built on the other:
//   - retry_call(): one call (a read, a send, a recvmsg, an accept) retried through EINTR, and through
//     EAGAIN by waiting for readiness with poll() as the wait mode says. Used directly for message
//     sockets, where one successful call is one whole message (socket_retry() wraps it).
//   - transfer(): a byte transfer built from retry_call(), with a count carried between calls:
//     "all" transfers loop until every byte moved, end of stream (read 0) and a write that accepts
//     nothing (write 0) end it. Used by core/io.cpp and the stream layer.
// EINTR is never an outcome: a signal means "try again", and the deadline, being absolute, is kept.
#pragma once

#include <poll.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

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

// The form that a (wait, deadline) pair names: no wait is kTry, a wait without deadline kBlock.
inline WaitMode wait_mode(bool wait, Deadline deadline) noexcept {
  if (!wait) return WaitMode::kTry;
  return deadline == kNoDeadline ? WaitMode::kBlock : WaitMode::kUntil;
}

inline bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

// What one call came to once EINTR, would-block and readiness waits were dealt with: exactly one of
// a result (rc >= 0), a status (kWouldBlock, kTimedOut), or an errno that is not retried.
struct CallOutcome {
  long rc = -1;
  IoStatus status = IoStatus::kOk;
  int err = 0;
  [[nodiscard]] bool succeeded() const noexcept { return rc >= 0; }
};

// Runs `call(dontwait)` (a syscall: >= 0 done, -1 with errno set) until it succeeds or fails for a
// reason other than EINTR or EAGAIN. `dontwait` is true unless the mode is kBlock, so a socket can
// pass MSG_DONTWAIT and keep the deadline with poll() between calls. On EAGAIN: kTry answers
// kWouldBlock; kBlock (a non-blocking descriptor) and kUntil poll `fd` for `events` and call again.
// `poll_first` waits for readiness before the first call too: for descriptors that may be blocking,
// where a call made before readiness could outlast the deadline.
template <class Call>
Result<CallOutcome> retry_call(int fd, short events, WaitMode mode, Deadline deadline, Call&& call,
                               bool poll_first = false) {
  bool need_poll = poll_first && mode != WaitMode::kTry;
  for (;;) {
    if (need_poll) {
      auto ready = poll_one(fd, events, mode == WaitMode::kBlock ? kNoDeadline : deadline);
      if (!ready) return fail(std::move(ready.error()));
      if (*ready == 0) return CallOutcome{-1, IoStatus::kTimedOut, 0};
    }
    const long rc = call(mode != WaitMode::kBlock);
    if (rc >= 0) return CallOutcome{rc, IoStatus::kOk, 0};
    const int err = errno;
    if (err == EINTR) {
      need_poll = false;  // interrupted, not unready: call again at once
      continue;
    }
    if (!would_block(err)) return CallOutcome{-1, IoStatus::kOk, err};
    if (mode == WaitMode::kTry) return CallOutcome{-1, IoStatus::kWouldBlock, 0};
    need_poll = true;
  }
}

// retry_call() for verbs that build their own result: `done(rc)` on success, `status_value(status)`
// for would-block and timeout, `on_error(err)` for any other errno (which may still be an outcome,
// such as EPIPE for a closed peer). All three return the same Result type.
template <class Attempt, class Done, class Status, class OnError>
auto socket_retry(int fd, short events, WaitMode mode, Deadline deadline, Attempt attempt, Done done,
                  Status status_value, OnError on_error) -> decltype(done(0L)) {
  auto outcome = retry_call(fd, events, mode, deadline, attempt);
  if (!outcome) return fail(std::move(outcome.error()));
  if (outcome->succeeded()) return done(outcome->rc);
  if (outcome->err != 0) return on_error(outcome->err);
  return status_value(outcome->status);
}

enum class Direction { kRead, kWrite };

// Names for transfer(): a call and an object.
struct CallNames {
  std::string call;
  std::string object;
};

// How a transfer runs. `call` and `object` name it in errors ("write", "fd 5").
struct TransferSpec {
  Direction direction = Direction::kRead;
  bool all = true;  // loop until every byte moved (the *_full forms), or stop after one call
  WaitMode mode = WaitMode::kTry;
  Deadline deadline = kNoDeadline;
  bool poll_first = false;  // see retry_call()
};

// Moves `size` bytes with `call(offset, dontwait)`, which transfers from offset `offset` of the
// caller's buffer and returns the syscall's result. `outcome_for(err)` turns the errnos that end a
// transfer without being errors (EPIPE: the peer closed) into a status, or returns nullopt;
// `names()` gives CallNames{call, object} for an Error, built only on failure. A read of 0 bytes is the end of
// the stream; a write of 0 bytes with bytes left is an error (the descriptor accepts nothing more,
// and looping would never end).
template <class Call, class OutcomeFor, class Names>
Result<IoResult> transfer(int fd, std::size_t size, const TransferSpec& spec, Call&& call,
                          OutcomeFor&& outcome_for, Names&& names) {
  if (size == 0) return IoResult{0, IoStatus::kOk};
  const short events = spec.direction == Direction::kRead ? POLLIN : POLLOUT;
  std::size_t done = 0;
  for (;;) {
    auto outcome = retry_call(
        fd, events, spec.mode, spec.deadline, [&](bool dontwait) -> long { return call(done, dontwait); },
        spec.poll_first);
    if (!outcome) return fail(std::move(outcome.error()));
    if (!outcome->succeeded()) {
      if (outcome->err == 0) return IoResult{done, outcome->status};
      if (std::optional<IoStatus> status = outcome_for(outcome->err)) return IoResult{done, *status};
      const auto [call_name, object] = names();
      return fail_errno(outcome->err, call_name, object);
    }
    if (outcome->rc == 0) {
      if (spec.direction == Direction::kRead) return IoResult{done, IoStatus::kEndOfStream};
      const auto [call_name, object] = names();
      return fail_library(LibraryCode::kTruncated, call_name, object,
                          fmt::format("{}() returned 0 with {} of {} bytes written: the descriptor "
                                      "accepts no more data",
                                      call_name, done, size));
    }
    done += static_cast<std::size_t>(outcome->rc);
    if (done == size || !spec.all) return IoResult{done, IoStatus::kOk};
  }
}

}  // namespace ipckit::detail
