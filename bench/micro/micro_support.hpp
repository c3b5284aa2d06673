// SPDX-License-Identifier: Apache-2.0
// What the channel micro-benchmarks share: pinning their threads, and measuring an idle receiver.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <thread>

#include <benchmark/benchmark.h>

namespace ipckit::bench {

// Pins the calling thread to CPU `cpu` (modulo the CPU count); does nothing on one CPU.
inline void pin(int cpu) {
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  if (n < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n, &set);
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// CPU an idle receiver uses while it waits (the channel's "< 1 ms per 10 s" target): runs `wait_once`
// (one wait of up to ~2 s) per benchmark iteration and reports this thread's CPU time per second of
// waiting (`cpu_ns_per_s`) and per 10 s (`cpu_ms_per_10s`).
template <class WaitOnce>
void measure_idle_cpu(benchmark::State& state, WaitOnce wait_once) {
  double cpu_ns = 0, wall_s = 0;
  for (auto _ : state) {
    timespec a{}, b{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    const auto start = std::chrono::steady_clock::now();
    wait_once(start);
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu_ns += static_cast<double>((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
  }
  state.counters["cpu_ns_per_s"] = cpu_ns / wall_s;
  state.counters["cpu_ms_per_10s"] = cpu_ns / wall_s * 10 / 1e6;
}

}  // namespace ipckit::bench
