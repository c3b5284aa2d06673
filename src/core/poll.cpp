// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/poll.hpp"

#include <cerrno>

namespace ipckit {

Result<short> poll_one(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (n > 0) return p.revents;
    if (n == 0) {
      // poll() may return a little early on some clocks; only report a timeout once it is real.
      if (Clock::now() >= deadline) return static_cast<short>(0);
      continue;
    }
    if (errno == EINTR) continue;  // retried with the time left: the deadline is absolute
    return last_errno().fail("poll", fd_object(fd));
  }
}

Result<IoStatus> wait_readable(int fd, Deadline deadline) {
  auto r = poll_one(fd, POLLIN, deadline);
  if (!r) return fail(r.error());
  return *r != 0 ? IoStatus::kOk : IoStatus::kTimedOut;
}

Result<IoStatus> wait_writable(int fd, Deadline deadline) {
  auto r = poll_one(fd, POLLOUT, deadline);
  if (!r) return fail(r.error());
  return *r != 0 ? IoStatus::kOk : IoStatus::kTimedOut;
}

}  // namespace ipckit
