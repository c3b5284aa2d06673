// SPDX-License-Identifier: Apache-2.0
// memcpy: the upper bound. One process fills and hashes a frame in a source buffer, copies it with
// memcpy into a destination buffer and verifies the destination's hash: the same fill/verify work
// as every other mechanism with no second process and no synchronisation.
#include <vector>

#include "engine/registry.hpp"
#include "engine/shm_layout.hpp"

namespace ipckit::bench {
namespace {

class MemcpySession final : public Session {
 public:
  Result<void> prepare(Role) override { return {}; }
  Result<void> run(Role, const RunContext& ctx, SideStats& stats) override {
    std::vector<std::byte> src(ctx.size);
    std::vector<std::byte> dst(ctx.size);
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;; ++seq) {
      if ((seq & mask) == 0 && !clock.tick(seq)) break;
      ctx.payload->fill(src.data(), ctx.size, seq);
      std::memcpy(dst.data(), src.data(), ctx.size);
      const FrameCheck c = check_frame(dst.data(), ctx.size, ctx.size, seq);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(to_string(c));
        break;
      }
    }
    clock.finish(seq, stats);
    return {};
  }
};

class MemcpyMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "memcpy"; }
  std::string_view description() const noexcept override {
    return "one process: fill+hash a frame, memcpy it, verify the copy (upper bound)";
  }
  Wait wait() const noexcept override { return Wait::kBusy; }
  Procs procs() const noexcept override { return {1, 0}; }
  bool supports(Pattern p) const noexcept override { return p == Pattern::kThroughput; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    return std::unique_ptr<Session>(std::make_unique<MemcpySession>());
  }
};

}  // namespace

const Mechanism& memcpy_mechanism() {
  static const MemcpyMechanism m;
  return m;
}

}  // namespace ipckit::bench
