// SPDX-License-Identifier: Apache-2.0
// The broadcast subscriber: join (record, handshake, session), the seqlock read of a message, the
// lapse/eviction handling and the sleep, leave.
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
// BroadcastSubscriber

BroadcastSubscriber::BroadcastSubscriber() = default;
BroadcastSubscriber::BroadcastSubscriber(BroadcastSubscriber&& o) noexcept { *this = std::move(o); }
BroadcastSubscriber& BroadcastSubscriber::operator=(BroadcastSubscriber&& o) noexcept {
  if (this == &o) return *this;
  (void)close();
  map_ = std::move(o.map_);
  o.map_.header = nullptr;
  ctl_map_ = std::move(o.ctl_map_);
  rec_map_ = std::move(o.rec_map_);
  ctl_ = std::exchange(o.ctl_, nullptr);
  rec_ = std::exchange(o.rec_, nullptr);
  options_ = o.options_;
  policy_ = o.policy_;
  rec_name_ = std::move(o.rec_name_);
  id_ = o.id_;
  fork_generation_ = o.fork_generation_;
  slots_ = o.slots_;
  slot_size_ = o.slot_size_;
  cursor_ = o.cursor_;
  received_ = o.received_;
  lost_ = o.lost_;
  evicted_ = o.evicted_;
  watch_ = std::move(o.watch_);
  dead_claim_ = o.dead_claim_;
  first_session_ = o.first_session_;
  next_check_ = o.next_check_;
  return *this;
}
BroadcastSubscriber::~BroadcastSubscriber() { (void)close(); }

bool BroadcastSubscriber::valid() const noexcept { return map_.header != nullptr; }

Result<BroadcastSubscriber> BroadcastSubscriber::open(std::string_view name, OpenMode mode,
                                                      const BroadcastOptions& options) {
  if (auto v = check_derived_names(name); !v) return fail(v.error());
  if (mode != OpenMode::kOpenExisting) {
    if (auto v = check_slots(name, options.channel.capacity, options.channel.max_message, false); !v) {
      return fail(v.error());
    }
  }
  // Read-only: a subscriber can never write the data (a stray store is SIGSEGV).
  auto m = detail::open_segment(name, mode, options.channel, 0, cl::kPatternBroadcast, true,
                                static_cast<std::uint64_t>(options.policy));
  if (!m) return fail(m.error());
  if (auto v = check_slots(name, m->capacity, m->max_message, true); !v) return fail(v.error());
  auto ctl = open_ctl(name, options.channel);
  if (!ctl) return fail(ctl.error());
  auto self = self_identity();
  if (!self) return fail(self.error());
  BroadcastSubscriber s;
  s.map_ = std::move(*m);
  s.ctl_map_ = std::move(*ctl);
  s.ctl_ = static_cast<BroadcastCtl*>(s.ctl_map_.data());
  s.options_ = options;
  s.policy_ = read_policy(s.map_.header);
  s.fork_generation_ = detail::fork_generation();
  s.slot_size_ = slot_size_for(s.map_.max_message);
  s.slots_ = s.map_.capacity / s.slot_size_;
  // Our own record: a fresh id, a new object that only we can write.
  for (int attempt = 0;; ++attempt) {
    s.id_ = aref(s.ctl_->next_id).fetch_add(1, std::memory_order_relaxed);
    s.rec_name_ = sub_name(name, s.id_);
    const int fd = ::shm_open(s.rec_name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, options.channel.mode);
    if (fd < 0) {
      if (errno == EEXIST && attempt < 100) continue;  // a stale record from a reset ctl object
      return last_errno().fail("shm_open", quoted(s.rec_name_));
    }
    UniqueFd f(fd);
    if (::fchmod(fd, options.channel.mode) != 0 || ::ftruncate(fd, detail::kRecordSize) != 0) {
      const int err = errno;
      ::shm_unlink(s.rec_name_.c_str());
      return fail_errno(err, "ftruncate", quoted(s.rec_name_));
    }
    auto rm = Mapping::map(fd, detail::kRecordSize, {}, 0, quoted(s.rec_name_));
    if (!rm) {
      ::shm_unlink(s.rec_name_.c_str());
      return fail(rm.error());
    }
    s.rec_map_ = std::move(*rm);
    break;
  }
  s.rec_ = static_cast<SubscriberRecord*>(s.rec_map_.data());
  s.rec_->magic = detail::kSubMagic;
  s.rec_->id = s.id_;
  s.rec_->who = *self;
  aref(s.rec_->cursor).store(detail::kUnpositioned, std::memory_order_relaxed);
  aref(s.rec_->ready).store(cl::kReady, std::memory_order_release);  // pairs with acquire in rescan()
  // Our session, read before we join: a publisher that closed (or died) before can have sent us
  // nothing, its end is not ours (we start at the tail); one that holds the role now may send to us
  // once we joined, and its end is ours.
  s.first_session_ = detail::first_session(s.map_.header->producer, [] { return false; });
  // Join handshake: announce, then position. seq_cst pairs with the publisher's seq_cst join_gen
  // load / fence after its tail store; see docs/channel.md for why the position is then safe.
  aref(s.ctl_->join_gen).fetch_add(1, std::memory_order_seq_cst);
  for (;;) {
    const std::uint64_t t = aref(s.map_.header->prod.tail).load(std::memory_order_seq_cst);
    aref(s.rec_->cursor).store(t, std::memory_order_seq_cst);
    const std::uint64_t t2 = aref(s.map_.header->prod.tail).load(std::memory_order_seq_cst);
    // t >= t2 - slots + 2 is what the handshake needs (docs/channel.md). It was `<`, which never
    // held for a 2-slot kBlock ring: open() spun forever (found by fuzz/channel_image_fuzz.cpp).
    if (t2 - t + 2 <= s.slots_ || s.policy_ == BroadcastPolicy::kLapse) {
      s.cursor_ = t;
      break;
    }
  }
  // Wake a kBlock publisher that may wait for a rescan (it does not need to: a joiner never makes
  // it wait longer, but it lets it pick the new subscriber up at once).
  // seq_cst: after our seq_cst cursor store, the other half of wait_for_subscribers()' Dekker pair.
  if (aref(s.ctl_->publisher_sleeping).load(std::memory_order_seq_cst) != 0) detail::wake_seq(s.ctl_->space_seq);
  s.next_check_ = Clock::now() + options.channel.liveness_interval;
  return s;
}

bool BroadcastSubscriber::evicted_in_header() const noexcept {
  const EvictLine* e = evict_line(map_.header);
  auto* el = const_cast<EvictLine*>(e);
  const std::uint64_t n = aref(el->evictions).load(std::memory_order_acquire);  // pairs with release in evict()
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(n, 8); ++i) {
    if (aref(el->evicted_ids[i]).load(std::memory_order_relaxed) == id_ + 1) return true;
  }
  return false;
}

void BroadcastSubscriber::advance(std::uint64_t to, std::uint64_t received, std::uint64_t lost) noexcept {
  cursor_ = to;
  received_ += received;
  lost_ += lost;
  aref(rec_->received).store(received_, std::memory_order_relaxed);
  aref(rec_->lost).store(lost_, std::memory_order_relaxed);
  // release: our copies out of the slots happen-before the publisher (acquire in min_cursor())
  // overwrites them.
  aref(rec_->cursor).store(to, std::memory_order_release);
  if (policy_ == BroadcastPolicy::kBlock) {
    // Dekker with a sleeping publisher: it sets publisher_sleeping, fences, re-reads cursors.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    (void)detail::wake_all_announced(ctl_->publisher_sleeping, ctl_->space_seq);
  }
}

Result<BroadcastReceived> BroadcastSubscriber::try_receive(std::span<std::byte> buffer) {
  return receive_impl(buffer, Clock::time_point::max(), false);
}
Result<BroadcastReceived> BroadcastSubscriber::receive(std::span<std::byte> buffer) {
  return receive_impl(buffer, Clock::time_point::max(), true);
}
Result<BroadcastReceived> BroadcastSubscriber::receive_until(std::span<std::byte> buffer, Deadline deadline) {
  return receive_impl(buffer, deadline, true);
}

Result<BroadcastReceived> BroadcastSubscriber::receive_impl(std::span<std::byte> buffer, Deadline deadline,
                                                            bool may_wait) {
  if (map_.header == nullptr) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_receive", "broadcast", "subscriber is closed");
  }
  if (fork_generation_ != detail::fork_generation()) return forked(map_, "subscriber");
  if (buffer.size() < map_.max_message) {
    return fail_library(LibraryCode::kTooLarge, "channel_receive", quoted(map_.name),
                        fmt::format("buffer of {} bytes < max_message {}: a message may not fit", buffer.size(),
                                    map_.max_message));
  }
  BroadcastReceived out;
  if (evicted_) {
    out.status = BroadcastStatus::kEvicted;
    return out;
  }
  std::uint32_t spins = 0;
  const std::uint32_t spin_limit =
      options_.channel.wait == WaitStrategy::kBlocking ? 0
      : options_.channel.wait == WaitStrategy::kBusyPoll ? ~std::uint32_t{0}
                                                          : options_.channel.spin_iterations;
  for (;;) {
    const std::uint64_t m = cursor_;
    auto* slot = reinterpret_cast<SlotHeader*>(map_.ring + (m % slots_) * slot_size_);
    const std::uint64_t want = 2 * m + 2;
    const std::uint64_t s1 = aref(slot->seq).load(std::memory_order_acquire);  // pairs with the even store in send_impl()
    if (s1 == want) {
      const std::uint64_t len = aref(slot->length).load(std::memory_order_relaxed);
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, map_.max_message));
      if (n != 0) std::memcpy(buffer.data(), reinterpret_cast<const std::byte*>(slot + 1), n);
      // acquire fence: the copy is ordered before the second sequence load (pairs with the
      // publisher's release fence after its odd store).
      std::atomic_thread_fence(std::memory_order_acquire);
      const std::uint64_t s2 = aref(slot->seq).load(std::memory_order_relaxed);
      if (s2 == s1) {
        if (len > map_.max_message) {
          return fail_library(LibraryCode::kCorrupt, "channel_receive", quoted(map_.name),
                              fmt::format("slot of message {} claims {} bytes > max_message {}", m, len,
                                          map_.max_message));
        }
        advance(m + 1, 1, 0);
        out.status = BroadcastStatus::kOk;
        out.size = n;
        return out;
      }
      // Overwritten during the copy: fall through to the lapse handling below.
    } else if (s1 < want) {
      // Not yet published (or being written right now).
      const std::uint64_t tail = aref(map_.header->prod.tail).load(std::memory_order_acquire);
      if (tail > m + slots_) {
        // garbage sequence in a slot the publisher already passed: treat as lapsed below
      } else {
        if (policy_ == BroadcastPolicy::kBlock && evicted_in_header()) {
          evicted_ = true;
          out.status = BroadcastStatus::kEvicted;
          out.lost = tail > m ? tail - m : 0;
          return out;
        }
        if (tail <= m) {
          // Nothing left: is there still a publisher?
          const std::uint64_t claim = aref(map_.header->producer.claim).load(std::memory_order_acquire);
          const bool force = !may_wait;
          // An end of a session before ours (we joined after it closed) is not ours: wait.
          if (claim == 0 && aref(map_.header->producer.closed).load(std::memory_order_relaxed) != 0 &&
              detail::session_reached(map_.header->producer, first_session_)) {
            out.status = BroadcastStatus::kPeerClosed;
            return out;
          }
          if (claim != 0 && claim == dead_claim_) {
            out.status = BroadcastStatus::kPeerDied;
            return out;
          }
          const auto now = Clock::now();
          if (claim != 0 && (force || now >= next_check_)) {
            next_check_ = now + options_.channel.liveness_interval;
            if (watch_.check(map_.header->producer, claim) == detail::HolderState::kDead &&
                detail::session_reached(map_.header->producer, first_session_)) {
              dead_claim_ = claim;
              continue;  // re-check the slot once: the dead publisher may have completed it
            }
          }
        }
        if (!may_wait) return out;  // kWouldBlock
        const auto now = Clock::now();
        if (now >= deadline) {
          out.status = BroadcastStatus::kTimedOut;
          return out;
        }
        if (spins < spin_limit) {
          ++spins;
          detail::cpu_relax();
          continue;
        }
        // Sleep: announce, re-check, futex (Dekker with the publisher's fence + sleepers load). The
        // announcement stays until a publisher takes it off (detail::wake_all_announced()).
        const std::uint32_t seen = aref(ctl_->data_seq).load(std::memory_order_acquire);
        aref(ctl_->sleepers).fetch_add(1, std::memory_order_seq_cst);
        if (aref(slot->seq).load(std::memory_order_seq_cst) == s1 &&
            aref(map_.header->producer.claim).load(std::memory_order_relaxed) != 0) {
          Clock::duration t = next_check_ - now;
          if (deadline != Clock::time_point::max()) t = std::min<Clock::duration>(t, deadline - now);
          detail::futex_wait(&ctl_->data_seq, seen, std::max<Clock::duration>(t, std::chrono::microseconds(100)));
        } else if (aref(map_.header->producer.claim).load(std::memory_order_relaxed) == 0) {
          // No publisher (not yet, or closed without us seeing it): poll slowly.
          detail::futex_wait(&ctl_->data_seq, seen, std::chrono::milliseconds(10));
        }
        continue;
      }
    }
    // Lapsed: message m was overwritten. Skip to the oldest message that may still be intact.
    const std::uint64_t tail = aref(map_.header->prod.tail).load(std::memory_order_acquire);
    const std::uint64_t to = tail >= slots_ ? std::max(m + 1, tail - slots_ + 1) : m + 1;
    advance(to, 0, to - m);
    out.lost = to - m;
    if (policy_ == BroadcastPolicy::kBlock) {
      evicted_ = true;
      out.status = BroadcastStatus::kEvicted;
    } else {
      out.status = BroadcastStatus::kLapsed;
    }
    return out;
  }
}

Result<void> BroadcastSubscriber::close() noexcept {
  if (map_.header == nullptr) return {};
  if (fork_generation_ == detail::fork_generation() && rec_ != nullptr) {
    aref(rec_->closed).store(1, std::memory_order_release);
    ::shm_unlink(rec_name_.c_str());
    aref(ctl_->join_gen).fetch_add(1, std::memory_order_seq_cst);
    if (aref(ctl_->publisher_sleeping).load(std::memory_order_relaxed) != 0) detail::wake_seq(ctl_->space_seq);
  }
  rec_ = nullptr;
  rec_map_.reset();
  ctl_ = nullptr;
  ctl_map_.reset();
  map_.mapping.reset();
  map_.header = nullptr;
  return {};
}
}  // namespace ipckit
