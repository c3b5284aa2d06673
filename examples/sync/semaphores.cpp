// SPDX-License-Identifier: Apache-2.0
// A named POSIX semaphore between two processes, and a System V set taking two semaphores at once.
#include <sys/ipc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ipckit/sync/semaphore.hpp"
#include "ipckit/sync/sysv_semaphore.hpp"

using namespace std::chrono_literals;

int main() {
  const std::string name = "/ipckit.example." + std::to_string(::getpid());
  auto sem = ipckit::NamedSemaphore::open(name, ipckit::OpenMode::kCreateExclusive, 0);
  if (!sem) {
    std::fprintf(stderr, "%s\n", sem.error().str().c_str());
    return 1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child opens it by name, as an unrelated process would, and posts 3 times.
    auto mine = ipckit::NamedSemaphore::open(name, ipckit::OpenMode::kOpenExisting);
    for (int i = 0; mine && i < 3; ++i) (void)mine->post();
    ::_exit(mine ? 0 : 1);
  }
  int got = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = sem->wait_for(5s);  // a deadline: a dead poster cannot wake us otherwise
    if (r && *r == ipckit::IoStatus::kOk) ++got;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  (void)ipckit::NamedSemaphore::unlink(name);  // names are removed explicitly
  std::printf("named semaphore: %d posts received\n", got);

  // System V: take one unit from semaphore 0 AND 1 atomically, or nothing.
  auto set = ipckit::SysvSemaphoreSet::create(IPC_PRIVATE, 2);
  if (!set) {
    std::fprintf(stderr, "%s\n", set.error().str().c_str());
    return 1;
  }
  const std::uint16_t init[] = {1, 1};
  const ipckit::SemOp both[] = {{0, -1, true}, {1, -1, true}};  // SEM_UNDO: reverted if we die
  bool ok = set->set_all(init).has_value();
  auto applied = set->try_apply(both);
  ok = ok && applied && *applied == ipckit::IoStatus::kOk;
  auto again = set->try_apply(both);  // both are 0 now: would block
  ok = ok && again && *again == ipckit::IoStatus::kWouldBlock;
  (void)set->remove();
  std::printf("System V set: first take %s, second would block\n", ok ? "applied" : "FAILED");
  return got == 3 && ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
