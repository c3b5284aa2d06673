// SPDX-License-Identifier: Apache-2.0
// What the narrated demos share: forking a child that runs a function and _exit()s with its result,
// and collecting its exit status (EINTR retried; a child that failed or was killed is reported, never
// thrown away as wait(NULL) would).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace demo {

// Forks; the child runs `body()` and _exit()s with its return value (stdout flushed first, since
// _exit skips stdio). Returns the child's pid, or -1 (with a message) when fork fails.
template <class F>
pid_t fork_child(F&& body) {
  std::fflush(stdout);  // nothing buffered may be written twice
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int rc = body();
    std::fflush(stdout);
    ::_exit(rc);
  }
  if (pid < 0) std::fprintf(stderr, "fork: %s\n", std::strerror(errno));
  return pid;
}

// Waits for `pid` and says whether it exited 0; says why not on stderr.
inline bool child_ok(pid_t pid) {
  if (pid < 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "waitpid(%d): %s\n", static_cast<int>(pid), std::strerror(errno));
      return false;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "child %d was killed by signal %d\n", static_cast<int>(pid), WTERMSIG(status));
  } else {
    std::fprintf(stderr, "child %d exited with status %d\n", static_cast<int>(pid), WEXITSTATUS(status));
  }
  return false;
}

// Waits for `pid` without judging how it ended (a child killed on purpose).
inline void reap(pid_t pid) {
  if (pid < 0) return;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

inline int me() { return static_cast<int>(::getpid()); }

}  // namespace demo
