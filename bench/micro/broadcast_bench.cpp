// SPDX-License-Identifier: Apache-2.0
// Broadcast channel throughput: one publisher, N subscriber processes (fork), 64 B messages, policy
// kBlock (the publisher waits for the slowest, so every subscriber verifies every message: seq +
// xxh3). Waits are spin-then-futex / blocking, never pure busy-polling (more processes than CPUs).
// Reported: publisher rate (items_per_second); under kBlock each subscriber receives every message
// in the same wall time, so the per-subscriber rate equals it (the `per_sub_rate` counter is
// measured by the subscribers themselves and reported by the slowest one).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

#include <xxhash.h>

#include "ipckit/channel/broadcast.hpp"

namespace {

using namespace std::chrono_literals;

std::string bench_name() { return "/ipckit.bench.bc." + std::to_string(::getpid()); }

void fill(std::uint64_t seq, std::byte* p, std::size_t n) {
  std::memset(p + 16, static_cast<int>(seq & 0xff), n - 16);
  const std::uint64_t h = XXH3_64bits(p + 16, n - 16);
  std::memcpy(p, &seq, 8);
  std::memcpy(p + 8, &h, 8);
}

bool check(std::uint64_t seq, const std::byte* p, std::size_t n) {
  std::uint64_t s = 0, h = 0;
  std::memcpy(&s, p, 8);
  std::memcpy(&h, p + 8, 8);
  return s == seq && h == XXH3_64bits(p + 16, n - 16);
}

void BM_BroadcastBlock64(benchmark::State& state) {
  const int subs = static_cast<int>(state.range(0));
  const std::string name = bench_name();
  (void)ipckit::BroadcastChannel::unlink(name);
  ipckit::BroadcastOptions o;
  o.channel.capacity = 1 << 16;
  o.channel.max_message = 64;  // 64 KiB / 80 B = 819 slots
  o.channel.wait = ipckit::WaitStrategy::kSpinThenFutex;
  o.channel.spin_iterations = 2048;
  o.policy = ipckit::BroadcastPolicy::kBlock;
  o.evict_after = 10s;
  auto pub = ipckit::BroadcastPublisher::open(name, ipckit::OpenMode::kCreateExclusive, o);
  if (!pub) {
    state.SkipWithError(pub.error().str().c_str());
    return;
  }
  const std::uint64_t total = static_cast<std::uint64_t>(state.max_iterations);
  int ready[2];
  if (::pipe(ready) != 0) return;
  std::vector<pid_t> kids;
  for (int i = 0; i < subs; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      auto s = ipckit::BroadcastSubscriber::open(name, ipckit::OpenMode::kOpenExisting, o);
      if (!s) ::_exit(10);
      (void)!::write(ready[1], "x", 1);
      std::vector<std::byte> buf(64);
      for (std::uint64_t seq = 0; seq < total; ++seq) {
        auto r = s->receive(buf);
        if (!r || r->status != ipckit::BroadcastStatus::kOk || !check(seq, buf.data(), r->size)) ::_exit(11);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (int i = 0; i < subs; ++i) {
    char c;
    if (::read(ready[0], &c, 1) != 1) state.SkipWithError("subscriber did not start");
  }
  ::close(ready[0]);
  ::close(ready[1]);
  std::vector<std::byte> msg(64);
  std::uint64_t seq = 0;
  for (auto _ : state) {
    fill(seq, msg.data(), msg.size());
    auto st = pub->send(msg);
    if (!st || *st != ipckit::BroadcastStatus::kOk) state.SkipWithError("send failed");
    ++seq;
  }
  bool ok = true;
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) state.SkipWithError("a subscriber failed verification");
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.counters["subscribers"] = subs;
  state.counters["deliveries_per_s"] =
      benchmark::Counter(static_cast<double>(seq) * subs, benchmark::Counter::kIsRate);
  (void)pub->close();
  (void)ipckit::BroadcastChannel::unlink(name);
}
// Fixed iteration count: the subscribers must know how many messages to verify.
BENCHMARK(BM_BroadcastBlock64)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Iterations(200000)->UseRealTime()->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
