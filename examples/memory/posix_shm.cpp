// POSIX shared memory between two processes: the parent creates and fills /ipckit.example.PID, a
// child opens it read-only by name and prints it. The name is removed by the UnlinkGuard.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/memory/posix_shm.hpp"

int main() {
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

  const pid_t pid = ::fork();
  if (pid == 0) {
    auto reader = ipckit::PosixShm::open(name, ipckit::Access::kReadOnly);  // fstat-checked
    if (!reader) ::_exit(2);
    auto view = reader->map(ipckit::MapOptions{ipckit::Access::kReadOnly});
    if (!view) ::_exit(3);
    std::printf("child read: %s (%zu bytes)\n", static_cast<const char*>(view->data()), reader->size());
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
