// SPDX-License-Identifier: Apache-2.0
// UniqueFd: sole owner of a file descriptor.
//
// Move-only; the destructor closes the descriptor once and ignores the result. close() is never
// retried: on Linux the descriptor is released even when close() reports EINTR, and retrying could
// close a descriptor another thread has just been given (folly's File has the same rule).
// Not thread-safe: one UniqueFd must not be reset from two threads at once.
#pragma once

#include "ipckit/core/result.hpp"

namespace ipckit {

class IPCKIT_API UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing; returns the descriptor (-1 if empty).
  [[nodiscard]] int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the owned descriptor (if any, ignoring errors) and takes `fd`.
  void reset(int fd = -1) noexcept;

  // Closes now and reports what close() said. EINTR counts as closed (see above). The object is
  // empty afterwards in every case.
  [[nodiscard]] Result<void> close();

  // A new descriptor for the same open file, with FD_CLOEXEC (fcntl F_DUPFD_CLOEXEC).
  [[nodiscard]] Result<UniqueFd> duplicate() const;

 private:
  int fd_ = -1;
};

// Sets or clears O_NONBLOCK on a descriptor.
[[nodiscard]] IPCKIT_API Result<void> set_nonblocking(int fd, bool on);
// Reads O_NONBLOCK.
[[nodiscard]] IPCKIT_API Result<bool> is_nonblocking(int fd);

}  // namespace ipckit
