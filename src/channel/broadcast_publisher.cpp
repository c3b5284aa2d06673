// SPDX-License-Identifier: Apache-2.0
// The broadcast publisher: open (and recovery), subscriber discovery (rescan), the kBlock waits
// for space and for subscribers, the seqlock write of a message, close.
#include "broadcast_objects.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/name.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "ipckit/core/ownership.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;
using namespace detail::broadcast;  // the shared helpers (broadcast_objects.hpp)

BroadcastPublisher::BroadcastPublisher() = default;
BroadcastPublisher::BroadcastPublisher(BroadcastPublisher&&) noexcept = default;
BroadcastPublisher& BroadcastPublisher::operator=(BroadcastPublisher&& other) noexcept {
  return detail::replace_endpoint(*this, std::move(other));
}
BroadcastPublisher::~BroadcastPublisher() { (void)close(); }

Result<BroadcastPublisher> BroadcastPublisher::open(std::string_view name, OpenMode mode,
                                                    const BroadcastOptions& options) {
  auto objects = open_objects(name, mode, options, false);
  if (!objects) return fail(objects.error());
  auto claim = detail::claim_role(objects->data, objects->data.header->producer, "publisher", options.channel.wait);
  if (!claim) return fail(claim.error());
  BroadcastPublisher p;
  p.at_ = detail::Attachment(std::move(objects->data), options.channel, claim->claim, claim->reclaimed);
  p.ctl_map_ = std::move(objects->ctl);
  p.ctl_ = static_cast<detail::BroadcastCtl*>(p.ctl_map_.data());
  p.evict_after_ = options.evict_after;
  p.policy_ = read_policy(p.at_.map.header);
  p.slot_size_ = slot_size_for(p.at_.map.max_message);
  p.slots_ = p.at_.map.capacity / p.slot_size_;
  // Recovery: a previous publisher may have completed messages after its last tail store (it died
  // between the two); a slot left odd (died mid-copy) is rewritten by us with the same number.
  // acquire: pairs with the release store of the tail in write_slot()
  std::uint64_t tail = aref(p.at_.map.header->prod.tail).load(std::memory_order_acquire);
  for (std::uint64_t i = 0; i < p.slots_; ++i) {
    if (aref(slot_at(p.at_.map, p.slots_, p.slot_size_, tail)->seq).load(std::memory_order_acquire) != 2 * tail + 2) {
      break;
    }
    ++tail;
  }
  p.tail_ = tail;
  p.min_cache_ = tail;
  aref(p.at_.map.header->prod.tail).store(tail, std::memory_order_release);
  return p;
}

void BroadcastPublisher::rescan() {
  // acquire: pairs with the subscribers' release fetch_add after writing their record
  join_gen_seen_ = aref(ctl_->join_gen).load(std::memory_order_acquire);
  for (auto& s : subs_) s->seen = false;
  for (std::uint64_t id : list_subscribers(at_.map.name)) {
    if (std::find(gone_.begin(), gone_.end(), id) != gone_.end()) continue;
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](auto& s) { return s->id == id; });
    if (it != subs_.end()) {
      (*it)->seen = true;
      continue;
    }
    auto v = std::make_unique<detail::SubscriberView>();
    v->id = id;
    v->name = sub_name(at_.map.name, id);
    const int fd = ::shm_open(v->name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) continue;
    UniqueFd f(fd);
    // A record counts only when its owner is trusted and its mode no wider than the channel's:
    // anyone can create `<name>.sub.<id>` in /dev/shm, to stall a kBlock publisher with a cursor
    // that never moves or to truncate it under our mapping (SIGBUS). Others are ignored.
    if (!check_fd_owner(fd, at_.options.mode, at_.options.trust, "channel_open", quoted(v->name))) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != detail::kRecordSize) continue;
    MapOptions mo;
    mo.access = Access::kReadOnly;  // the publisher can never write a subscriber's record
    auto m = Mapping::map(fd, detail::kRecordSize, mo, 0, quoted(v->name));
    if (!m) continue;
    v->rec = static_cast<detail::SubscriberRecord*>(m->data());
    v->map = std::move(*m);
    v->fd = std::move(f);
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
    if (record_owner_dead(*s)) drop_dead(*s);
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
  detail::EvictLine* e = evict_line(at_.map.header);
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
  if (!at_.usable()) return fail(at_.unusable_error("channel_send", "publisher"));
  if (message.size() > at_.map.max_message) {
    return fail_library(LibraryCode::kTooLarge, "channel_send", quoted(at_.map.name),
                        fmt::format("message of {} bytes > max_message {} of the channel", message.size(),
                                    at_.map.max_message));
  }
  // seq_cst: the publisher half of the join handshake (a joiner bumps join_gen, then reads tail).
  if (aref(ctl_->join_gen).load(std::memory_order_seq_cst) != join_gen_seen_) rescan();
  if (policy_ == BroadcastPolicy::kBlock && !room_now()) {
    if (!may_wait) return BroadcastStatus::kWouldBlock;
    if (const BroadcastStatus st = wait_for_room(deadline); st != BroadcastStatus::kOk) return st;
  }
  write_slot(message);
  return BroadcastStatus::kOk;
}

bool BroadcastPublisher::room_now() {
  // Joiners still positioning must be re-read for every message (docs: join handshake).
  const bool pending = std::any_of(subs_.begin(), subs_.end(), [](auto& s) {
    return s->seen && aref(s->rec->cursor).load(std::memory_order_relaxed) == detail::kUnpositioned;
  });
  if (pending || tail_ - min_cache_ >= slots_) min_cache_ = min_cursor();
  return tail_ - min_cache_ < slots_;
}

BroadcastStatus BroadcastPublisher::wait_for_room(Deadline deadline) {
  // The timers outlive one call: a caller that sends in short slices (ipckit send) still gets the
  // liveness check and the eviction deadline of one long wait.
  if (blocked_since_ == Clock::time_point{}) blocked_since_ = Clock::now();
  for (;;) {
    const auto now = Clock::now();
    const Clock::duration slice = std::max<Clock::duration>(
        std::min<Clock::duration>(at_.sleep_slice(deadline), blocked_since_ + evict_after_ - now),
        std::chrono::milliseconds(1));
    bool timed_out = false;
    // The channel's one sleep (src/channel/wait.hpp). Dekker: pairs with the subscriber's fence
    // after its cursor store in advance().
    const bool done = detail::sleep_unless_ready(ctl_->publisher_sleeping, ctl_->space_seq, slice, [&] {
      if (aref(ctl_->join_gen).load(std::memory_order_acquire) != join_gen_seen_) rescan();
      min_cache_ = min_cursor();
      if (tail_ - min_cache_ < slots_) return true;
      const auto t = Clock::now();
      if (t >= deadline) return timed_out = true;
      unstick_slowest(t, blocked_since_);
      min_cache_ = min_cursor();
      return tail_ - min_cache_ < slots_;
    });
    if (timed_out) return BroadcastStatus::kTimedOut;
    if (done) break;
  }
  blocked_since_ = Clock::time_point{};
  return BroadcastStatus::kOk;
}

void BroadcastPublisher::unstick_slowest(Clock::time_point now, Clock::time_point since) {
  const bool check_liveness = at_.liveness_due(false);
  for (auto& s : subs_) {
    if (!s->seen || aref(s->rec->cursor).load(std::memory_order_relaxed) != min_cache_) continue;
    if (check_liveness && record_owner_dead(*s)) {
      drop_dead(*s);
      continue;
    }
    if (now - since >= evict_after_) evict(*s);
  }
  std::erase_if(subs_, [](auto& s) { return !s->seen; });
}

void BroadcastPublisher::write_slot(std::span<const std::byte> message) noexcept {
  // Seqlock write of message tail_: odd sequence, payload, even sequence.
  const std::uint64_t m = tail_;
  detail::SlotHeader* slot = slot_at(at_.map, slots_, slot_size_, m);
  aref(slot->seq).store(2 * m + 1, std::memory_order_relaxed);
  // release fence: a reader that sees any payload byte below also sees the odd sequence (pairs
  // with the reader's acquire fence before its second sequence load).
  std::atomic_thread_fence(std::memory_order_release);
  aref(slot->length).store(message.size(), std::memory_order_relaxed);
  if (!message.empty()) std::memcpy(reinterpret_cast<std::byte*>(slot + 1), message.data(), message.size());
  aref(slot->seq).store(2 * m + 2, std::memory_order_release);  // pairs with the reader's first acquire load
  tail_ = m + 1;
  aref(at_.map.header->prod.tail).store(tail_, std::memory_order_release);  // pairs with acquire in subscribers/open()
  aref(at_.map.header->prod.sent).store(tail_, std::memory_order_relaxed);
  // Dekker with sleeping subscribers: pairs with the fence in their sleep_unless_ready().
  std::atomic_thread_fence(std::memory_order_seq_cst);
  (void)detail::wake_all_announced(ctl_->sleepers, ctl_->data_seq);
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
  if (!at_.usable()) return fail(at_.unusable_error("channel_wait", "publisher"));
  const auto enough = [&] {
    // A rescan per liveness interval also drops subscribers that died without leaving.
    if (aref(ctl_->join_gen).load(std::memory_order_acquire) != join_gen_seen_ || at_.liveness_due(false)) rescan();
    return joined_subscribers() >= n;
  };
  bool timed_out = false;
  if (!may_wait) {
    if (!enough()) return BroadcastStatus::kWouldBlock;
  } else {
    // The channel's one sleep (src/channel/wait.hpp). Dekker with a joiner: it stores its cursor
    // (seq_cst), fences and reads our announcement; we announce, fence, re-read join_gen and cursors.
    const auto woken_or_ready = [&] {
      const auto slice = std::max<Clock::duration>(at_.sleep_slice(deadline), std::chrono::milliseconds(1));
      return detail::sleep_unless_ready(ctl_->publisher_sleeping, ctl_->space_seq, slice,
                                        [&] { return enough() || (timed_out = Clock::now() >= deadline); });
    };
    while (!woken_or_ready()) {
    }
  }
  if (timed_out) return BroadcastStatus::kTimedOut;
  min_cache_ = min_cursor();
  return BroadcastStatus::kOk;
}

Result<void> BroadcastPublisher::close() noexcept {
  if (!at_.attached()) return {};
  if (at_.ours()) {
    detail::release_role(at_.map, at_.map.header->producer, at_.claim);
    detail::wake_seq(ctl_->data_seq);  // sleeping subscribers see the close (announced or not)
  }
  subs_.clear();
  ctl_ = nullptr;
  ctl_map_.reset();
  at_.detach();
  return {};
}

BroadcastCounters BroadcastPublisher::counters() const noexcept {
  BroadcastCounters c;
  if (!at_.attached()) return c;
  c.published = aref(at_.map.header->prod.sent).load(std::memory_order_relaxed);
  c.evictions = aref(evict_line(at_.map.header)->evictions).load(std::memory_order_relaxed);
  c.dead_removed = dead_removed_;
  c.subscribers = static_cast<std::uint64_t>(
      std::count_if(subs_.begin(), subs_.end(), [](auto& s) { return s->seen; }));
  return c;
}
}  // namespace ipckit
