// SPDX-License-Identifier: Apache-2.0
/// @file
/// UniqueFd: sole owner of a file descriptor.
///
/// Move-only; the destructor closes the descriptor once and ignores the result. close() is never
/// retried: on Linux the descriptor is released even when close() reports EINTR, and retrying could
/// close a descriptor another thread has just been given (folly's File has the same rule).
/// Not thread-safe: one UniqueFd must not be reset from two threads at once.
#pragma once

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Sole owner of a file descriptor: closes it once on destruction (never retrying close()).
///
/// Move-only. Not thread-safe: one UniqueFd must not be reset from two threads at once.
class IPCKIT_API UniqueFd {
 public:
  /// Owns nothing (get() is -1).
  UniqueFd() noexcept = default;
  /// Takes ownership of \p fd (-1: nothing).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  /// Closes the descriptor, ignoring errors.
  ~UniqueFd() { reset(); }

  /// Moves the descriptor; \p other is left empty.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  /// Closes the current descriptor and takes \p other's; \p other is left empty.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  /// Not copyable.
  UniqueFd(const UniqueFd&) = delete;
  /// Not copyable.
  UniqueFd& operator=(const UniqueFd&) = delete;

  /// The descriptor (-1 if empty); still owned by this object.
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// True when a descriptor is owned.
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  /// valid().
  explicit operator bool() const noexcept { return valid(); }

  /// Gives up ownership without closing; returns the descriptor (-1 if empty).
  [[nodiscard]] int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the owned descriptor (if any, ignoring errors) and takes `fd`.
  void reset(int fd = -1) noexcept;

  /// Closes now and reports what close() said. EINTR counts as closed (see above). The object is
  /// empty afterwards in every case.
  [[nodiscard]] Result<void> close();

  /// A new descriptor for the same open file, with FD_CLOEXEC (fcntl F_DUPFD_CLOEXEC). Errors: the fcntl() errno.
  [[nodiscard]] Result<UniqueFd> duplicate() const;

 private:
  int fd_ = -1;
};

/// Sets or clears O_NONBLOCK on a descriptor. Errors: the fcntl() errno.
[[nodiscard]] IPCKIT_API Result<void> set_nonblocking(int fd, bool on);
/// Whether O_NONBLOCK is set on a descriptor. Errors: the fcntl() errno.
[[nodiscard]] IPCKIT_API Result<bool> is_nonblocking(int fd);

}  // namespace ipckit
