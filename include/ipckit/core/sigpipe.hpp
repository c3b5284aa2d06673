// SigpipeBlock: write to pipes and FIFOs without letting SIGPIPE kill the process.
//
// Sockets avoid SIGPIPE with MSG_NOSIGNAL; pipes have no such flag. The library never changes signal
// dispositions, so it blocks SIGPIPE in the calling thread for the duration of the write. If the
// write raised SIGPIPE (EPIPE) and SIGPIPE was not already pending before, the pending signal is
// consumed with sigtimedwait() before the old mask is restored, so the caller sees EPIPE as a value
// and nothing else. Costs two sigprocmask calls per write; callers that already ignore SIGPIPE can
// skip it (see sigpipe_ignored()).
#pragma once

#include <signal.h>

#include "ipckit/export.hpp"

namespace ipckit {

class IPCKIT_API SigpipeBlock {
 public:
  SigpipeBlock() noexcept;
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool was_blocked_ = false;
};

// True when SIGPIPE's disposition is SIG_IGN (one sigaction() query; not cached, as it can change).
[[nodiscard]] IPCKIT_API bool sigpipe_ignored() noexcept;

}  // namespace ipckit
