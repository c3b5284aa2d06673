// SPDX-License-Identifier: Apache-2.0
/// @file
/// SigpipeBlock: write to pipes and FIFOs without letting SIGPIPE kill the process.
///
/// Sockets avoid SIGPIPE with MSG_NOSIGNAL; pipes have no such flag. The library never changes signal
/// dispositions, so it blocks SIGPIPE in the calling thread for the duration of the write. If the
/// write raised SIGPIPE (EPIPE) and SIGPIPE was not already pending before, the pending signal is
/// consumed with sigtimedwait() before the old mask is restored, so the caller sees EPIPE as a value
/// and nothing else. Costs two sigprocmask calls and one sigtimedwait per write; a caller that
/// knows its write did not fail with EPIPE calls no_epipe() to skip the sigtimedwait. Callers that
/// already ignore SIGPIPE can skip the guard entirely (see sigpipe_ignored()).
#pragma once

#include <signal.h>

#include "ipckit/export.hpp"

namespace ipckit {

/// Blocks SIGPIPE in the calling thread for its lifetime and swallows the SIGPIPE a guarded write raised.
///
/// Create it on the stack around a write to a pipe or FIFO, in the thread that writes; not copyable.
class IPCKIT_API SigpipeBlock {
 public:
  /// Blocks SIGPIPE in this thread (pthread_sigmask), remembering the old mask.
  SigpipeBlock() noexcept;
  /// Consumes a SIGPIPE the writes raised (unless no_epipe() was called), then restores the old mask.
  /// Does nothing where SIGPIPE was already blocked before.
  ~SigpipeBlock();
  /// Not copyable.
  SigpipeBlock(const SigpipeBlock&) = delete;
  /// Not copyable.
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  /// The guarded writes did not fail with EPIPE, so they raised no SIGPIPE: the destructor then
  /// only restores the mask (the cheap path for every successful write).
  void no_epipe() noexcept { may_have_raised_ = false; }

 private:
  sigset_t old_mask_;
  bool was_blocked_ = false;
  bool may_have_raised_ = true;
};

/// True when SIGPIPE's disposition is SIG_IGN (one sigaction() query; not cached, as it can change).
[[nodiscard]] IPCKIT_API bool sigpipe_ignored() noexcept;

}  // namespace ipckit
