// SPDX-License-Identifier: Apache-2.0
/// @file
/// EventFd: a kernel 64-bit counter behind a file descriptor (eventfd(2)), for wake-ups that must also
/// be waitable with poll()/epoll (native_handle()).
///
/// Counter mode: read() returns the whole count and resets it to 0 (n posts -> one read of n).
/// Semaphore mode: read() returns 1 and decrements (n posts -> n reads of 1).
/// The descriptor is always O_NONBLOCK|O_CLOEXEC internally; the blocking forms wait with poll(), so
/// the try/blocking/deadline forms all work on one descriptor. Shared with children by fork() (or by
/// passing the fd over a UNIX socket). Thread- and process-safe (each read/write is one syscall).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// How read() takes from the count: kCounter (all of it, resetting it to 0) or kSemaphore (1 at a time).
enum class EventFdMode { kCounter, kSemaphore };

/// A kernel 64-bit counter behind a non-blocking descriptor (eventfd(2)), waitable with poll()/epoll.
///
/// Move-only (it owns the descriptor). Thread- and process-safe: each read/write is one syscall.
class IPCKIT_API EventFd {
 public:
  /// The largest count the kernel holds (2^64 - 2); a write that would pass it blocks.
  static constexpr std::uint64_t kMaxCount = 0xfffffffffffffffeULL;

  /// An empty object (valid() is false); use create().
  EventFd() noexcept = default;

  /// A new eventfd with count `initial` in `mode`.
  /// Errors: EMFILE/ENFILE (descriptor limits), ENOMEM, unsupported (kernel without eventfd2),
  /// invalid argument (initial > kMaxCount).
  [[nodiscard]] static Result<EventFd> create(std::uint64_t initial = 0, EventFdMode mode = EventFdMode::kCounter);

  /// Adds n (> 0) to the count, blocking while it would exceed kMaxCount.
  /// Errors: invalid argument (n == 0 or n > kMaxCount), EBADF.
  [[nodiscard]] Result<void> write(std::uint64_t n = 1);
  /// Adds n if that fits now (kOk); kWouldBlock (nothing added) when it would block. Never blocks.
  /// Errors as write().
  [[nodiscard]] Result<IoStatus> try_write(std::uint64_t n = 1);

  /// Blocks until the count is > 0; returns it (counter mode, count reset to 0) or 1 (semaphore mode).
  [[nodiscard]] Result<std::uint64_t> read();
  /// Never blocks: the count as read() returns it, or no value with kWouldBlock when it is 0.
  [[nodiscard]] Result<Attempt<std::uint64_t>> try_read();
  /// Blocks until `deadline` at most: the count, or no value with kTimedOut.
  [[nodiscard]] Result<Attempt<std::uint64_t>> read_until(Deadline deadline);
  /// read_until(deadline_after(d)).
  template <class Rep, class Period>
  [[nodiscard]] Result<Attempt<std::uint64_t>> read_for(std::chrono::duration<Rep, Period> d) {
    return read_until(deadline_after(d));
  }

  /// The descriptor for poll()/epoll: readable while the count is > 0. Owned by this object.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// The mode it was created with.
  [[nodiscard]] EventFdMode mode() const noexcept { return mode_; }
  /// True when it holds a descriptor (made by create()).
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }

 private:
  EventFd(UniqueFd fd, EventFdMode mode) noexcept : fd_(std::move(fd)), mode_(mode) {}
  UniqueFd fd_;
  EventFdMode mode_ = EventFdMode::kCounter;
};

}  // namespace ipckit
