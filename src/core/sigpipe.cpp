#include "ipckit/core/sigpipe.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace ipckit {

SigpipeBlock::SigpipeBlock() noexcept {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  // A SIGPIPE already pending belongs to someone else; leave it for them.
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
  was_blocked_ = sigismember(&old_mask_, SIGPIPE) == 1;
}

SigpipeBlock::~SigpipeBlock() {
  if (!was_pending_ && !was_blocked_) {
    // Consume the SIGPIPE our write raised, if any, so unblocking does not deliver it.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) == -1 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

bool sigpipe_ignored() noexcept {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return false;
  return current.sa_handler == SIG_IGN;
}

}  // namespace ipckit
