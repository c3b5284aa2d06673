// SPDX-License-Identifier: Apache-2.0
// shm-pingpong: the busy-poll round-trip baseline of the channel issue: a verified frame in one
// shared slot with a sequence word (request), and a second slot for the reply; both sides spin on
// the sequence word, verify the frame in place and answer with a freshly filled frame.
#include <memory>

#include "engine/registry.hpp"
#include "engine/shm_layout.hpp"

namespace ipckit::bench {
namespace {

constexpr std::uint64_t kEnd = ~std::uint64_t{0};

class ShmPingPongSession final : public Session {
 public:
  Result<void> create(std::size_t size) {
    slot_ = kCacheLine + round_up(size, kCacheLine);
    auto m = Mapping::anonymous(2 * slot_);
    if (!m) return fail(m.error());
    map_ = std::move(*m);
    for (int i = 0; i < 2; ++i) new (base(i)) SharedWord{};
    return {};
  }
  Result<void> prepare(Role) override { return {}; }
  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    SideClock clock(ctx);
    const std::size_t n = ctx.size;
    std::uint64_t seq = 1;
    if (role == Role::kSender) {
      while (clock.tick(seq - 1)) {
        const std::uint64_t t0 = SideClock::now_ns();
        ctx.payload->fill(data(0), n, seq);
        word(0).store(seq, std::memory_order_release);  // publishes the frame; pairs with the server's acquire
        std::uint64_t seen = 0;
        if (!spin_until(ctx, [&] { return (seen = word(1).load(std::memory_order_acquire)) >= seq; })) break;
        const FrameCheck c = check_frame(data(1), n, n, seq);
        const std::uint64_t t1 = SideClock::now_ns();
        if (seen != seq || c != FrameCheck::kOk) {
          stats.set_unverified(seen != seq ? "reply sequence mismatch" : to_string(c));
          break;
        }
        if (clock.warm()) ctx.control->histogram.record(t1 - t0);
        ++seq;
      }
      word(0).store(kEnd, std::memory_order_release);  // pairs with the server's acquire
      clock.finish(seq - 1, stats);
      return {};
    }
    for (;; ++seq) {
      std::uint64_t seen = 0;
      // pairs with the client's release store
      if (!spin_until(ctx, [&] { return (seen = word(0).load(std::memory_order_acquire)) >= seq; })) break;
      if (seen == kEnd) break;
      const FrameCheck c = check_frame(data(0), n, n, seq);
      if (seen != seq || c != FrameCheck::kOk) {
        stats.set_unverified(seen != seq ? "request sequence gap" : to_string(c));
        break;
      }
      ctx.payload->fill(data(1), n, seq);
      word(1).store(seq, std::memory_order_release);  // publishes the reply; pairs with the client's acquire
      clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq - 1, stats);
    return {};
  }

 private:
  std::byte* base(int i) const noexcept { return static_cast<std::byte*>(map_.data()) + static_cast<std::size_t>(i) * slot_; }
  std::atomic<std::uint64_t>& word(int i) const noexcept { return reinterpret_cast<SharedWord*>(base(i))->value; }
  std::byte* data(int i) const noexcept { return base(i) + kCacheLine; }
  Mapping map_;
  std::size_t slot_ = 0;
};

class ShmPingPongMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "shm-pingpong"; }
  std::string_view description() const noexcept override {
    return "verified frame in a shared slot + sequence word, reply in a second slot, both sides spinning";
  }
  Wait wait() const noexcept override { return Wait::kBusy; }
  bool supports(Pattern p) const noexcept override { return p == Pattern::kRtt; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto s = std::make_unique<ShmPingPongSession>();
    if (auto r = s->create(size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& shm_pingpong_mechanism() {
  static const ShmPingPongMechanism m;
  return m;
}

}  // namespace ipckit::bench
