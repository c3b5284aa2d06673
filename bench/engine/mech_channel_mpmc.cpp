// SPDX-License-Identifier: Apache-2.0
// channel-mpmc, channel-mpmc-2x2 and channel-mpmc-4x4: the ipckit MPMC channel (issue 9) with 1, 2
// or 4 producers and as many consumers, each a process of its own; each frame goes to exactly one
// consumer, so msgs/s is the sum over the consumers (Delivery::kOne). Waits are blocking (futex):
// with up to 8 processes on a 2-CPU machine, spinning would only steal the CPU from the process it
// waits for.
//
// Every process opens the channel by name (kOpenOrCreate) in prepare(); the parent unlinks the name
// once all have it. Zero-copy both ways: a producer reserves a slot, fills and hashes the frame in
// place and commits it; a consumer verifies the frame in place and releases the slot.
//
// Verification with several producers: frames of different producers interleave and each consumer
// sees only some of them, so a frame's sequence number carries its producer (bits 48..55) above the
// producer's own count (bits 0..47). The hash is seeded with the whole number, so the producer id is
// verified with the payload. Each consumer checks, per producer, that the counts it sees increase
// (one consumer takes slots in ring order, and a producer fills them in its order). Across the
// consumers, the runner's totals must match the producers': the number of frames, and the sum of
// frame_digest(seq) (SideStats::digest), so no frame was lost or delivered twice.
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "ipckit/channel/mpmc.hpp"

namespace ipckit::bench {
namespace {

constexpr unsigned kProducerShift = 48;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kProducerShift) - 1;
static_assert(kMaxSideProcs <= 256, "producer ids live in bits 48..55 of the sequence number");

class MpmcSession final : public Session {
 public:
  explicit MpmcSession(std::size_t size) : name_(unique_object_name()) {
    options_.wait = WaitStrategy::kBlocking;
    options_.max_message = std::max<std::size_t>(size, 64);
    // A ring of at least 1 MiB and 4 records, a power of two (it holds slots_for() slots).
    options_.capacity = std::bit_ceil(std::max<std::size_t>(std::size_t{1} << 20, 4 * (options_.max_message + 64)));
    // The default liveness interval: a consumer learns that the last producer closed at once (a
    // close bumps the channel's departures count, which makes waiters check the members).
  }
  ~MpmcSession() override { remove(); }

  Result<void> prepare(Role role) override {
    if (role == Role::kSender) {
      auto tx = MpmcProducer::open(name_, OpenMode::kOpenOrCreate, options_);
      if (!tx) return fail(tx.error());
      tx_ = std::move(*tx);
    } else {
      auto rx = MpmcConsumer::open(name_, OpenMode::kOpenOrCreate, options_);
      if (!rx) return fail(rx.error());
      rx_ = std::move(*rx);
    }
    return {};
  }

  // Every process holds the channel: nobody needs the name any more.
  void after_ready() noexcept override { remove(); }

  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    return role == Role::kSender ? produce(ctx, stats) : consume(ctx, stats);
  }

 private:
  Result<void> produce(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    const std::uint64_t id = static_cast<std::uint64_t>(ctx.index) << kProducerShift;
    std::uint64_t digest = 0;
    SideClock clock(ctx);
    std::uint64_t n = 0;
    for (;; ++n) {
      if ((n & mask) == 0 && !clock.tick(n)) break;
      auto span = tx_.reserve(ctx.size);
      if (!span) return fail(span.error());
      if (span->status != ChannelStatus::kOk) {
        // Every consumer left before the end: a broken run (they stay until the producers close).
        stats.set_unverified(fmt::format("producer {}: reserve returned {}", ctx.index, to_string(span->status)));
        break;
      }
      const std::uint64_t seq = id | n;
      ctx.payload->fill(span->data.data(), ctx.size, seq);
      if (auto r = tx_.commit(); !r) return fail(r.error());
      digest += frame_digest(seq);  // a sum modulo 2^64, compared with the consumers' (bench.cpp)
    }
    (void)tx_.close();  // the consumers drain the ring, then get kPeerClosed once every producer closed
    stats.digest = digest;
    clock.finish(n, stats);
    return {};
  }

  Result<void> consume(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    // Per producer: 1 + the last count seen (0: none yet).
    std::array<std::uint64_t, kMaxSideProcs> next{};
    std::uint64_t digest = 0;
    // The window ends at the last tick (mark_last), at most 15 frames before the last frame: the
    // end of the run is seen only after a wait, which must not count.
    SideClock clock(ctx);
    std::uint64_t got = 0;
    for (;;) {
      auto view = rx_.receive();
      if (!view) return fail(view.error());
      if (view->status == ChannelStatus::kPeerClosed) break;
      if (view->status != ChannelStatus::kOk) {
        stats.set_unverified(fmt::format("consumer {}: receive returned {}", ctx.index, to_string(view->status)));
        break;
      }
      std::uint64_t seq = 0;
      const FrameCheck c = check_frame_unordered(view->data.data(), view->data.size(), ctx.size, seq);
      const std::uint64_t producer = seq >> kProducerShift;
      const std::uint64_t count = seq & kCountMask;
      std::string problem;
      if (c != FrameCheck::kOk) {
        problem = std::string("frame: ") + to_string(c);
      } else if (view->redelivered) {
        problem = "a frame was redelivered (a consumer died holding it)";
      } else if (producer >= static_cast<std::uint64_t>(ctx.procs.producers)) {
        problem = fmt::format("frame from producer {} of {}", producer, ctx.procs.producers);
      } else if (count < next[producer]) {
        problem = fmt::format("producer {}: frame {} after frame {} (out of order or twice)", producer, count,
                              next[producer] - 1);
      }
      if (auto r = rx_.release(); !r) return fail(r.error());
      if (!problem.empty()) {
        stats.set_unverified(fmt::format("consumer {}: {}", ctx.index, problem));
        break;
      }
      next[producer] = count + 1;
      digest += frame_digest(seq);
      ++got;
      if ((got & mask) == 0) {
        clock.tick(got);
        clock.mark_last();
      }
    }
    clock.finish(got, stats);
    stats.digest = digest;
    (void)rx_.close();
    return {};
  }

  void remove() noexcept {
    if (!name_.empty()) (void)MpmcChannel::unlink(name_);
    name_.clear();
  }

  std::string name_;
  ChannelOptions options_;
  MpmcProducer tx_;
  MpmcConsumer rx_;
};

class ChannelMpmcMechanism final : public Mechanism {
 public:
  ChannelMpmcMechanism(std::string_view name, int n, std::string_view description, bool in_default)
      : name_(name), n_(n), description_(description), in_default_(in_default) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view description() const noexcept override { return description_; }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  Procs procs() const noexcept override { return {n_, n_}; }
  bool in_default_run() const noexcept override { return in_default_; }
  // A round trip has no meaning with several consumers taking frames off one queue: throughput only.
  bool supports(Pattern pattern) const noexcept override { return pattern == Pattern::kThroughput; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    return std::unique_ptr<Session>(std::make_unique<MpmcSession>(size));
  }

 private:
  std::string_view name_;
  int n_;
  std::string_view description_;
  bool in_default_;
};

}  // namespace

const Mechanism& channel_mpmc_mechanism(int n) {
  static const ChannelMpmcMechanism one(
      "channel-mpmc", 1, "ipckit MPMC channel, 1 producer x 1 consumer, blocking waits; zero-copy reserve/commit",
      true);
  static const ChannelMpmcMechanism two(
      "channel-mpmc-2x2", 2, "the same, 2 producers x 2 consumers; msgs/s summed over the consumers", false);
  static const ChannelMpmcMechanism four(
      "channel-mpmc-4x4", 4, "the same, 4 producers x 4 consumers; msgs/s summed over the consumers", false);
  switch (n) {
    case 2: return two;
    case 4: return four;
    default: return one;
  }
}

}  // namespace ipckit::bench
