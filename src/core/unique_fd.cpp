// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    // Never retried: the descriptor is gone even when close() says EINTR (see the header).
    (void)::close(fd_);
  }
  fd_ = fd;
}

Result<void> UniqueFd::close() {
  const int fd = release();
  if (fd < 0) return {};
  if (::close(fd) != 0 && errno != EINTR) return last_errno().fail("close", fd_object(fd));
  return {};
}

Result<UniqueFd> UniqueFd::duplicate() const {
  const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return last_errno().fail("fcntl", fd_object(fd_) + ", F_DUPFD_CLOEXEC");
  return UniqueFd(fd);
}

Result<bool> is_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_errno().fail("fcntl", fd_object(fd) + ", F_GETFL");
  return (flags & O_NONBLOCK) != 0;
}

Result<void> set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_errno().fail("fcntl", fd_object(fd) + ", F_GETFL");
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) {
    return last_errno().fail("fcntl", fd_object(fd) + ", F_SETFL");
  }
  return {};
}

}  // namespace ipckit
