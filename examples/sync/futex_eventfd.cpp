// SPDX-License-Identifier: Apache-2.0
// futex: sleep until a 32-bit word in shared memory changes, with no system call at all while nobody
// sleeps; eventfd: a kernel counter behind a descriptor, so a wake-up can sit in poll/epoll. The
// parent sleeps on the word in an anonymous MAP_SHARED page; a child sets it, wakes the parent and
// adds 42 to an eventfd both inherited.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "../demo/narrate.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/futex.hpp"

using namespace std::chrono_literals;

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto map = ipckit::Mapping::anonymous(4096);
  auto ev = ipckit::EventFd::create();
  if (!map || !ev) {
    std::fprintf(stderr, "%s\n", !map ? map.error().str().c_str() : ev.error().str().c_str());
    return 1;
  }
  auto& flag = *static_cast<std::uint32_t*>(map->data());
  std::printf("[parent %d] a 32-bit word = 0 in an anonymous MAP_SHARED page, and an eventfd (fd %d)\n", demo::me(),
              ev->native_handle());

  const pid_t pid = demo::fork_child([&]() -> int {
    std::atomic_ref<std::uint32_t>(flag).store(1, std::memory_order_release);  // pairs with the acquire below
    auto woken = ipckit::futex_wake_all(flag);
    auto wrote = ev->write(42);
    std::printf("[child %d] stored 1 in the word, FUTEX_WAKE woke %d waiter(s), wrote 42 to the eventfd\n",
                demo::me(), woken ? *woken : -1);
    return woken && wrote ? 0 : 1;
  });
  // Sleep while the word is 0; a wake between the load and the wait is never lost (FUTEX_WAIT
  // compares the word with 0 inside the kernel and returns at once when it changed).
  int waits = 0;
  while (std::atomic_ref<std::uint32_t>(flag).load(std::memory_order_acquire) == 0) {
    auto w = ipckit::futex_wait_for(flag, 0, 5s);
    ++waits;
    if (!w || *w == ipckit::FutexWait::kTimedOut) {
      std::fprintf(stderr, "the word did not change within 5 s\n");
      return 1;
    }
  }
  std::printf("[parent %d] the word is 1 after %d FUTEX_WAIT call(s)\n", demo::me(), waits);
  auto n = ev->read_for(5s);  // ev->native_handle() works with poll/epoll too
  std::printf("[parent %d] read the eventfd: %llu (the counter is reset to 0 by the read)\n", demo::me(),
              n && n->has_value() ? static_cast<unsigned long long>(**n) : 0ULL);
  return demo::child_ok(pid) && n && n->has_value() && **n == 42 ? 0 : 1;
}
