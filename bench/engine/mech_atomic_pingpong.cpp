// SPDX-License-Identifier: Apache-2.0
// atomic-pingpong: the floor of any round trip between two CPUs. The client stores a sequence
// number into one cache line, the server spins until it sees it and stores it into a second line,
// the client spins until it sees it back. Both sides check the sequence. Busy-poll only.
#include <memory>

#include "engine/registry.hpp"
#include "engine/shm_layout.hpp"

namespace ipckit::bench {
namespace {

constexpr std::uint64_t kEnd = ~std::uint64_t{0};

struct PingPong {
  SharedWord ping;
  SharedWord pong;
};

class AtomicPingPongSession final : public Session {
 public:
  Result<void> create() {
    auto m = Mapping::anonymous(sizeof(PingPong));
    if (!m) return fail(m.error());
    map_ = std::move(*m);
    pp_ = new (map_.data()) PingPong{};
    return {};
  }
  Result<void> prepare(Role) override { return {}; }
  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    SideClock clock(ctx);
    std::uint64_t seq = 1;
    if (role == Role::kSender) {
      while (clock.tick(seq - 1)) {
        const std::uint64_t t0 = SideClock::now_ns();
        pp_->ping.value.store(seq, std::memory_order_release);  // pairs with the server's acquire load
        std::uint64_t seen = 0;
        if (!spin_until(ctx, [&] { return (seen = pp_->pong.value.load(std::memory_order_acquire)) >= seq; })) break;
        const std::uint64_t t1 = SideClock::now_ns();
        if (seen != seq) {
          stats.set_unverified("pong sequence mismatch");
          break;
        }
        if (clock.warm()) ctx.control->histogram.record(t1 - t0);
        ++seq;
      }
      pp_->ping.value.store(kEnd, std::memory_order_release);  // pairs with the server's acquire load
      clock.finish(seq - 1, stats);
      return {};
    }
    for (;; ++seq) {
      std::uint64_t seen = 0;
      // pairs with the client's release store of ping
      if (!spin_until(ctx, [&] { return (seen = pp_->ping.value.load(std::memory_order_acquire)) >= seq; })) break;
      if (seen == kEnd) break;
      if (seen != seq) {
        stats.set_unverified("ping sequence gap");
        break;
      }
      pp_->pong.value.store(seq, std::memory_order_release);  // pairs with the client's acquire load
      clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq - 1, stats);
    return {};
  }

 private:
  Mapping map_;
  PingPong* pp_ = nullptr;
};

class AtomicPingPongMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "atomic-pingpong"; }
  std::string_view description() const noexcept override {
    return "a sequence word bounced between two cache lines, both sides spinning (no payload)";
  }
  Wait wait() const noexcept override { return Wait::kBusy; }
  bool supports(Pattern p) const noexcept override { return p == Pattern::kRtt; }
  std::optional<std::size_t> fixed_size(Pattern) const noexcept override { return 8; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    auto s = std::make_unique<AtomicPingPongSession>();
    if (auto r = s->create(); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& atomic_pingpong_mechanism() {
  static const AtomicPingPongMechanism m;
  return m;
}

}  // namespace ipckit::bench
