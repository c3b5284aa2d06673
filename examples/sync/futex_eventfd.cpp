// SPDX-License-Identifier: Apache-2.0
// futex: wait for a 32-bit word in shared memory to change; eventfd: a counter you can epoll.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/futex.hpp"

using namespace std::chrono_literals;

int main() {
  auto map = ipckit::Mapping::anonymous(4096);
  auto ev = ipckit::EventFd::create();
  if (!map || !ev) return 1;
  auto& flag = *static_cast<std::uint32_t*>(map->data());

  const pid_t pid = ::fork();
  if (pid == 0) {
    std::atomic_ref<std::uint32_t>(flag).store(1, std::memory_order_release);  // pairs with the acquire below
    (void)ipckit::futex_wake_all(flag);
    (void)ev->write(42);
    ::_exit(0);
  }
  // Sleep while the word is 0; a wake between the load and the wait is never lost.
  while (std::atomic_ref<std::uint32_t>(flag).load(std::memory_order_acquire) == 0) {
    auto w = ipckit::futex_wait_for(flag, 0, 5s);
    if (!w || *w == ipckit::FutexWait::kTimedOut) return 1;
  }
  auto n = ev->read_for(5s);  // ev->native_handle() works with poll/epoll too
  ::waitpid(pid, nullptr, 0);
  std::printf("futex word set; eventfd counter read %llu\n",
              n && n->has_value() ? static_cast<unsigned long long>(**n) : 0ULL);
  return n && n->has_value() && **n == 42 ? 0 : 1;
}
