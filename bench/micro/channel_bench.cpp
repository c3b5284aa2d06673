// SPDX-License-Identifier: Apache-2.0
// Google Benchmark micro-benchmarks of the channel's fast path, with baselines in the same run.
// Every message is verified as docs/design.md ("Measuring") says: sequence number + length + xxh3 of the payload
// (inlined: XXH_INLINE_ALL), written by the sender and checked by the receiver; the baselines do
// the same work. Producer and consumer are threads pinned to different CPUs (CPU 0 and 1 when there
// are two); `ipckit bench` measures the same between processes.
//
//   build/release/bench/channel_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ipckit/channel/spsc.hpp"
#include "micro_support.hpp"

namespace {

using namespace std::chrono_literals;
using ipckit::ChannelStatus;

using ipckit::bench::pin;

// [seq u64][len u64][hash u64][payload...]: the verified frame every mechanism carries.
constexpr std::size_t kFrame = 24;

inline void fill(std::byte* p, std::size_t n, std::uint64_t seq) noexcept {
  for (std::size_t i = kFrame; i + 8 <= n; i += 8) {
    const std::uint64_t v = seq * 0x9e3779b97f4a7c15ULL + i;
    std::memcpy(p + i, &v, 8);
  }
  const std::uint64_t len = n;
  const std::uint64_t h = XXH3_64bits(p + kFrame, n - kFrame);
  std::memcpy(p, &seq, 8);
  std::memcpy(p + 8, &len, 8);
  std::memcpy(p + 16, &h, 8);
}

inline bool verify(const std::byte* p, std::size_t n, std::uint64_t seq) noexcept {
  std::uint64_t s, len, h;
  std::memcpy(&s, p, 8);
  std::memcpy(&len, p + 8, 8);
  std::memcpy(&h, p + 16, 8);
  return s == seq && len == n && h == XXH3_64bits(p + kFrame, n - kFrame);
}

struct Channel {
  std::string name = "/ipckit.bench." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  ipckit::SpscProducer tx;
  ipckit::SpscConsumer rx;
  static inline int counter = 0;
  Channel(std::size_t capacity, std::size_t max, ipckit::WaitStrategy wait) {
    ipckit::ChannelOptions o;
    o.capacity = capacity;
    o.max_message = max;
    o.wait = wait;
    tx = std::move(*ipckit::SpscProducer::open(name, ipckit::OpenMode::kCreateExclusive, o));
    rx = std::move(*ipckit::SpscConsumer::open(name, ipckit::OpenMode::kOpenExisting, o));
  }
  ~Channel() { (void)ipckit::SpscChannel::unlink(name); }
};

// One-way throughput: a producer thread streams verified messages; the benchmark loop receives.
void BM_ChannelThroughput(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::uint32_t>(state.range(1));
  Channel ch(std::max<std::size_t>(1 << 20, 4 * (size + 64)), size, ipckit::WaitStrategy::kBusyPoll);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    pin(1);
    for (std::uint64_t seq = 0; !stop.load(std::memory_order_relaxed); ++seq) {
      for (;;) {
        auto r = ch.tx.try_reserve(size);
        if (r && *r) {
          fill(r->data.data(), size, seq);
          (void)ch.tx.commit(batch <= 1 || seq % batch == batch - 1);
          break;
        }
        if (stop.load(std::memory_order_relaxed)) return;
      }
    }
  });
  pin(0);
  std::uint64_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    auto v = ch.rx.receive();
    ok &= v && *v && verify(v->data.data(), v->data.size(), seq);
    (void)ch.rx.release();
    ++seq;
  }
  stop = true;
  producer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.SetBytesProcessed(static_cast<std::int64_t>(seq * size));
  state.counters["verified"] = ok ? 1 : 0;
}
BENCHMARK(BM_ChannelThroughput)->Args({64, 1})->Args({64, 64})->Args({65536, 1})->UseRealTime();

// Baseline: one write() per framed message; the reader reads into a 64 KiB buffer and parses.
void BM_PipeThroughput(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    state.SkipWithError("pipe2");
    return;
  }
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    pin(1);
    std::vector<std::byte> msg(size);
    for (std::uint64_t seq = 0; !stop.load(std::memory_order_relaxed); ++seq) {
      fill(msg.data(), size, seq);
      if (::write(fds[1], msg.data(), size) != static_cast<ssize_t>(size)) return;
    }
  });
  pin(0);
  std::vector<std::byte> buf(65536 + size);
  std::size_t have = 0, at = 0;
  std::uint64_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    while (have - at < size) {
      std::memmove(buf.data(), buf.data() + at, have - at);
      have -= at;
      at = 0;
      const ssize_t n = ::read(fds[0], buf.data() + have, 65536);
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
    }
    ok &= verify(buf.data() + at, size, seq);
    at += size;
    ++seq;
  }
  stop = true;
  ::close(fds[0]);  // the writer gets EPIPE (SIGPIPE is ignored below) and stops
  producer.join();
  ::close(fds[1]);
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.counters["verified"] = ok ? 1 : 0;
}
BENCHMARK(BM_PipeThroughput)->Arg(64)->UseRealTime();

// Round trip: the benchmark loop sends a verified 64 B ping, the echo thread answers on a second
// channel; both busy-poll (or both block).
void BM_ChannelRoundTrip(benchmark::State& state) {
  const auto wait = static_cast<ipckit::WaitStrategy>(state.range(0));
  constexpr std::size_t kSize = 64;
  Channel ping(1 << 16, kSize, wait), pong(1 << 16, kSize, wait);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    pin(1);
    for (std::uint64_t seq = 0;; ++seq) {
      auto v = ping.rx.receive_until(ipckit::deadline_after(100ms));
      if (!v || !*v) {
        if (stop.load()) return;
        continue;
      }
      const bool good = verify(v->data.data(), v->data.size(), seq);
      (void)ping.rx.release();
      auto r = pong.tx.reserve(kSize);
      if (!r || !*r) return;
      fill(r->data.data(), kSize, good ? seq : ~seq);
      (void)pong.tx.commit();
    }
  });
  pin(0);
  std::uint64_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    auto r = ping.tx.reserve(kSize);
    fill(r->data.data(), kSize, seq);
    (void)ping.tx.commit();
    auto v = pong.rx.receive();
    ok &= v && *v && verify(v->data.data(), v->data.size(), seq);
    (void)pong.rx.release();
    ++seq;
  }
  stop = true;
  echo.join();
  state.counters["verified"] = ok ? 1 : 0;
}
BENCHMARK(BM_ChannelRoundTrip)
    ->Arg(static_cast<int>(ipckit::WaitStrategy::kBusyPoll))
    ->Arg(static_cast<int>(ipckit::WaitStrategy::kBlocking))
    ->UseRealTime();

// Baseline: one shared 64 B slot with a sequence word per direction, both sides spinning.
struct alignas(128) Slot {
  std::atomic<std::uint64_t> seq{0};
  std::byte data[64];
};
void BM_ShmPingPong(benchmark::State& state) {
  constexpr std::size_t kSize = 64;
  auto* slots = static_cast<Slot*>(::mmap(nullptr, 2 * sizeof(Slot), PROT_READ | PROT_WRITE,
                                          MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (&slots[0]) Slot{};
  new (&slots[1]) Slot{};
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    pin(1);
    for (std::uint64_t seq = 1;; ++seq) {
      while (slots[0].seq.load(std::memory_order_acquire) != seq) {
        if (stop.load(std::memory_order_relaxed)) return;
      }
      const bool good = verify(slots[0].data, kSize, seq);
      fill(slots[1].data, kSize, good ? seq : ~seq);
      slots[1].seq.store(seq, std::memory_order_release);
    }
  });
  pin(0);
  std::uint64_t seq = 1;
  bool ok = true;
  for (auto _ : state) {
    fill(slots[0].data, kSize, seq);
    slots[0].seq.store(seq, std::memory_order_release);
    while (slots[1].seq.load(std::memory_order_acquire) != seq) {
    }
    ok &= verify(slots[1].data, kSize, seq);
    ++seq;
  }
  stop = true;
  echo.join();
  ::munmap(slots, 2 * sizeof(Slot));
  state.counters["verified"] = ok ? 1 : 0;
}
BENCHMARK(BM_ShmPingPong)->UseRealTime();

// CPU used by an idle receiver in blocking mode (target < 1 ms per 10 s): one 2 s wait per
// iteration; the counter is CPU ns per second of waiting.
void BM_IdleBlockingReceiverCpu(benchmark::State& state) {
  Channel ch(1 << 16, 64, ipckit::WaitStrategy::kBlocking);
  ipckit::bench::measure_idle_cpu(state, [&](auto) {
    auto v = ch.rx.receive_until(ipckit::deadline_after(2s));
    benchmark::DoNotOptimize(v);
  });
}
BENCHMARK(BM_IdleBlockingReceiverCpu)->Iterations(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // the pipe baseline's writer stops on EPIPE
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
