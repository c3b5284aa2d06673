// SPDX-License-Identifier: Apache-2.0
// A robust mutex in shared memory survives its owner being killed: the next locker is told
// "owner died", repairs the data, marks the mutex consistent and carries on.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <new>

#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/robust_mutex.hpp"

using namespace std::chrono_literals;

struct Account {  // lives in shared memory: standard layout, no pointers
  alignas(ipckit::RobustMutex) unsigned char mutex[sizeof(ipckit::RobustMutex)];
  long debit;
  long credit;  // invariant: debit == credit whenever the mutex is free
};

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  auto map = ipckit::Mapping::anonymous(sizeof(Account));
  if (!map) return 1;
  auto* acct = new (map->data()) Account{};
  auto mutex = ipckit::RobustMutex::create_at(acct->mutex);
  if (!mutex) {
    std::fprintf(stderr, "%s\n", mutex.error().str().c_str());
    return 1;
  }
  std::printf("[parent] robust, process-shared mutex in a MAP_SHARED page guarding debit == credit\n");
  int ready[2];
  if (::pipe(ready) != 0) return 1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    (void)(*mutex)->lock();
    acct->debit += 100;          // half of a transfer...
    std::printf("[child %d] locked the mutex, debited 100, not yet credited...\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    (void)!::write(ready[1], "x", 1);
    ::pause();                   // ...and killed before the other half
    ::_exit(0);
  }
  char c;
  (void)!::read(ready[0], &c, 1);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  std::printf("[parent] killed the child with SIGKILL while it held the mutex; locking it now\n");

  auto st = (*mutex)->lock_for(5s);
  if (!st || !ipckit::owns_lock(*st)) return 1;
  if (*st == ipckit::LockStatus::kOwnerDied) {
    std::printf("[parent] lock() said owner died mid-transfer (debit %ld, credit %ld): rolling back\n", acct->debit, acct->credit);
    acct->debit = acct->credit;  // repair
    (void)(*mutex)->mark_consistent();
  }
  (void)(*mutex)->unlock();
  std::printf("[parent] unlocked: the mutex is usable again, debit %ld == credit %ld\n", acct->debit, acct->credit);
  const bool ok = acct->debit == acct->credit;
  (void)(*mutex)->destroy();
  return ok ? 0 : 1;
}
