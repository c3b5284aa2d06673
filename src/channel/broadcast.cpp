// SPDX-License-Identifier: Apache-2.0
#include "ipckit/channel/broadcast.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/name.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;

namespace detail {

// The publisher's view of one subscriber.
struct SubscriberView {
  std::uint64_t id = 0;
  std::string name;
  Mapping map;
  SubscriberRecord* rec = nullptr;
  bool seen = false;  // found by the current rescan
};

}  // namespace detail

namespace {

using detail::BroadcastCtl;
using detail::EvictLine;
using detail::kSlotHeader;
using detail::SlotHeader;
using detail::SubscriberRecord;

EvictLine* evict_line(cl::Header* h) noexcept { return reinterpret_cast<EvictLine*>(h->reserved_line); }

std::uint64_t slot_size_for(std::uint64_t max) noexcept { return kSlotHeader + ((max + 7) & ~std::uint64_t{7}); }

std::string suffix_name(std::string_view name, std::string_view suffix) {
  std::string s(name);
  s += suffix;
  return s;
}

Result<void> check_slots(std::string_view name, std::uint64_t capacity, std::uint64_t max, bool corrupt) {
  const std::uint64_t n = capacity / slot_size_for(max);
  if (n >= 2) return {};
  return fail_library(corrupt ? LibraryCode::kCorrupt : LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                      fmt::format("capacity {} holds {} broadcast slot(s) of {} bytes (16 + max_message {} "
                                  "rounded to 8); at least 2 are needed: raise capacity",
                                  capacity, n, slot_size_for(max), max));
}

// The longest name derived from `name` (a subscriber record with the largest id) must be a valid
// POSIX name too, checked before anything exists: otherwise the data and `.ctl` objects would be
// created and the first subscriber would fail with ENAMETOOLONG, leaving both behind.
Result<void> check_derived_names(std::string_view name) {
  const std::string longest = fmt::format("{}.sub.{}", name, ~std::uint64_t{0});
  if (validate_posix_name(longest, NameKind::kShm, "shm_open")) return {};
  if (auto v = validate_posix_name(name, NameKind::kShm, "shm_open"); !v) return fail(v.error());
  const std::size_t over = longest.size() - 1 - NAME_MAX;
  return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                      fmt::format("name too long for a broadcast channel: its subscriber records are named "
                                  "\"<name>.sub.<id>\" (up to {} more characters) and would exceed NAME_MAX {}; "
                                  "shorten the name by {} characters",
                                  longest.size() - name.size(), NAME_MAX, over));
}

// Opens or creates `<name>.ctl` (everyone maps it read-write).
Result<Mapping> open_ctl(std::string_view name, const ChannelOptions& o) {
  const std::string n = suffix_name(name, ".ctl");
  const Deadline deadline = deadline_after(o.open_timeout);
  for (;;) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, o.mode);
    if (fd >= 0) {
      UniqueFd f(fd);
      if (::fchmod(fd, o.mode) != 0 || ::ftruncate(fd, detail::kCtlSize) != 0) {
        const int err = errno;
        ::shm_unlink(n.c_str());
        return fail_errno(err, "ftruncate", quoted(n));
      }
      auto m = Mapping::map(fd, detail::kCtlSize, {}, 0, quoted(n));
      if (!m) {
        ::shm_unlink(n.c_str());
        return fail(m.error());
      }
      auto* c = static_cast<BroadcastCtl*>(m->data());
      c->magic = detail::kCtlMagic;
      aref(c->ready).store(cl::kReady, std::memory_order_release);  // pairs with the acquire below
      return std::move(*m);
    }
    if (errno != EEXIST) return last_errno().fail("shm_open", quoted(n));
    fd = ::shm_open(n.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == ENOENT && Clock::now() < deadline) continue;
      return last_errno().fail("shm_open", quoted(n));
    }
    UniqueFd f(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(n));
    if (static_cast<std::uint64_t>(st.st_size) == detail::kCtlSize) {
      auto m = Mapping::map(fd, detail::kCtlSize, {}, 0, quoted(n));
      if (!m) return fail(m.error());
      auto* c = static_cast<BroadcastCtl*>(m->data());
      // pairs with the release store of `ready` by the creator
      if (aref(c->ready).load(std::memory_order_acquire) == cl::kReady) {
        if (aref(c->magic).load(std::memory_order_relaxed) != detail::kCtlMagic) {
          return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(n), "control object magic is wrong");
        }
        return std::move(*m);
      }
    } else if (static_cast<std::uint64_t>(st.st_size) > detail::kCtlSize) {
      return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(n),
                          fmt::format("control object size {} != {}", st.st_size, detail::kCtlSize));
    }
    if (Clock::now() >= deadline) {
      return fail_library(LibraryCode::kNotReady, "channel_open", quoted(n),
                          fmt::format("the control object was not initialised within {} ms; remove it with "
                                      "BroadcastChannel::unlink", o.open_timeout.count()));
    }
    ::usleep(1000);
  }
}

// Ids of every `<name>.sub.<id>` in /dev/shm.
std::vector<std::uint64_t> list_subscribers(std::string_view name) {
  std::vector<std::uint64_t> ids;
  const std::string prefix = suffix_name(name.substr(1), ".sub.");
  DIR* d = ::opendir("/dev/shm");
  if (d == nullptr) return ids;
  while (dirent* e = ::readdir(d)) {
    const std::string_view entry(e->d_name);
    if (entry.size() <= prefix.size() || entry.substr(0, prefix.size()) != prefix) continue;
    std::uint64_t id = 0;
    const auto tail = entry.substr(prefix.size());
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), id);
    if (ec == std::errc() && p == tail.data() + tail.size()) ids.push_back(id);
  }
  ::closedir(d);
  return ids;
}

std::string sub_name(std::string_view name, std::uint64_t id) { return fmt::format("{}.sub.{}", name, id); }

Unexpected forked(const detail::ChannelMap& m, const char* role) {
  return fail_library(LibraryCode::kRoleTaken, "channel", quoted(m.name),
                      fmt::format("this {} endpoint was inherited through fork(); open a new endpoint in the "
                                  "child", role));
}

BroadcastPolicy read_policy(const cl::Header* h) noexcept {
  return h->imm.reserved[0] == static_cast<std::uint64_t>(BroadcastPolicy::kBlock) ? BroadcastPolicy::kBlock
                                                                                  : BroadcastPolicy::kLapse;
}

}  // namespace

const char* to_string(BroadcastPolicy policy) noexcept {
  switch (policy) {
    case BroadcastPolicy::kLapse: return "lapse";
    case BroadcastPolicy::kBlock: return "block";
  }
  return "unknown";
}

const char* to_string(BroadcastStatus status) noexcept {
  switch (status) {
    case BroadcastStatus::kOk: return "ok";
    case BroadcastStatus::kWouldBlock: return "would block";
    case BroadcastStatus::kTimeout: return "timeout";
    case BroadcastStatus::kPeerClosed: return "peer closed";
    case BroadcastStatus::kPeerDied: return "peer died";
    case BroadcastStatus::kLapsed: return "lapsed";
    case BroadcastStatus::kEvicted: return "evicted";
  }
  return "unknown";
}

// ------------------------------------------------------------------------------------------------
// BroadcastChannel

Result<void> BroadcastChannel::unlink(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kShm, "shm_unlink"); !v) return fail(v.error());
  const std::string n(name);
  const int rc = ::shm_unlink(n.c_str());
  const int err = errno;
  ::shm_unlink(suffix_name(name, ".ctl").c_str());
  for (std::uint64_t id : list_subscribers(name)) ::shm_unlink(sub_name(name, id).c_str());
  if (rc != 0) return fail_errno(err, "shm_unlink", quoted(name));
  return {};
}

// ------------------------------------------------------------------------------------------------
// BroadcastPublisher

BroadcastPublisher::BroadcastPublisher() = default;
BroadcastPublisher::BroadcastPublisher(BroadcastPublisher&& o) noexcept { *this = std::move(o); }
BroadcastPublisher& BroadcastPublisher::operator=(BroadcastPublisher&& o) noexcept {
  if (this == &o) return *this;
  close();
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
BroadcastPublisher::~BroadcastPublisher() { close(); }

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
          return BroadcastStatus::kTimeout;
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
      return may_wait ? BroadcastStatus::kTimeout : BroadcastStatus::kWouldBlock;
    }
    Clock::duration t = next_live_ - now;
    if (deadline != Clock::time_point::max()) t = std::min<Clock::duration>(t, deadline - now);
    detail::futex_wait(&ctl_->space_seq, seen, std::max<Clock::duration>(t, std::chrono::milliseconds(1)));
  }
}

void BroadcastPublisher::close() noexcept {
  if (map_.header == nullptr) return;
  if (fork_generation_ == detail::fork_generation()) {
    detail::release_role(map_.header->producer, claim_);
    detail::wake_seq(ctl_->data_seq);  // sleeping subscribers see the close
  }
  subs_.clear();
  ctl_ = nullptr;
  ctl_map_.reset();
  map_.mapping.reset();
  map_.header = nullptr;
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

// ------------------------------------------------------------------------------------------------
// BroadcastSubscriber

BroadcastSubscriber::BroadcastSubscriber() = default;
BroadcastSubscriber::BroadcastSubscriber(BroadcastSubscriber&& o) noexcept { *this = std::move(o); }
BroadcastSubscriber& BroadcastSubscriber::operator=(BroadcastSubscriber&& o) noexcept {
  if (this == &o) return *this;
  close();
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
BroadcastSubscriber::~BroadcastSubscriber() { close(); }

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
    if (t2 - t + 2 < s.slots_ || s.policy_ == BroadcastPolicy::kLapse) {
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
          out.status = BroadcastStatus::kTimeout;
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

void BroadcastSubscriber::close() noexcept {
  if (map_.header == nullptr) return;
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
}

}  // namespace ipckit

namespace ipckit {
namespace detail {

bool is_control_magic(std::uint64_t magic) noexcept { return magic == kCtlMagic; }
bool is_subscriber_magic(std::uint64_t magic) noexcept { return magic == kSubMagic; }

namespace {

// Maps `/x.sub.N` read-only and reads its record once; nullopt-like errors for garbage.
Result<SubscriberRecordInfo> read_subscriber_record(const std::string& n) {
  UniqueFd fd(::shm_open(n.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (!fd) return last_errno().fail("shm_open", quoted(n));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_errno().fail("fstat", quoted(n));
  if (static_cast<std::uint64_t>(st.st_size) != kRecordSize) {
    return fail_library(LibraryCode::kCorrupt, "channel_inspect", quoted(n),
                        fmt::format("subscriber record of {} bytes, not {}", st.st_size, kRecordSize));
  }
  MapOptions mo;
  mo.access = Access::kReadOnly;
  auto m = Mapping::map(fd.get(), kRecordSize, mo, 0, quoted(n));
  if (!m) return fail(m.error());
  auto* rec = static_cast<SubscriberRecord*>(m->data());
  // pairs with the release store of `ready` in BroadcastSubscriber::open()
  if (aref(rec->ready).load(std::memory_order_acquire) != cl::kReady ||
      aref(rec->magic).load(std::memory_order_relaxed) != kSubMagic) {
    return fail_library(LibraryCode::kNotReady, "channel_inspect", quoted(n), "the subscriber record is not ready");
  }
  SubscriberRecordInfo info;
  info.id = aref(rec->id).load(std::memory_order_relaxed);
  info.who.pid = aref(rec->who.pid).load(std::memory_order_relaxed);
  info.who.start_time = aref(rec->who.start_time).load(std::memory_order_relaxed);
  info.who.pid_ns = aref(rec->who.pid_ns).load(std::memory_order_relaxed);
  info.closed = aref(rec->closed).load(std::memory_order_relaxed) != 0;
  info.received = aref(rec->received).load(std::memory_order_relaxed);
  info.lapsed = aref(rec->lost).load(std::memory_order_relaxed);
  info.state = liveness(info.who);
  return info;
}

}  // namespace

void inspect_broadcast(ChannelMap& m, ChannelInfo& out) {
  if (auto p = describe_slot(m.header->producer, "publisher")) {
    p->sent = out.sent;
    out.participants.push_back(std::move(*p));
  }
  out.received = 0;  // the subscribers' own counters below
  const std::string ctl = suffix_name(m.name, ".ctl");
  if (UniqueFd c(::shm_open(ctl.c_str(), O_RDONLY | O_CLOEXEC, 0)); c) out.objects.push_back(ctl);
  std::vector<std::uint64_t> ids = list_subscribers(m.name);
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t id : ids) {
    const std::string n = sub_name(m.name, id);
    out.objects.push_back(n);
    auto rec = read_subscriber_record(n);
    if (!rec || rec->closed) continue;
    ChannelParticipant p;
    p.role = "subscriber";
    p.who = rec->who;
    p.state = rec->state;
    p.subscriber_id = rec->id;
    p.received = rec->received;
    p.lapsed = rec->lapsed;
    out.received += p.received;
    out.lapsed += p.lapsed;
    out.participants.push_back(std::move(p));
  }
}

}  // namespace detail

Result<SubscriberRecordInfo> inspect_subscriber_record(std::string_view object_name) {
  if (auto v = validate_posix_name(object_name, NameKind::kShm, "channel_inspect"); !v) return fail(v.error());
  return detail::read_subscriber_record(std::string(object_name));
}

}  // namespace ipckit
