// SPDX-License-Identifier: Apache-2.0
/// @file
/// Waiting for one descriptor with a steady-clock deadline.
#pragma once

#include <poll.h>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// poll() on one fd for `events`, retrying EINTR with the time left. Returns the revents (0 when the
/// deadline passed first). POLLHUP/POLLERR/POLLNVAL are returned, not turned into errors.
/// Blocks until an event or the deadline. Errors: the poll() errno.
[[nodiscard]] IPCKIT_API Result<short> poll_one(int fd, short events, Deadline deadline);

/// kOk when readable (or hung up: a read will then report end of stream), kTimedOut when the
/// deadline passed first.
[[nodiscard]] IPCKIT_API Result<IoStatus> wait_readable(int fd, Deadline deadline);
/// kOk when writable (or the peer is gone: a write will then report it), kTimedOut when the deadline
/// passed first.
[[nodiscard]] IPCKIT_API Result<IoStatus> wait_writable(int fd, Deadline deadline);

}  // namespace ipckit
