// SPDX-License-Identifier: Apache-2.0
#include "wait.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <ctime>

namespace ipckit::detail {

void futex_wait(std::uint32_t* word, std::uint32_t expected, Clock::duration timeout) noexcept {
  if (timeout <= Clock::duration::zero()) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  // Not FUTEX_PRIVATE_FLAG: the word is in memory shared between processes.
  (void)::syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void futex_wake_all(std::uint32_t* word) noexcept { futex_wake(word, INT32_MAX); }

void futex_wake(std::uint32_t* word, int count) noexcept {
  (void)::syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

void wake_seq(std::uint32_t& seq) noexcept {
  std::atomic_ref<std::uint32_t>(seq).fetch_add(1, std::memory_order_release);
  futex_wake_all(&seq);
}

}  // namespace ipckit::detail
