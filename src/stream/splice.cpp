// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/splice.hpp"

#include <fcntl.h>
#include <sys/uio.h>

#include <cerrno>

#include "ipckit/core/poll.hpp"

namespace ipckit {
namespace {

std::string pair_object(int in_fd, int out_fd) { return fd_object(in_fd) + " -> " + fd_object(out_fd); }

// With a deadline the pipe side must never sleep in the kernel, so SPLICE_F_NONBLOCK; without one
// the descriptors' own O_NONBLOCK decides (a blocking pipe then sleeps in the kernel, like write()).
unsigned nonblock_flag(Deadline deadline) { return deadline == kNoDeadline ? 0u : SPLICE_F_NONBLOCK; }

// After EAGAIN: waits until the input is readable and the output writable (each returns at once
// when already ready). kTimedOut when the deadline passed.
Result<IoStatus> wait_both(int in_fd, int out_fd, Deadline deadline) {
  if (in_fd >= 0) {
    auto r = wait_readable(in_fd, deadline);
    if (!r || *r != IoStatus::kOk) return r;
  }
  return wait_writable(out_fd, deadline);
}

}  // namespace

Result<IoResult> splice_some(int in_fd, int out_fd, std::size_t max, Deadline deadline) {
  for (;;) {
    // SPLICE_F_MOVE: a hint to move pages rather than copy them.
    const ssize_t n = ::splice(in_fd, nullptr, out_fd, nullptr, max, SPLICE_F_MOVE | nonblock_flag(deadline));
    if (n > 0) return IoResult{static_cast<std::size_t>(n), IoStatus::kOk};
    if (n == 0) return IoResult{0, IoStatus::kEndOfStream};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EPIPE) return IoResult{0, IoStatus::kPeerClosed};
    if (err == EAGAIN) {
      auto ready = wait_both(in_fd, out_fd, deadline);
      if (!ready) return fail(ready.error());
      if (*ready == IoStatus::kTimedOut) return IoResult{0, IoStatus::kTimedOut};
      continue;
    }
    if (err == EINVAL) {
      return fail_errno(err, "splice", pair_object(in_fd, out_fd),
                        "one end must be a pipe, and the other a file, socket or pipe opened for that direction");
    }
    return fail_errno(err, "splice", pair_object(in_fd, out_fd));
  }
}

Result<IoResult> splice_exact(int in_fd, int out_fd, std::size_t count, Deadline deadline) {
  std::size_t moved = 0;
  while (moved < count) {
    auto r = splice_some(in_fd, out_fd, count - moved, deadline);
    if (!r) return fail(r.error());
    moved += r->bytes;
    if (r->status != IoStatus::kOk) return IoResult{moved, r->status};
  }
  return IoResult{moved, IoStatus::kOk};
}

Result<IoResult> vmsplice_all(const PipeWriter& writer, std::span<const std::byte> data, Deadline deadline) {
  const int pipe_fd = writer.native_handle();
  std::size_t done = 0;
  while (done < data.size()) {
    // iovec takes a non-const pointer, but vmsplice into a pipe only reads the pages.
    iovec iov{const_cast<std::byte*>(data.data() + done), data.size() - done};
    const ssize_t n = ::vmsplice(pipe_fd, &iov, 1, nonblock_flag(deadline));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    const int err = n == 0 ? EAGAIN : errno;
    if (err == EINTR) continue;
    if (err == EPIPE) return IoResult{done, IoStatus::kPeerClosed};
    if (err == EAGAIN) {
      auto ready = wait_both(-1, pipe_fd, deadline);
      if (!ready) return fail(ready.error());
      if (*ready == IoStatus::kTimedOut) return IoResult{done, IoStatus::kTimedOut};
      continue;
    }
    return fail_errno(err, "vmsplice", quoted(writer.name()));
  }
  return IoResult{done, IoStatus::kOk};
}

}  // namespace ipckit
