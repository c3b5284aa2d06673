// SPDX-License-Identifier: Apache-2.0
// System V semaphores and SEM_UNDO: a set of one semaphore used as a lock (value 1 = free). A child
// takes it with SEM_UNDO and is killed while holding it: the kernel undoes its operation at exit and
// the lock is free again. A second child takes it without SEM_UNDO and is killed too: the lock stays
// taken, forever, for everyone. Then one semop applies two operations at once (both or nothing).
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "ipckit/sync/sysv_semaphore.hpp"
#include "narrate.hpp"

namespace {

// A child takes the lock (with or without SEM_UNDO), tells the parent through a pipe, and waits to be
// killed. Returns the semaphore's value after the kill, or -1.
int value_after_killing_a_holder(ipckit::SysvSemaphoreSet& set, bool undo) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return -1;
  const pid_t pid = demo::fork_child([&]() -> int {
    ::close(ready[0]);
    const ipckit::SemOp take[] = {{0, -1, undo}};
    if (!set.apply(take)) return 1;
    std::printf("[child %d] took the lock (semop -1%s); now killed while holding it\n", demo::me(),
                undo ? ", SEM_UNDO" : ", no SEM_UNDO");
    std::fflush(stdout);
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 2;
    for (;;) ::pause();  // until SIGKILL
  });
  ::close(ready[1]);
  char byte = 0;
  const bool took = pid > 0 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (pid > 0) ::kill(pid, SIGKILL);
  demo::reap(pid);  // killed on purpose
  if (!took) return -1;
  auto v = set.value(0);
  return v ? *v : -1;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto set = ipckit::SysvSemaphoreSet::create(IPC_PRIVATE, 2);  // 0600
  if (!set) {
    std::fprintf(stderr, "%s\n", set.error().str().c_str());
    return 1;
  }
  const std::uint16_t initial[] = {1, 1};
  bool ok = set->set_all(initial).has_value();
  std::printf("[parent] semget(IPC_PRIVATE, 2, 0600) -> id %d; semaphore 0 = 1 (a free lock), semaphore 1 = 1\n",
              set->id());

  const int with_undo = ok ? value_after_killing_a_holder(*set, true) : -1;
  std::printf("[parent] after the SEM_UNDO holder died: semaphore 0 = %d (the kernel gave the lock back)\n", with_undo);
  ok = ok && with_undo == 1;

  const int without_undo = ok ? value_after_killing_a_holder(*set, false) : -1;
  std::printf("[parent] after the holder without SEM_UNDO died: semaphore 0 = %d (the lock is lost for everyone)\n",
              without_undo);
  ok = ok && without_undo == 0;

  // Both or nothing: taking semaphore 0 (now 0) and 1 together would block, so neither is taken.
  const ipckit::SemOp both[] = {{0, -1, true}, {1, -1, true}};
  auto got = set->apply_for(both, std::chrono::milliseconds(100));
  auto one = set->value(1);
  std::printf("[parent] semop on both at once, 100 ms: %s; semaphore 1 is still %d (nothing was applied)\n",
              got && *got == ipckit::IoStatus::kTimedOut ? "timed out" : "taken", one ? *one : -1);
  ok = ok && got && *got == ipckit::IoStatus::kTimedOut && one && *one == 1;

  if (auto removed = set->remove(); !removed) {
    std::fprintf(stderr, "%s\n", removed.error().str().c_str());
    return 1;
  }
  std::printf("[parent] semctl(IPC_RMID): the set is removed (it would otherwise outlive every process)\n");
  return ok ? 0 : 1;
}
