// SPDX-License-Identifier: Apache-2.0
// The broadcast publisher: open (and recovery), subscriber discovery (rescan), the kBlock waits
// for space and for subscribers, the seqlock write of a message, close.
#include "broadcast_objects.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/name.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;
using detail::BroadcastCtl;
using detail::SubscriberRecord;
using namespace detail::broadcast;  // the shared helpers (broadcast_objects.hpp)
using detail::EvictLine;
using detail::kSlotHeader;
using detail::SlotHeader;

// ------------------------------------------------------------------------------------------------
// BroadcastPublisher

BroadcastPublisher::BroadcastPublisher() = default;
BroadcastPublisher::BroadcastPublisher(BroadcastPublisher&& o) noexcept { *this = std::move(o); }
BroadcastPublisher& BroadcastPublisher::operator=(BroadcastPublisher&& o) noexcept {
  if (this == &o) return *this;
  (void)close();
  map_ = std::move(o.map_);
  o.map_.header = nullptr;
  ctl_map_ = std::move(o.ctl_map_);
  ctl_ = std::exchange(o.ctl_, nullptr);
  options_ = o.options_;
  policy_ = o.policy_;
  claim_ = std::exchange(o.claim_, 0);
  fork_generation_ = o.fork_generation_;
  slots_ = o.slots_;
  slot_size_ = o.slot_size_;
  tail_ = o.tail_;
  min_cache_ = o.min_cache_;
  join_gen_seen_ = o.join_gen_seen_;
  dead_removed_ = o.dead_removed_;
  next_live_ = o.next_live_;
  blocked_since_ = o.blocked_since_;
  reclaimed_ = o.reclaimed_;
  subs_ = std::move(o.subs_);
  gone_ = std::move(o.gone_);
  return *this;
}
BroadcastPublisher::~BroadcastPublisher() { (void)close(); }

bool BroadcastPublisher::valid() const noexcept { return map_.header != nullptr; }

Result<BroadcastPublisher> BroadcastPublisher::open(std::string_view name, OpenMode mode,
                                                    const BroadcastOptions& options) {
  if (auto v = check_derived_names(name); !v) return fail(v.error());
  if (mode != OpenMode::kOpenExisting) {
    if (auto v = check_slots(name, options.channel.capacity, options.channel.max_message, false); !v) {
      return fail(v.error());
    }
  }
  auto m = detail::open_segment(name, mode, options.channel, 0, cl::kPatternBroadcast, false,
                                static_cast<std::uint64_t>(options.policy));
  if (!m) return fail(m.error());
  if (auto v = check_slots(name, m->capacity, m->max_message, true); !v) return fail(v.error());
  auto ctl = open_ctl(name, options.channel);
  if (!ctl) return fail(ctl.error());
  auto claim = detail::claim_role(*m, m->header->producer, "publisher", options.channel.wait);
  if (!claim) return fail(claim.error());
  BroadcastPublisher p;
  p.map_ = std::move(*m);
  p.ctl_map_ = std::move(*ctl);
  p.ctl_ = static_cast<BroadcastCtl*>(p.ctl_map_.data());
  p.options_ = options;
  p.policy_ = read_policy(p.map_.header);
  p.claim_ = claim->claim;
  p.reclaimed_ = claim->reclaimed;
  p.fork_generation_ = detail::fork_generation();
  p.slot_size_ = slot_size_for(p.map_.max_message);
  p.slots_ = p.map_.capacity / p.slot_size_;
  // Recovery: a previous publisher may have completed messages after its last tail store (it died
  // between the two); a slot left odd (died mid-copy) is rewritten by us with the same number.
  std::uint64_t tail = aref(p.map_.header->prod.tail).load(std::memory_order_acquire);  // pairs with release in send_impl()
  for (std::uint64_t i = 0; i < p.slots_; ++i) {
    auto* s = reinterpret_cast<SlotHeader*>(p.map_.ring + (tail % p.slots_) * p.slot_size_);
    if (aref(s->seq).load(std::memory_order_acquire) != 2 * tail + 2) break;
    ++tail;
  }
  p.tail_ = tail;
  p.min_cache_ = tail;
  p.next_live_ = Clock::now() + options.channel.liveness_interval;
  aref(p.map_.header->prod.tail).store(tail, std::memory_order_release);
  return p;
}

void BroadcastPublisher::rescan() {
  // acquire: pairs with the subscribers' release fetch_add after writing their record
  join_gen_seen_ = aref(ctl_->join_gen).load(std::memory_order_acquire);
  for (auto& s : subs_) s->seen = false;
  for (std::uint64_t id : list_subscribers(map_.name)) {
    if (std::find(gone_.begin(), gone_.end(), id) != gone_.end()) continue;
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](auto& s) { return s->id == id; });
    if (it != subs_.end()) {
      (*it)->seen = true;
      continue;
    }
    auto v = std::make_unique<detail::SubscriberView>();
    v->id = id;
    v->name = sub_name(map_.name, id);
    const int fd = ::shm_open(v->name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) continue;
    UniqueFd f(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != detail::kRecordSize) continue;
    MapOptions mo;
    mo.access = Access::kReadOnly;  // the publisher can never write a subscriber's record
    auto m = Mapping::map(fd, detail::kRecordSize, mo, 0, quoted(v->name));
    if (!m) continue;
    v->rec = static_cast<SubscriberRecord*>(m->data());
    v->map = std::move(*m);
    // pairs with the release store of `ready` in BroadcastSubscriber::open()
    if (aref(v->rec->ready).load(std::memory_order_acquire) != cl::kReady ||
        aref(v->rec->magic).load(std::memory_order_relaxed) != detail::kSubMagic ||
        aref(v->rec->id).load(std::memory_order_relaxed) != id) {
      continue;  // not yet ready (it bumps join_gen when it is) or garbage: ignored
    }
    v->seen = true;
    subs_.push_back(std::move(v));
  }
  // Left (object removed), closed or dead subscribers stop counting.
  for (auto& s : subs_) {
    if (!s->seen || aref(s->rec->closed).load(std::memory_order_relaxed) != 0) continue;
    ProcessIdentity who;
    who.pid = aref(s->rec->who.pid).load(std::memory_order_relaxed);
    who.start_time = aref(s->rec->who.start_time).load(std::memory_order_relaxed);
    who.pid_ns = aref(s->rec->who.pid_ns).load(std::memory_order_relaxed);
    if (liveness(who) == Liveness::kDead) drop_dead(*s);
  }
  std::erase_if(subs_, [](auto& s) { return !s->seen || aref(s->rec->closed).load(std::memory_order_relaxed) != 0; });
  min_cache_ = min_cursor();
}

std::uint64_t BroadcastPublisher::min_cursor() {
  std::uint64_t lo = tail_;
  for (auto& s : subs_) {
    if (!s->seen) continue;
    // seq_cst: with the fence after our tail store this is the publisher half of the join
    // handshake (docs/channel.md); it also acquires the subscriber's reads of the slots before the
    // release store of its cursor, so we overwrite only slots it has finished copying.
    const std::uint64_t c = aref(s->rec->cursor).load(std::memory_order_seq_cst);
    if (c == detail::kUnpositioned || c > tail_) continue;  // joining, or garbage (harms only itself)
    if (aref(s->rec->closed).load(std::memory_order_relaxed) != 0) continue;
    lo = std::min(lo, c);
  }
  return lo;
}

void BroadcastPublisher::evict(detail::SubscriberView& s) {
  EvictLine* e = evict_line(map_.header);
  const std::uint64_t n = aref(e->evictions).load(std::memory_order_relaxed);
  aref(e->evicted_ids[n % 8]).store(s.id + 1, std::memory_order_relaxed);
  aref(e->evictions).store(n + 1, std::memory_order_release);  // pairs with acquire in evicted_in_header()
  gone_.push_back(s.id);
  s.seen = false;
  detail::wake_seq(ctl_->data_seq);  // a sleeping evictee learns it at once
}

void BroadcastPublisher::drop_dead(detail::SubscriberView& s) {
  // Its owner is dead: nobody else removes the record (leak-free without unlink()).
  ::shm_unlink(s.name.c_str());
  gone_.push_back(s.id);
  s.seen = false;
  ++dead_removed_;
}

Result<BroadcastStatus> BroadcastPublisher::try_send(std::span<const std::byte> message) {
  return send_impl(message, Clock::time_point::max(), false);
}
Result<BroadcastStatus> BroadcastPublisher::send(std::span<const std::byte> message) {
  return send_impl(message, Clock::time_point::max(), true);
}
Result<BroadcastStatus> BroadcastPublisher::send_until(std::span<const std::byte> message, Deadline deadline) {
  return send_impl(message, deadline, true);
}

Result<BroadcastStatus> BroadcastPublisher::send_impl(std::span<const std::byte> message, Deadline deadline,
                                                      bool may_wait) {
  if (map_.header == nullptr) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_send", "broadcast", "publisher is closed");
  }
  if (fork_generation_ != detail::fork_generation()) return forked(map_, "publisher");
  if (message.size() > map_.max_message) {
    return fail_library(LibraryCode::kTooLarge, "channel_send", quoted(map_.name),
                        fmt::format("message of {} bytes > max_message {} of the channel", message.size(),
                                    map_.max_message));
  }
  // seq_cst: the publisher half of the join handshake (a joiner bumps join_gen, then reads tail).
  if (aref(ctl_->join_gen).load(std::memory_order_seq_cst) != join_gen_seen_) rescan();
  if (policy_ == BroadcastPolicy::kBlock) {
    // Joiners still positioning must be re-read for every message (docs: join handshake).
    bool pending = false;
    for (auto& s : subs_) {
      if (s->seen && aref(s->rec->cursor).load(std::memory_order_relaxed) == detail::kUnpositioned) pending = true;
    }
    if (pending || tail_ - min_cache_ >= slots_) min_cache_ = min_cursor();
    if (tail_ - min_cache_ >= slots_) {
      if (!may_wait) return BroadcastStatus::kWouldBlock;
      // The timers outlive one call: a caller that sends in short slices (ipckit send) still gets
      // the liveness check and the eviction deadline of one long wait.
      if (blocked_since_ == Clock::time_point{}) blocked_since_ = Clock::now();
      const Clock::time_point wait_start = blocked_since_;
      Clock::time_point& next_live = next_live_;
      for (;;) {
        const std::uint32_t seen = aref(ctl_->space_seq).load(std::memory_order_acquire);
        aref(ctl_->publisher_sleeping).store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the subscriber's fence after its cursor store
        if (aref(ctl_->join_gen).load(std::memory_order_acquire) != join_gen_seen_) rescan();
        min_cache_ = min_cursor();
        if (tail_ - min_cache_ < slots_) break;
        const auto now = Clock::now();
        if (now >= deadline) {
          aref(ctl_->publisher_sleeping).store(0, std::memory_order_relaxed);
          return BroadcastStatus::kTimedOut;
        }
        // The slowest: dead ones are dropped, one stuck for evict_after is evicted.
        for (auto& s : subs_) {
          if (!s->seen) continue;
          const std::uint64_t c = aref(s->rec->cursor).load(std::memory_order_relaxed);
          if (c != min_cache_) continue;
          if (now >= next_live) {
            ProcessIdentity who;
            who.pid = aref(s->rec->who.pid).load(std::memory_order_relaxed);
            who.start_time = aref(s->rec->who.start_time).load(std::memory_order_relaxed);
            who.pid_ns = aref(s->rec->who.pid_ns).load(std::memory_order_relaxed);
            if (liveness(who) == Liveness::kDead) {
              drop_dead(*s);
              continue;
            }
          }
          if (now - wait_start >= options_.evict_after) evict(*s);
        }
        if (now >= next_live) next_live = now + options_.channel.liveness_interval;
        std::erase_if(subs_, [](auto& s) { return !s->seen; });
        min_cache_ = min_cursor();
        if (tail_ - min_cache_ < slots_) break;
        Clock::duration t = std::min<Clock::duration>(next_live - now, wait_start + options_.evict_after - now);
        if (deadline != Clock::time_point::max()) t = std::min<Clock::duration>(t, deadline - now);
        detail::futex_wait(&ctl_->space_seq, seen, std::max<Clock::duration>(t, std::chrono::milliseconds(1)));
      }
      aref(ctl_->publisher_sleeping).store(0, std::memory_order_relaxed);
      blocked_since_ = Clock::time_point{};
    }
  }
  // Seqlock write of message tail_: odd sequence, payload, even sequence.
  const std::uint64_t m = tail_;
  auto* slot = reinterpret_cast<SlotHeader*>(map_.ring + (m % slots_) * slot_size_);
  aref(slot->seq).store(2 * m + 1, std::memory_order_relaxed);
  // release fence: a reader that sees any payload byte below also sees the odd sequence (pairs
  // with the reader's acquire fence before its second sequence load).
  std::atomic_thread_fence(std::memory_order_release);
  aref(slot->length).store(message.size(), std::memory_order_relaxed);
  if (!message.empty()) std::memcpy(reinterpret_cast<std::byte*>(slot + 1), message.data(), message.size());
  aref(slot->seq).store(2 * m + 2, std::memory_order_release);  // pairs with the reader's first acquire load
  tail_ = m + 1;
  aref(map_.header->prod.tail).store(tail_, std::memory_order_release);  // pairs with acquire in subscribers/open()
  aref(map_.header->prod.sent).store(tail_, std::memory_order_relaxed);
  // Dekker with sleeping subscribers: they increment `sleepers` then re-check the slot.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  (void)detail::wake_all_announced(ctl_->sleepers, ctl_->data_seq);
  return BroadcastStatus::kOk;
}

Result<BroadcastStatus> BroadcastPublisher::try_wait_for_subscribers(std::size_t n) {
  return wait_subscribers_impl(n, Clock::time_point::max(), false);
}
Result<BroadcastStatus> BroadcastPublisher::wait_for_subscribers(std::size_t n) {
  return wait_subscribers_impl(n, Clock::time_point::max(), true);
}
Result<BroadcastStatus> BroadcastPublisher::wait_for_subscribers_until(std::size_t n, Deadline deadline) {
  return wait_subscribers_impl(n, deadline, true);
}

std::size_t BroadcastPublisher::joined_subscribers() {
  std::size_t joined = 0;
  for (auto& s : subs_) {
    if (!s->seen || aref(s->rec->closed).load(std::memory_order_relaxed) != 0) continue;
    // seq_cst: pairs with the joiner's seq_cst cursor store (join handshake): once we count it,
    // every message we publish is one it will receive.
    const std::uint64_t c = aref(s->rec->cursor).load(std::memory_order_seq_cst);
    if (c != detail::kUnpositioned && c <= tail_) ++joined;
  }
  return joined;
}

Result<BroadcastStatus> BroadcastPublisher::wait_subscribers_impl(std::size_t n, Deadline deadline, bool may_wait) {
  if (map_.header == nullptr) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_wait", "broadcast", "publisher is closed");
  }
  if (fork_generation_ != detail::fork_generation()) return forked(map_, "publisher");
  for (;;) {
    const std::uint32_t seen = aref(ctl_->space_seq).load(std::memory_order_acquire);
    aref(ctl_->publisher_sleeping).store(1, std::memory_order_relaxed);
    // Dekker with a joiner: it stores its cursor (seq_cst), then loads publisher_sleeping (seq_cst)
    // and wakes us; we store the flag, fence, then re-read join_gen and the cursors.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const auto now = Clock::now();
    // A rescan per liveness interval also drops subscribers that died without leaving.
    if (aref(ctl_->join_gen).load(std::memory_order_acquire) != join_gen_seen_ || now >= next_live_) {
      rescan();
      next_live_ = now + options_.channel.liveness_interval;
    }
    if (joined_subscribers() >= n) {
      aref(ctl_->publisher_sleeping).store(0, std::memory_order_relaxed);
      min_cache_ = min_cursor();
      return BroadcastStatus::kOk;
    }
    if (!may_wait || now >= deadline) {
      aref(ctl_->publisher_sleeping).store(0, std::memory_order_relaxed);
      return may_wait ? BroadcastStatus::kTimedOut : BroadcastStatus::kWouldBlock;
    }
    Clock::duration t = next_live_ - now;
    if (deadline != Clock::time_point::max()) t = std::min<Clock::duration>(t, deadline - now);
    detail::futex_wait(&ctl_->space_seq, seen, std::max<Clock::duration>(t, std::chrono::milliseconds(1)));
  }
}

Result<void> BroadcastPublisher::close() noexcept {
  if (map_.header == nullptr) return {};
  if (fork_generation_ == detail::fork_generation()) {
    detail::release_role(map_.header->producer, claim_);
    detail::wake_seq(ctl_->data_seq);  // sleeping subscribers see the close
  }
  subs_.clear();
  ctl_ = nullptr;
  ctl_map_.reset();
  map_.mapping.reset();
  map_.header = nullptr;
  return {};
}

BroadcastCounters BroadcastPublisher::counters() const noexcept {
  BroadcastCounters c;
  if (map_.header == nullptr) return c;
  c.published = aref(map_.header->prod.sent).load(std::memory_order_relaxed);
  c.evictions = aref(evict_line(map_.header)->evictions).load(std::memory_order_relaxed);
  c.dead_removed = dead_removed_;
  c.subscribers = static_cast<std::uint64_t>(
      std::count_if(subs_.begin(), subs_.end(), [](auto& s) { return s->seen; }));
  return c;
}
}  // namespace ipckit
