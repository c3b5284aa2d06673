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
#include "token.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;
using namespace detail::broadcast;  // the shared helpers (broadcast_objects.hpp)

BroadcastSubscriber::BroadcastSubscriber() = default;
BroadcastSubscriber::BroadcastSubscriber(BroadcastSubscriber&&) noexcept = default;
BroadcastSubscriber& BroadcastSubscriber::operator=(BroadcastSubscriber&& other) noexcept {
  return detail::replace_endpoint(*this, std::move(other));
}
BroadcastSubscriber::~BroadcastSubscriber() { (void)close(); }

Result<BroadcastSubscriber> BroadcastSubscriber::open(std::string_view name, OpenMode mode,
                                                      const BroadcastOptions& options) {
  // Read-only: a subscriber can never write the data (a stray store is SIGSEGV).
  auto objects = open_objects(name, mode, options, true);
  if (!objects) return fail(objects.error());
  auto self = self_identity();
  if (!self) return fail(self.error());
  BroadcastSubscriber s;
  s.at_ = detail::Attachment(std::move(objects->data), options.channel, 0, false);
  s.ctl_map_ = std::move(objects->ctl);
  s.ctl_ = static_cast<detail::BroadcastCtl*>(s.ctl_map_.data());
  s.policy_ = read_policy(s.at_.map.header);
  s.slot_size_ = slot_size_for(s.at_.map.max_message);
  s.slots_ = s.at_.map.capacity / s.slot_size_;
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
    if (auto sized = size_new_object(fd, s.rec_name_, options.channel.mode, detail::kRecordSize); !sized) {
      ::shm_unlink(s.rec_name_.c_str());
      return fail(sized.error());
    }
    auto rm = Mapping::map(fd, detail::kRecordSize, {}, 0, quoted(s.rec_name_));
    if (!rm) {
      ::shm_unlink(s.rec_name_.c_str());
      return fail(rm.error());
    }
    s.rec_map_ = std::move(*rm);
    // Our liveness token, taken before the record is marked ready: a publisher that sees `ready`
    // and finds no token knows we died.
    auto token = detail::own_description(fd, s.rec_name_);
    if (!token) {
      ::shm_unlink(s.rec_name_.c_str());
      return fail(token.error());
    }
    auto took = detail::take_token(*token, 0, s.rec_name_);
    if (!took || !*took) {
      ::shm_unlink(s.rec_name_.c_str());
      if (!took) return fail(took.error());
      return fail_library(LibraryCode::kRoleTaken, "channel_open", quoted(s.rec_name_),
                          "another process holds the liveness token of our new record");
    }
    s.rec_token_ = std::move(*token);
    break;
  }
  s.rec_ = static_cast<detail::SubscriberRecord*>(s.rec_map_.data());
  s.rec_->magic = detail::kSubMagic;
  s.rec_->id = s.id_;
  s.rec_->who = *self;
  aref(s.rec_->cursor).store(detail::kUnpositioned, std::memory_order_relaxed);
  aref(s.rec_->ready).store(cl::kReady, std::memory_order_release);  // pairs with acquire in rescan()
  // Our session, read before we join: a publisher that closed (or died) before can have sent us
  // nothing, its end is not ours (we start at the tail); one that holds the role now may send to us
  // once we joined, and its end is ours.
  s.at_.peer.start(detail::first_session(s.at_.map, s.at_.map.header->producer, [] { return false; }));
  // Join handshake: announce, then position. seq_cst pairs with the publisher's seq_cst join_gen
  // load / fence after its tail store; see docs/channel.md for why the position is then safe.
  aref(s.ctl_->join_gen).fetch_add(1, std::memory_order_seq_cst);
  for (;;) {
    const std::uint64_t t = aref(s.at_.map.header->prod.tail).load(std::memory_order_seq_cst);
    aref(s.rec_->cursor).store(t, std::memory_order_seq_cst);
    const std::uint64_t t2 = aref(s.at_.map.header->prod.tail).load(std::memory_order_seq_cst);
    // t >= t2 - slots + 2 is what the handshake needs (docs/channel.md). It was `<`, which never
    // held for a 2-slot kBlock ring: open() spun forever (found by fuzz/channel_image_fuzz.cpp).
    if (t2 - t + 2 <= s.slots_ || s.policy_ == BroadcastPolicy::kLapse) {
      s.cursor_ = t;
      break;
    }
  }
  // Wake a kBlock publisher that may wait for a rescan (it does not need to: a joiner never makes
  // it wait longer, but it lets it pick the new subscriber up at once, and wait_for_subscribers()
  // needs it). Dekker: our seq_cst cursor store, fence, announcement load vs the publisher's
  // announcement, fence, cursor loads (src/channel/wait.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  (void)detail::wake_all_announced(s.ctl_->publisher_sleeping, s.ctl_->space_seq);
  return s;
}

bool BroadcastSubscriber::evicted_in_header() const noexcept {
  const detail::EvictLine* e = evict_line(at_.map.header);
  auto* el = const_cast<detail::EvictLine*>(e);
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
    // Dekker with a sleeping publisher: pairs with the fence in its sleep_unless_ready().
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
  if (!at_.usable()) return fail(at_.unusable_error("channel_receive", "subscriber"));
  if (buffer.size() < at_.map.max_message) {
    return fail_library(LibraryCode::kTooLarge, "channel_receive", quoted(at_.map.name),
                        fmt::format("buffer of {} bytes < max_message {}: a message may not fit", buffer.size(),
                                    at_.map.max_message));
  }
  BroadcastReceived out;
  if (evicted_) {
    out.status = BroadcastStatus::kEvicted;
    return out;
  }
  const WaitStrategy mode = at_.options.wait;
  const std::uint32_t spin_limit = mode == WaitStrategy::kBlocking   ? 0
                                   : mode == WaitStrategy::kBusyPoll ? ~std::uint32_t{0}
                                                                     : at_.options.spin_iterations;
  std::uint32_t spins = 0;
  bool end_seen = false;  // the publisher's end was seen once: the slot is read once more before saying so
  for (;;) {
    auto read = read_slot(buffer, out.size);
    if (!read) return fail(read.error());
    if (*read == SlotRead::kCopied) {
      out.status = BroadcastStatus::kOk;
      return out;
    }
    if (*read == SlotRead::kLapsed) return skip_lapsed();
    // Not yet published: evicted, the end of our session, or wait.
    const BroadcastStatus why = why_nothing(!may_wait, out.lost);
    if (why == BroadcastStatus::kEvicted || (why != BroadcastStatus::kOk && end_seen)) {
      out.status = why;
      return out;
    }
    if (why != BroadcastStatus::kOk) {
      // The publisher's last message may have landed between our slot read and its end: read again.
      end_seen = true;
      continue;
    }
    if (!may_wait) return out;  // kWouldBlock
    if (Clock::now() >= deadline) {
      out.status = BroadcastStatus::kTimedOut;
      return out;
    }
    if (spins < spin_limit) {
      ++spins;
      detail::cpu_relax();
      continue;
    }
    sleep_for_message(deadline);
  }
}

Result<BroadcastSubscriber::SlotRead> BroadcastSubscriber::read_slot(std::span<std::byte> buffer, std::size_t& size) {
  const std::uint64_t m = cursor_;
  detail::SlotHeader* slot = slot_at(at_.map, slots_, slot_size_, m);
  const std::uint64_t want = 2 * m + 2;
  // acquire: pairs with the release store of the even sequence in write_slot()
  const std::uint64_t s1 = aref(slot->seq).load(std::memory_order_acquire);
  if (s1 < want) {
    // Not yet published (or being written now), unless the publisher is more than a ring past it:
    // then the sequence is garbage in a slot it already passed, and the message is lost.
    const std::uint64_t tail = aref(at_.map.header->prod.tail).load(std::memory_order_acquire);
    return tail > m + slots_ ? SlotRead::kLapsed : SlotRead::kNotPublished;
  }
  if (s1 > want) return SlotRead::kLapsed;
  const std::uint64_t len = aref(slot->length).load(std::memory_order_relaxed);
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, at_.map.max_message));
  if (n != 0) std::memcpy(buffer.data(), reinterpret_cast<const std::byte*>(slot + 1), n);
  // acquire fence: the copy is ordered before the second sequence load (pairs with the publisher's
  // release fence after its odd store).
  std::atomic_thread_fence(std::memory_order_acquire);
  if (aref(slot->seq).load(std::memory_order_relaxed) != s1) return SlotRead::kLapsed;  // overwritten during the copy
  if (len > at_.map.max_message) {
    return fail_library(LibraryCode::kCorrupt, "channel_receive", quoted(at_.map.name),
                        fmt::format("slot of message {} claims {} bytes > max_message {}", m, len,
                                    at_.map.max_message));
  }
  advance(m + 1, 1, 0);
  size = n;
  return SlotRead::kCopied;
}

BroadcastStatus BroadcastSubscriber::why_nothing(bool force, std::uint64_t& lost) {
  const std::uint64_t m = cursor_;
  const std::uint64_t tail = aref(at_.map.header->prod.tail).load(std::memory_order_acquire);
  if (policy_ == BroadcastPolicy::kBlock && evicted_in_header()) {
    evicted_ = true;
    lost = tail > m ? tail - m : 0;
    return BroadcastStatus::kEvicted;
  }
  if (tail > m) return BroadcastStatus::kOk;  // published meanwhile: read it
  switch (at_.peer_status(at_.map.header->producer, force)) {
    case ChannelStatus::kPeerClosed: return BroadcastStatus::kPeerClosed;
    case ChannelStatus::kPeerDied: return BroadcastStatus::kPeerDied;
    default: return BroadcastStatus::kOk;
  }
}

void BroadcastSubscriber::sleep_for_message(Deadline deadline) {
  const std::uint64_t want = 2 * cursor_ + 2;
  detail::SlotHeader* slot = slot_at(at_.map, slots_, slot_size_, cursor_);
  // No publisher (not yet, or closed without our seeing it): poll every 10 ms; else sleep until the
  // deadline or the next liveness check (at least 100 us).
  const bool publisher = aref(at_.map.header->producer.claim).load(std::memory_order_relaxed) != 0;
  const Clock::duration slice =
      publisher ? std::max<Clock::duration>(at_.sleep_slice(deadline), std::chrono::microseconds(100))
                : Clock::duration(std::chrono::milliseconds(10));
  // The channel's one sleep (src/channel/wait.hpp). Dekker: pairs with the publisher's fence after
  // its even store in write_slot(); the announcement stays until it takes it off.
  (void)detail::sleep_unless_ready(ctl_->sleepers, ctl_->data_seq, slice,
                                   [&] { return aref(slot->seq).load(std::memory_order_relaxed) >= want; });
}

BroadcastReceived BroadcastSubscriber::skip_lapsed() noexcept {
  // Skip to the oldest message that may still be intact.
  const std::uint64_t m = cursor_;
  const std::uint64_t tail = aref(at_.map.header->prod.tail).load(std::memory_order_acquire);
  const std::uint64_t to = tail >= slots_ ? std::max(m + 1, tail - slots_ + 1) : m + 1;
  advance(to, 0, to - m);
  BroadcastReceived out;
  out.lost = to - m;
  if (policy_ == BroadcastPolicy::kBlock) {
    evicted_ = true;
    out.status = BroadcastStatus::kEvicted;
  } else {
    out.status = BroadcastStatus::kLapsed;
  }
  return out;
}

Result<void> BroadcastSubscriber::close() noexcept {
  if (!at_.attached()) return {};
  if (at_.ours() && rec_ != nullptr) {
    aref(rec_->closed).store(1, std::memory_order_release);
    ::shm_unlink(rec_name_.c_str());
    aref(ctl_->join_gen).fetch_add(1, std::memory_order_seq_cst);
    // Dekker with a sleeping publisher, as in open().
    std::atomic_thread_fence(std::memory_order_seq_cst);
    (void)detail::wake_all_announced(ctl_->publisher_sleeping, ctl_->space_seq);
  }
  rec_ = nullptr;
  rec_map_.reset();
  rec_token_.reset();  // after `closed`: a publisher that finds the token gone reads closed first
  ctl_ = nullptr;
  ctl_map_.reset();
  at_.detach();
  return {};
}
}  // namespace ipckit
