// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/sigpipe.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>

#include "ipckit/core/eintr.hpp"

namespace ipckit {

SigpipeBlock::SigpipeBlock() noexcept {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
  // Where SIGPIPE was already blocked, a pending one may belong to someone else: leave the mask
  // and anything pending alone. Where it was not blocked, nothing can be pending (it would have been
  // delivered to this thread), so no sigpending() call is needed to tell ours from theirs.
  was_blocked_ = sigismember(&old_mask_, SIGPIPE) == 1;
}

SigpipeBlock::~SigpipeBlock() {
  if (was_blocked_) return;  // the mask is unchanged
  if (may_have_raised_) {
    // Consume the SIGPIPE our write raised, if any, so unblocking does not deliver it.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    const timespec zero{0, 0};
    (void)no_eintr(::sigtimedwait, &pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

bool sigpipe_ignored() noexcept {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return false;
  return current.sa_handler == SIG_IGN;
}

}  // namespace ipckit
