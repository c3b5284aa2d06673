// SPDX-License-Identifier: Apache-2.0
// A process-shared mutex and condition variable in shared memory: a consumer process waits on the
// condition "a job is queued" (pthread_cond_wait releases the mutex while it sleeps); the producer
// sets the job under the mutex and signals.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <new>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/robust_mutex.hpp"

using namespace std::chrono_literals;

struct Shared {
  alignas(ipckit::RobustMutex) unsigned char mutex[sizeof(ipckit::RobustMutex)];
  alignas(ipckit::SharedCondvar) unsigned char cond[sizeof(ipckit::SharedCondvar)];
  int jobs;    // guarded by mutex
  int result;  // guarded by mutex
};

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto map = ipckit::Mapping::anonymous(sizeof(Shared));
  if (!map) return 1;
  auto* s = new (map->data()) Shared{};
  auto mutex = ipckit::RobustMutex::create_at(s->mutex);
  auto cond = ipckit::SharedCondvar::create_at(s->cond);
  if (!mutex || !cond) {
    std::fprintf(stderr, "%s\n", (!mutex ? mutex.error() : cond.error()).str().c_str());
    return 1;
  }
  std::printf("[parent] pthread_mutex_init + pthread_cond_init with PTHREAD_PROCESS_SHARED in a MAP_SHARED page\n");
  // The consumer tells us (one byte on a pipe) while it still holds the mutex; our lock() below can
  // then succeed only once its pthread_cond_wait has released the mutex: it is really waiting.
  int waiting[2];
  if (::pipe2(waiting, O_CLOEXEC) != 0) return 1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto st = (*mutex)->lock();
    if (!st || !ipckit::owns_lock(*st)) ::_exit(2);
    std::printf("[consumer %d] locked; no job yet: pthread_cond_wait (releases the mutex while asleep)\n",
                static_cast<int>(::getpid()));
    const auto deadline = ipckit::deadline_after(5s);
    if (::write(waiting[1], "w", 1) != 1) ::_exit(4);
    while (s->jobs == 0) {  // the predicate, re-checked: wake-ups may be spurious
      auto w = (*cond)->wait_until(**mutex, deadline);
      if (!w || *w == ipckit::LockStatus::kTimedOut) ::_exit(3);
    }
    --s->jobs;
    s->result = 42;
    std::printf("[consumer %d] woke holding the mutex again, took the job, stored result 42\n",
                static_cast<int>(::getpid()));
    (void)(*mutex)->unlock();
    ::_exit(0);
  }
  char byte;
  if (::read(waiting[0], &byte, 1) != 1) return 1;
  // Take the mutex (granted once the consumer sleeps in the wait), queue one job, signal.
  auto st = (*mutex)->lock();
  if (!st || !ipckit::owns_lock(*st)) return 1;
  s->jobs = 1;
  std::printf("[producer] locked, queued a job, pthread_cond_signal, unlocked\n");
  (void)(*cond)->notify_one();
  (void)(*mutex)->unlock();
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("[producer] consumer exited; result = %d; destroying the condvar and the mutex\n", s->result);
  const bool ok = s->result == 42 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  (void)(*cond)->destroy();
  (void)(*mutex)->destroy();
  return ok ? 0 : 1;
}
