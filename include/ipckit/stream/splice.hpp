// SPDX-License-Identifier: Apache-2.0
// The kernel's zero-copy paths for pipes.
//
// splice(2) moves bytes between a pipe and another descriptor (a file, a socket, another pipe)
// inside the kernel: they never pass through user memory. vmsplice(2) hands a pipe references to
// the caller's pages instead of copying them in; the reader's read() then copies straight from
// those pages. Both work on blocking and non-blocking descriptors (ipckit's own pipe ends are
// non-blocking): a transfer that would block waits in poll() until `deadline` (with no deadline on a
// blocking descriptor, it sleeps in the kernel as write() would), EINTR is retried,
// and a pipe whose readers are gone is IoStatus::kPeerClosed (EPIPE). As for write_full (io.hpp),
// the caller makes sure SIGPIPE cannot kill the process: ignore it, or wrap the call in a
// SigpipeBlock (core/sigpipe.hpp).
//
// The rule vmsplice imposes: the pipe still refers to the caller's pages after vmsplice_all
// returns, until a reader has read those bytes. Changing them before that changes what the reader
// reads. A pipe holds at most capacity / page size buffers (16 for the default 64 KiB), so a
// sender that cycles through more separate buffers than that never rewrites one still referenced.
#pragma once

#include <cstddef>
#include <span>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// Moves up to \p max bytes from \p in_fd to \p out_fd (at least one of them a pipe): kOk with the
/// count (`> 0`), kEndOfStream (0 bytes: the input ended), kPeerClosed (a pipe output with no reader),
/// kTimedOut. Errors: EINVAL when neither end is a pipe (the text says so), other system errors.
[[nodiscard]] IPCKIT_API Result<IoResult> splice_some(int in_fd, int out_fd, std::size_t max,
                                                      Deadline deadline = kNoDeadline);

/// Moves exactly \p count bytes unless the input ends (kEndOfStream), the output's reader goes
/// (kPeerClosed) or \p deadline passes (kTimedOut); each with the count moved so far.
[[nodiscard]] IPCKIT_API Result<IoResult> splice_exact(int in_fd, int out_fd, std::size_t count,
                                                       Deadline deadline = kNoDeadline);

/// vmsplice: every byte of \p data into the pipe (or FIFO) behind \p writer by reference (see
/// splice.hpp: keep \p data unchanged until it has been read). kOk, kPeerClosed or kTimedOut with the
/// count so far. Takes a PipeWriter, not a descriptor: vmsplice on a read end would copy the pipe's
/// bytes *into* \p data.
[[nodiscard]] IPCKIT_API Result<IoResult> vmsplice_all(const PipeWriter& writer, std::span<const std::byte> data,
                                                       Deadline deadline = kNoDeadline);

}  // namespace ipckit
