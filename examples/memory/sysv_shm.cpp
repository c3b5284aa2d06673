// SPDX-License-Identifier: Apache-2.0
// System V shared memory: an IPC_PRIVATE segment shared with a forked child by id, its IPC_STAT
// bookkeeping, and IPC_RMID.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "ipckit/memory/sysv_shm.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  auto shm = ipckit::SysvShm::create_private(4096);
  if (!shm) {
    std::fprintf(stderr, "%s\n", shm.error().str().c_str());
    return 1;
  }
  ipckit::SysvShmRemoveGuard remove(shm->id());  // IPC_RMID on scope exit
  auto at = shm->attach();
  if (!at) return 1;
  std::printf("[parent] shmget(IPC_PRIVATE, 4096, 0600) -> id %d, attached with shmat\n", shm->id());

  const pid_t pid = ::fork();
  if (pid == 0) {
    auto seg = ipckit::SysvShm::from_id(shm->id());
    if (!seg) ::_exit(2);
    auto mine = seg->attach();
    if (!mine) ::_exit(3);
    std::snprintf(static_cast<char*>(mine->data()), mine->size(), "%s", "written by the child");  // bounded, NUL-terminated
    std::printf("[child %d] attached segment %d by id and wrote a string into it\n", static_cast<int>(::getpid()), shm->id());
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto info = shm->info();
  if (!info) return 1;
  std::printf("parent read: %s; attached %llu, creator %d, last shmat/shmdt by %d\n",
              static_cast<const char*>(at->data()), static_cast<unsigned long long>(info->attach_count),
              info->creator_pid, info->last_pid);
  std::printf("[parent] shmctl(IPC_RMID) when the guard goes out of scope removes segment %d\n", shm->id());
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
