// SPDX-License-Identifier: Apache-2.0
// POSIX shared memory between two processes: the parent creates and fills /ipckit.example.PID, a
// child opens it read-only by name and prints it. The name is removed by the UnlinkGuard.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/memory/posix_shm.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string name = "/ipckit.example." + std::to_string(::getpid());
  ipckit::UnlinkGuard guard(name);  // removes the name when main returns
  auto shm = ipckit::PosixShm::create(name, 4096);  // O_EXCL, 0600, posix_fallocate
  if (!shm) {
    std::fprintf(stderr, "%s\n", shm.error().str().c_str());
    return 1;
  }
  auto map = shm->map();
  if (!map) return 1;
  std::strcpy(static_cast<char*>(map->data()), "hello from the creator");
  std::printf("[creator] shm_open(%s, O_CREAT|O_EXCL, 0600), 4096 bytes reserved, mapped, wrote a string\n", name.c_str());

  const pid_t pid = ::fork();
  if (pid == 0) {
    auto reader = ipckit::PosixShm::open(name, ipckit::Access::kReadOnly);  // fstat-checked
    if (!reader) ::_exit(2);
    std::printf("[reader %d] opened %s by name, read-only; size checked with fstat before mapping\n",
                static_cast<int>(::getpid()), name.c_str());
    auto view = reader->map(ipckit::MapOptions{ipckit::Access::kReadOnly});
    if (!view) ::_exit(3);
    std::printf("child read: %s (%zu bytes)\n", static_cast<const char*>(view->data()), reader->size());
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("[creator] reader exited; the UnlinkGuard removes %s from /dev/shm\n", name.c_str());
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
