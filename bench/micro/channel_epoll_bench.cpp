// SPDX-License-Identifier: Apache-2.0
// The SPSC channel in epoll mode (wait: epoll): 64 B round trip where both sides wait in
// epoll_wait on the consumer's notification fd, and the CPU of an idle epoll receiver. Compare with
// BM_ChannelRoundTrip/0 (busy) and /2 (blocking) of channel_bench in the same session.
//
//   build/release/bench/channel_epoll_bench --benchmark_min_time=0.5
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include "ipckit/channel/spsc.hpp"
#include "micro_support.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace {
using namespace std::chrono_literals;

using ipckit::bench::pin;

struct Channel {
  std::string name = "/ipckit.bench.epoll." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  ipckit::SpscProducer tx;
  ipckit::SpscConsumer rx;
  ipckit::UniqueFd ep;
  static inline int counter = 0;
  Channel() {
    ipckit::ChannelOptions o;
    o.capacity = 1 << 16;
    o.max_message = 64;
    o.wait = ipckit::WaitStrategy::kBlocking;
    rx = std::move(*ipckit::SpscConsumer::open(name, ipckit::OpenMode::kCreateExclusive, o));
    tx = std::move(*ipckit::SpscProducer::open(name, ipckit::OpenMode::kOpenExisting, o));
    ep = ipckit::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event e{};
    e.events = EPOLLIN;
    (void)::epoll_ctl(ep.get(), EPOLL_CTL_ADD, *rx.enable_notification(), &e);
  }
  ~Channel() { (void)ipckit::SpscChannel::unlink(name); }

  // The event-loop contract: try_receive until a record; arm; epoll_wait; disarm. Returns false
  // after `timeout` with nothing.
  bool next(std::uint64_t& value, std::chrono::milliseconds timeout) {
    const ipckit::Deadline deadline = ipckit::deadline_after(timeout);
    for (;;) {
      auto v = rx.try_receive();
      if (v && v->status == ipckit::ChannelStatus::kOk) {
        std::memcpy(&value, v->data.data(), sizeof value);
        (void)rx.release();
        return true;
      }
      auto armed = rx.arm();
      if (!armed) return false;
      if (*armed) {
        epoll_event e{};
        (void)::epoll_wait(ep.get(), &e, 1, ipckit::poll_timeout_ms(deadline));
        rx.disarm();
      }
      if (ipckit::Clock::now() >= deadline) return false;
    }
  }
  void send(std::uint64_t value) { (void)tx.send(std::as_bytes(std::span(&value, 1))); }
};

void BM_ChannelEpollRoundTrip(benchmark::State& state) {
  Channel ping, pong;
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    pin(1);
    std::uint64_t v = 0;
    while (!stop.load()) {
      if (ping.next(v, 100ms)) pong.send(v);
    }
  });
  pin(0);
  std::uint64_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    ping.send(seq);
    std::uint64_t got = ~seq;
    ok &= pong.next(got, 5000ms) && got == seq;
    ++seq;
  }
  stop = true;
  echo.join();
  state.counters["verified"] = ok ? 1 : 0;
}
BENCHMARK(BM_ChannelEpollRoundTrip)->UseRealTime();

// CPU of an idle receiver waiting in epoll (target < 1 ms per 10 s): the liveness timer wakes it
// once per second (default), nothing else does.
void BM_IdleEpollReceiverCpu(benchmark::State& state) {
  Channel ch;
  ipckit::bench::measure_idle_cpu(state, [&](std::chrono::steady_clock::time_point start) {
    while (std::chrono::steady_clock::now() - start < 2s) {
      std::uint64_t v = 0;
      benchmark::DoNotOptimize(ch.next(v, 2000ms));
    }
  });
}
BENCHMARK(BM_IdleEpollReceiverCpu)->Iterations(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
