// SPDX-License-Identifier: Apache-2.0
// shm-sem: the tutorials' classic: a POSIX shared-memory object (shm_open) holding a ring of frame
// slots guarded by two process-shared POSIX semaphores (empty/full, the bounded-buffer pattern);
// round trips use a request slot and a reply slot with one semaphore each. The parent creates the
// object O_EXCL 0600, each side opens and maps it by name, and the parent unlinks it once both
// have. The sender copies the frame into the slot (fill+hash), the receiver verifies in place.
// Blocking (sem_wait).
#include <semaphore.h>

#include <algorithm>
#include <memory>
#include <string>

#include "engine/registry.hpp"
#include "engine/shm_layout.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/memory/posix_shm.hpp"

namespace ipckit::bench {
namespace {

struct alignas(kCacheLine) SemLine {
  sem_t sem;
};

class ShmSemSession final : public Session {
 public:
  Result<void> create(Pattern pattern, std::size_t size) {
    rtt_ = pattern == Pattern::kRtt;
    slot_ = round_up(size, kCacheLine);
    slots_ = rtt_ ? 2 : std::clamp<std::size_t>((4u << 20) / slot_, 2, 64);
    bytes_ = 4 * sizeof(SemLine) + slots_ * slot_;
    name_ = unique_object_name();
    // O_EXCL, 0600, sized with posix_fallocate (ENOSPC at creation, never SIGBUS later).
    auto shm = PosixShm::create(name_, bytes_);
    if (!shm) return fail(shm.error());
    guard_ = UnlinkGuard(name_);
    auto m = shm->map();
    if (!m) return fail(m.error());
    map_ = std::move(*m);
    // empty = free slots, full = filled slots (throughput); req/resp (round trip).
    const unsigned initial[4] = {static_cast<unsigned>(slots_), 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
      if (::sem_init(&sem(i), 1, initial[i]) != 0) return last_errno().fail("sem_init", ipckit::quoted(name_));
    }
    return {};
  }

  Result<void> prepare(Role) override {
    // Each side opens the object by name, as two unrelated programs would.
    map_.reset();
    auto shm = PosixShm::open(name_, ShmOpenOptions{Access::kReadWrite, bytes_});
    if (!shm) return fail(shm.error());
    auto m = shm->map();
    if (!m) return fail(m.error());
    map_ = std::move(*m);
    return {};
  }

  // Both sides have it mapped: the name is no longer needed (the guard also removes it on every
  // other exit path of the parent).
  void after_ready() noexcept override { guard_.reset(); }

  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    return rtt_ ? round_trip(role, ctx, stats) : throughput(role, ctx, stats);
  }

 private:
  sem_t& sem(int i) const noexcept { return reinterpret_cast<SemLine*>(map_.data())[i].sem; }
  std::byte* slot(std::size_t i) const noexcept {
    return static_cast<std::byte*>(map_.data()) + 4 * sizeof(SemLine) + i * slot_;
  }
  Result<void> wait(int i) {
    if (no_eintr(::sem_wait, &sem(i)) != 0) return last_errno().fail("sem_wait", ipckit::quoted(name_));
    return {};
  }
  Result<void> post(int i) {
    if (::sem_post(&sem(i)) != 0) return last_errno().fail("sem_post", ipckit::quoted(name_));
    return {};
  }

  Result<void> throughput(Role role, const RunContext& ctx, SideStats& stats) {
    constexpr int kEmpty = 0;
    constexpr int kFull = 1;
    const std::size_t n = ctx.size;
    const std::uint64_t mask = n >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    if (role == Role::kSender) {
      for (;; ++seq) {
        const bool more = (seq & mask) != 0 || clock.tick(seq);
        if (auto r = wait(kEmpty); !r) return r;
        ctx.payload->fill(slot(seq % slots_), n, seq, more ? 0 : kFlagEnd);
        if (auto r = post(kFull); !r) return r;  // sem_post/sem_wait order the slot's bytes
        if (!more) break;
      }
      clock.finish(seq, stats);
      return {};
    }
    for (;; ++seq) {
      if (auto r = wait(kFull); !r) return r;
      const FrameCheck c = check_frame(slot(seq % slots_), n, n, seq);
      if (c == FrameCheck::kEnd) break;
      if (c != FrameCheck::kOk) {
        stats.set_unverified(to_string(c));
        break;
      }
      if (auto r = post(kEmpty); !r) return r;
      if (((seq + 1) & mask) == 0) clock.tick(seq + 1);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    return {};
  }

  Result<void> round_trip(Role role, const RunContext& ctx, SideStats& stats) {
    constexpr int kReq = 2;
    constexpr int kResp = 3;
    const std::size_t n = ctx.size;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    if (role == Role::kSender) {
      for (;; ++seq) {
        const bool more = clock.tick(seq);
        const std::uint64_t t0 = SideClock::now_ns();
        ctx.payload->fill(slot(0), n, seq, more ? 0 : kFlagEnd);
        if (auto r = post(kReq); !r) return r;
        if (!more) break;
        if (auto r = wait(kResp); !r) return r;
        const FrameCheck c = check_frame(slot(1), n, n, seq);
        const std::uint64_t t1 = SideClock::now_ns();
        if (c != FrameCheck::kOk) {
          stats.set_unverified(to_string(c));
          break;
        }
        if (clock.warm()) ctx.control->histogram.record(t1 - t0);
      }
      clock.finish(seq, stats);
      return {};
    }
    for (;; ++seq) {
      if (auto r = wait(kReq); !r) return r;
      const FrameCheck c = check_frame(slot(0), n, n, seq);
      if (c == FrameCheck::kEnd) break;
      if (c != FrameCheck::kOk) {
        stats.set_unverified(to_string(c));
        break;
      }
      ctx.payload->fill(slot(1), n, seq);
      if (auto r = post(kResp); !r) return r;
      clock.tick(seq + 1);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    return {};
  }

  bool rtt_ = false;
  std::size_t slot_ = 0;
  std::size_t slots_ = 0;
  std::size_t bytes_ = 0;
  std::string name_;
  UnlinkGuard guard_;
  Mapping map_;
};

class ShmSemMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "shm-sem"; }
  std::string_view description() const noexcept override {
    return "POSIX shm ring of slots + process-shared semaphores (empty/full), opened by name";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const override {
    auto s = std::make_unique<ShmSemSession>();
    if (auto r = s->create(pattern, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& shm_sem_mechanism() {
  static const ShmSemMechanism m;
  return m;
}

}  // namespace ipckit::bench
