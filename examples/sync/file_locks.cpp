// SPDX-License-Identifier: Apache-2.0
// Advisory file locks: an OFD lock held by one process, seen (and waited for) by another.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/file_lock.hpp"

using namespace std::chrono_literals;

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string path = "/tmp/ipckit.example." + std::to_string(::getpid()) + ".lock";
  ipckit::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return 1;
  const ipckit::LockSpec whole{ipckit::LockStyle::kOfd, ipckit::LockKind::kExclusive};
  auto held = ipckit::FileLock::lock(fd.get(), whole, path);
  if (!held) {
    std::fprintf(stderr, "%s\n", held.error().str().c_str());
    return 1;
  }
  std::printf("[parent] open(%s), exclusive OFD lock on the whole file (fcntl F_OFD_SETLKW)\n", path.c_str());
  int tried[2];
  if (::pipe(tried) != 0) return 1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ipckit::UniqueFd own(::open(path.c_str(), O_RDWR | O_CLOEXEC));  // its own open file description
    auto busy = ipckit::FileLock::try_lock(own.get(), whole, path);
    const bool was_busy = busy && !busy->has_value();
    std::printf("[child %d] its own open() of the file; try_lock: %s; now waiting for the lock\n",
                static_cast<int>(::getpid()), was_busy ? "busy (the parent holds it)" : "NOT busy");
    std::fflush(stdout);
    (void)!::write(tried[1], "x", 1);  // tell the parent it may unlock now
    auto later = ipckit::FileLock::lock_for(own.get(), whole, 10s, path);  // granted once the parent unlocks
    if (later && later->has_value()) std::printf("[child %d] granted once the parent unlocked\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    ::_exit(was_busy && later && later->has_value() ? 0 : 1);
  }
  char c;
  (void)!::read(tried[0], &c, 1);
  std::printf("[parent] the child tried; unlocking\n");
  (void)held->unlock();
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::unlink(path.c_str());
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("child saw the lock busy, then got it: %s\n", ok ? "yes" : "no");
  return ok ? 0 : 1;
}
