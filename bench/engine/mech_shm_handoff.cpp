// SPDX-License-Identifier: Apache-2.0
// shm-handoff: the zero-copy throughput baseline of the channel issue: one plain shared buffer and
// a flag. The sender waits for the flag to be clear, fills and hashes a frame in place and sets the
// flag; the receiver waits for it, verifies the frame in place and clears it. Both sides spin.
#include <memory>

#include "engine/registry.hpp"
#include "engine/shm_layout.hpp"

namespace ipckit::bench {
namespace {

constexpr std::uint64_t kEmpty = 0;
constexpr std::uint64_t kFull = 1;
constexpr std::uint64_t kEnd = 2;

class ShmHandoffSession final : public Session {
 public:
  Result<void> create(std::size_t size) {
    auto m = Mapping::anonymous(kCacheLine + round_up(size, kCacheLine));
    if (!m) return fail(m.error());
    map_ = std::move(*m);
    new (map_.data()) SharedWord{};
    return {};
  }
  Result<void> prepare(Role) override { return {}; }
  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    auto& flag = reinterpret_cast<SharedWord*>(map_.data())->value;
    std::byte* buf = static_cast<std::byte*>(map_.data()) + kCacheLine;
    const std::size_t n = ctx.size;
    const std::uint64_t mask = n >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    if (role == Role::kSender) {
      for (;; ++seq) {
        if ((seq & mask) == 0 && !clock.tick(seq)) break;
        // pairs with the receiver's release store of kEmpty: its reads of the buffer are done
        if (!spin_until(ctx, [&] { return flag.load(std::memory_order_acquire) == kEmpty; })) break;
        ctx.payload->fill(buf, n, seq);
        flag.store(kFull, std::memory_order_release);  // publishes the frame; pairs with the receiver's acquire
      }
      clock.finish(seq, stats);
      if (spin_until(ctx, [&] { return flag.load(std::memory_order_acquire) == kEmpty; })) {
        flag.store(kEnd, std::memory_order_release);
      }
      return {};
    }
    for (;;) {
      std::uint64_t f = 0;
      // pairs with the sender's release store of kFull / kEnd
      if (!spin_until(ctx, [&] { return (f = flag.load(std::memory_order_acquire)) != kEmpty; })) break;
      if (f == kEnd) break;
      const FrameCheck c = check_frame(buf, n, n, seq);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(to_string(c));
        break;
      }
      flag.store(kEmpty, std::memory_order_release);  // hands the buffer back; pairs with the sender's acquire
      ++seq;
      if ((seq & mask) == 0) clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    return {};
  }

 private:
  Mapping map_;
};

class ShmHandoffMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "shm-handoff"; }
  std::string_view description() const noexcept override {
    return "one shared buffer and a flag: fill+hash in place, verify in place, both sides spinning";
  }
  Wait wait() const noexcept override { return Wait::kBusy; }
  bool supports(Pattern p) const noexcept override { return p == Pattern::kThroughput; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto s = std::make_unique<ShmHandoffSession>();
    if (auto r = s->create(size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& shm_handoff_mechanism() {
  static const ShmHandoffMechanism m;
  return m;
}

}  // namespace ipckit::bench
