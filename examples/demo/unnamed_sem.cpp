// SPDX-License-Identifier: Apache-2.0
// An unnamed process-shared semaphore (sem_init with pshared = 1) lives inside memory both processes
// map: here MAP_SHARED|MAP_ANONYMOUS memory inherited across fork(). Two of them make a ping-pong:
// each side waits on its own semaphore and posts the other's.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <new>

#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/semaphore.hpp"

using namespace std::chrono_literals;

struct Shared {
  alignas(ipckit::SharedSemaphore) unsigned char ping[sizeof(ipckit::SharedSemaphore)];
  alignas(ipckit::SharedSemaphore) unsigned char pong[sizeof(ipckit::SharedSemaphore)];
  int ball;
};

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto map = ipckit::Mapping::anonymous(sizeof(Shared));
  if (!map) return 1;
  auto* s = new (map->data()) Shared{};
  auto ping = ipckit::SharedSemaphore::create_at(s->ping, 0);
  auto pong = ipckit::SharedSemaphore::create_at(s->pong, 0);
  if (!ping || !pong) {
    std::fprintf(stderr, "%s\n", (!ping ? ping.error() : pong.error()).str().c_str());
    return 1;
  }
  std::printf("[parent] sem_init(pshared=1) twice inside a MAP_SHARED|MAP_ANONYMOUS page: no name anywhere\n");
  constexpr int kRounds = 3;
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (int i = 0; i < kRounds; ++i) {
      auto got = (*ping)->wait_for(5s);
      if (!got || *got != ipckit::IoStatus::kOk) ::_exit(2);
      std::printf("[child %d] sem_wait(ping) returned: ball = %d; ball + 1, sem_post(pong)\n",
                  static_cast<int>(::getpid()), s->ball);
      ++s->ball;
      if (!(*pong)->post()) ::_exit(3);
    }
    ::_exit(0);
  }
  bool ok = true;
  for (int i = 0; i < kRounds && ok; ++i) {
    ++s->ball;
    std::printf("[parent] ball = %d, sem_post(ping), sem_wait(pong)\n", s->ball);
    ok = (*ping)->post().has_value();
    auto got = (*pong)->wait_for(5s);
    ok = ok && got && *got == ipckit::IoStatus::kOk;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("[parent] final ball = %d (%d rounds, strictly alternating); sem_destroy both\n", s->ball, kRounds);
  (void)(*ping)->destroy();
  (void)(*pong)->destroy();
  return ok && s->ball == 2 * kRounds && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
