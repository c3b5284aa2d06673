// SPDX-License-Identifier: Apache-2.0
// The MPMC channel (include/ipckit/channel/mpmc.hpp; docs/channel.md "Part 2: MPMC").
//
// Object: the common 1024-byte header, then the member table (kMaxMembers RoleSlots, one per
// attached endpoint), then `slots` fixed slots (a power of two). A slot is
//   [0]  state word: lap (40 bits) | state (2) | redelivered (1) | owner member index (21)
//   [8]  payload length (written by the producer before the word turns full)
//   [16] payload (max_message bytes), the slot padded to a multiple of 64 bytes
// Position p lives in slot p & mask on lap p >> log2(slots). A zero-filled object is therefore correct:
// every slot starts free on lap 0. Life of a slot on lap l:
//   free(l) --producer CAS--> writing(l, owner) --store--> full(l) --consumer CAS--> reading(l, owner)
//   --store--> free(l + 1)
// The enqueue/dequeue counters (prod.tail, cons.head) are hints that only move forward by CAS: the
// claim itself is the CAS on the slot word, which names the claimant, so there is no moment in
// which a slot is taken by an anonymous process.
// Repairs, done by whoever takes a dead member's slot over (reap()):
//   writing(l, dead) -> free(l + 1)              the record is skipped, never exposed torn
//   reading(l, dead) -> full(l) | redelivered   another consumer takes it ("orphan", see below)
// An orphan sits behind the dequeue counter; a consumer takes it when its own position lands on the
// slot one lap later (a full word of an older lap), or sooner through the orphan scan that runs
// while `orphans` (misc line) is positive and the consumer found nothing at its position.
#include "ipckit/channel/mpmc.hpp"

#include <atomic>
#include <bit>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/channel/mpmc_layout.hpp"
#include "ipckit/channel/spsc.hpp"  // SpscChannel::unlink: the same single object
#include "ipckit/core/liveness.hpp"
#include "ipckit/core/name.hpp"
#include "segment.hpp"
#include "token.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;

namespace {

using namespace mpmc_layout;  // the slot state word and the MPMC line (include/ipckit/channel/mpmc_layout.hpp)

constexpr std::uint64_t kMemberTable = std::uint64_t{MpmcChannel::kMaxMembers} * sizeof(cl::RoleSlot);
static_assert(MpmcChannel::kMaxMembers <= kOwnerMask);  // a slot's owner field names any member
static_assert(kMemberTable % cl::kCacheLine == 0);  // the slots start on a line, so each is whole lines

std::uint64_t slot_size_for(std::uint64_t max) noexcept {
  return (kSlotHeader + max + kSlotAlign - 1) & ~(kSlotAlign - 1);
}

MpmcLine* line(cl::Header* h) noexcept { return reinterpret_cast<MpmcLine*>(h->reserved_line); }


// A claim walks the hint forward over taken or passed positions; a live hint lags by far less
// than a lap. Words of a lap far ahead (memory a hostile peer wrote, found by
// fuzz/channel_image_fuzz.cpp) would make the walk practically endless, so one call stops after
// this many laps with kWouldBlock; the hint it moved on stays moved, the next call goes on from there.
constexpr std::uint64_t kMaxHintSteps = 2;

bool passed(Deadline d) noexcept { return d != kNoDeadline && Clock::now() >= d; }

Unexpected slot_error(std::string_view name, std::uint64_t capacity, std::uint64_t max, bool corrupt) {
  return fail_library(corrupt ? LibraryCode::kCorrupt : LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                      fmt::format("capacity {} holds {} MPMC slot(s) of {} bytes after the {}-byte member table; "
                                  "at least 2 are needed: raise capacity or lower max_message",
                                  capacity, MpmcChannel::slots_for(capacity, max), slot_size_for(max), kMemberTable));
}

}  // namespace

// Per-member counters, in the member's RoleSlot (written only by the member, or by whoever reaps
// it once it is dead).
struct detail::MpmcCore::Stats {
  std::uint64_t role;
  std::uint64_t sent;
  std::uint64_t received;
  std::uint64_t full_waits;
  std::uint64_t empty_waits;
  std::uint64_t futex_wakes;
  std::uint64_t redelivered;
  std::uint64_t skipped;
  std::uint64_t reserved;
};
static_assert(sizeof(detail::MpmcCore::Stats) == sizeof(cl::RoleSlot::reserved));

std::uint64_t MpmcChannel::slots_for(std::uint64_t capacity, std::uint64_t max_message) noexcept {
  if (capacity <= kMemberTable || max_message == 0) return 0;
  const std::uint64_t n = (capacity - kMemberTable) / slot_size_for(max_message);
  return n < 2 ? 0 : std::bit_floor(n);
}

Result<void> MpmcChannel::unlink(std::string_view name) { return SpscChannel::unlink(name); }

namespace detail {

namespace {
cl::RoleSlot* members(const ChannelMap& m) noexcept { return reinterpret_cast<cl::RoleSlot*>(m.ring); }
MpmcCore::Stats* stats_of(cl::RoleSlot& s) noexcept { return reinterpret_cast<MpmcCore::Stats*>(s.reserved); }

// Folds a departing member's counters into the header totals (relaxed: counters are snapshots).
void fold_stats(cl::Header* h, MpmcCore::Stats* s) noexcept {
  auto take = [](std::uint64_t& v) { return aref(v).exchange(0, std::memory_order_relaxed); };
  aref(h->prod.sent).fetch_add(take(s->sent), std::memory_order_relaxed);
  aref(h->cons.received).fetch_add(take(s->received), std::memory_order_relaxed);
  aref(h->prod.full_waits).fetch_add(take(s->full_waits), std::memory_order_relaxed);
  aref(h->cons.empty_waits).fetch_add(take(s->empty_waits), std::memory_order_relaxed);
  aref(h->prod.futex_wakes).fetch_add(take(s->futex_wakes), std::memory_order_relaxed);
  aref(h->cons.redelivered).fetch_add(take(s->redelivered), std::memory_order_relaxed);
  aref(line(h)->skipped).fetch_add(take(s->skipped), std::memory_order_relaxed);
}

void bump(std::uint64_t& counter) noexcept {
  // Single writer (the member): a relaxed load + store, no locked instruction on the fast path.
  aref(counter).store(aref(counter).load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Wakes every sleeper of both sides (close, repairs): they re-check the ring and the members.
void wake_everyone(cl::Header* h) noexcept {
  aref(h->wait.consumer_sleeping).store(0, std::memory_order_relaxed);
  aref(h->wait.producer_sleeping).store(0, std::memory_order_relaxed);
  wake_seq(h->wait.data_seq);
  wake_seq(h->wait.space_seq);
}
}  // namespace

MpmcCore& MpmcCore::operator=(MpmcCore&& other) noexcept { return replace_endpoint(*this, std::move(other)); }

MpmcCore::~MpmcCore() { (void)close(); }

MpmcCore::Stats* MpmcCore::stats() const noexcept { return stats_of(members(at_.map)[member_]); }

std::byte* MpmcCore::slot_of(std::uint64_t pos) const noexcept { return slots_base_ + (pos & mask_) * slot_size_; }

std::uint64_t* MpmcCore::word_of(std::uint64_t pos) const noexcept {
  return reinterpret_cast<std::uint64_t*>(slot_of(pos));
}

Error MpmcCore::unusable_error(const char* call) const {
  return at_.unusable_error(call, role_ == Role::kProducer ? "MPMC producer" : "MPMC consumer");
}

Result<MpmcCore> MpmcCore::open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                std::uint64_t type_hash, Role role) {
  if (mode != OpenMode::kOpenExisting && MpmcChannel::slots_for(options.capacity, options.max_message) == 0 &&
      validate_creation(name, options)) {
    return slot_error(name, options.capacity, options.max_message, false);
  }
  auto m = open_segment(name, mode, options, type_hash, cl::kPatternMpmc);
  if (!m) return fail(m.error());
  const std::uint64_t slots = MpmcChannel::slots_for(m->capacity, m->max_message);
  if (slots == 0) return slot_error(name, m->capacity, m->max_message, true);
  auto self = self_identity();
  if (!self) return fail(self.error());

  MpmcCore c;
  c.role_ = role;
  c.at_ = Attachment(std::move(*m), options, 0, false);  // the claim is the member slot taken below
  c.slots_ = slots;
  c.mask_ = slots - 1;
  c.shift_ = static_cast<unsigned>(std::countr_zero(slots));
  c.slot_size_ = slot_size_for(c.at_.map.max_message);
  c.slots_base_ = c.at_.map.ring + kMemberTable;

  // Join: a free member slot, else repair and take a dead member's. A slot is taken with its
  // liveness token first (one description at a time), then its claim word.
  cl::RoleSlot* table = members(c.at_.map);
  for (int attempt = 0; attempt < 3 && c.at_.claim == 0; ++attempt) {
    for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
      if (aref(table[i].claim).load(std::memory_order_relaxed) != 0) continue;
      const std::uint64_t offset = token_offset(c.at_.map.header, &table[i]);
      auto took = take_token(c.at_.map.token, offset, c.at_.map.name);
      if (!took) return fail(took.error());
      if (!*took) continue;  // another member is joining here
      const std::uint64_t mine = next_claim(table[i], *self);
      if (try_claim_slot(table[i], 0, mine, *self, options.wait)) {
        c.member_ = i;
        c.at_.claim = mine;
        break;
      }
      drop_token(c.at_.map.token, offset);  // a dead member's claim is left: reaped below
    }
    if (c.at_.claim != 0) break;
    // Every slot held: repair the dead members' (reap frees them) and look again.
    bool freed = false;
    for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
      const std::uint64_t cur = aref(table[i].claim).load(std::memory_order_acquire);
      if (cur != 0 && holder_state(c.at_.map, table[i], cur) == HolderState::kDead) {
        c.reap(i, cur);
        c.at_.reclaimed = true;
        freed = true;
      }
    }
    if (!freed) break;
  }
  if (c.at_.claim == 0) {
    c.at_.detach();  // nothing to release
    return fail_library(LibraryCode::kRoleTaken, "channel_open", quoted(name),
                        fmt::format("all {} MPMC member slots are held by live processes; close an endpoint first",
                                    MpmcChannel::kMaxMembers));
  }
  Stats* s = c.stats();
  std::memset(static_cast<void*>(s), 0, sizeof(Stats));  // counters of a previous holder were folded already
  aref(s->role).store(static_cast<std::uint64_t>(role), std::memory_order_relaxed);
  aref(role == Role::kProducer ? line(c.at_.map.header)->producer_joins : line(c.at_.map.header)->consumer_joins)
      .fetch_add(1, std::memory_order_relaxed);
  c.at_.next_check = Clock::now() + options.liveness_interval;
  c.departures_seen_ = aref(line(c.at_.map.header)->departures).load(std::memory_order_acquire);
  c.start_session();
  return c;
}

Result<void> MpmcCore::close() noexcept {
  if (!at_.attached()) return {};
  if (at_.ours() && at_.claim != 0) {
    cl::Header* h = at_.map.header;
    cl::RoleSlot& me = members(at_.map)[member_];
    fold_stats(h, stats());
    aref(role_ == Role::kProducer ? line(h)->producer_exit : line(h)->consumer_exit)
        .store(kExitClosed, std::memory_order_relaxed);
    release_role(at_.map, me, at_.claim);
    // Waiters of either side learn about the departure now rather than at their next check: the
    // departures count makes their next wait() run check_members() at once.
    aref(line(h)->departures).fetch_add(1, std::memory_order_release);
    wake_everyone(h);
  }
  // In a forked child the member slot is the parent's: only our mapping goes.
  at_.detach();
  slots_base_ = nullptr;
  return {};
}

ChannelStatus MpmcCore::claim_write(Claimed& out) noexcept {
  cl::Header* h = at_.map.header;
  // relaxed: the counter is a hint; the slot word's acquire load/CAS is what orders the data.
  std::uint64_t pos = aref(h->prod.tail).load(std::memory_order_relaxed);
  for (std::uint64_t steps = 0;; ++steps) {
    if (steps > kMaxHintSteps * slots_) return ChannelStatus::kWouldBlock;  // see kMaxHintSteps
    std::uint64_t* wp = word_of(pos);
    // acquire: pairs with the consumer's release store of free(l) in finish_read(), so its reads of
    // the slot happen-before we overwrite it.
    std::uint64_t w = aref(*wp).load(std::memory_order_acquire);
    const std::int64_t d = lap_diff(lap_of(w), pos >> shift_);
    if (d == 0 && state_of(w) == kFree) {
      if (aref(*wp).compare_exchange_weak(w, make_word(pos >> shift_, kWriting, member_), std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        std::uint64_t expected = pos;
        // relaxed: moving the hint on; failure means someone already moved it.
        aref(h->prod.tail).compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed);
        out.pos = pos;
        out.slot = reinterpret_cast<std::byte*>(wp);
        out.redelivered = false;
        return ChannelStatus::kOk;
      }
      continue;  // the word changed under us: look at it again
    }
    if (d < 0) return ChannelStatus::kWouldBlock;  // the slot still holds the previous lap: full
    // Position taken (same lap, not free) or passed (newer lap): move the hint on and retry.
    std::uint64_t expected = pos;
    if (aref(h->prod.tail).compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed)) {
      ++pos;
    } else {
      pos = expected;
    }
  }
}

void MpmcCore::publish(const Claimed& c, std::uint64_t length) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(c.slot);
  aref(words[1]).store(length, std::memory_order_relaxed);
  // release: the payload and the length happen-before a consumer's acquire CAS of the word.
  aref(words[0]).store(make_word(c.pos >> shift_, kFull, 0), std::memory_order_release);
  bump(stats()->sent);
  // Dekker with wait(): a consumer increments consumer_sleeping, fences (seq_cst) and re-checks
  // the slots; we publish, fence and read the count. One of us sees the other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  cl::Header* h = at_.map.header;
  if (wake_one_announced(h->wait.consumer_sleeping, h->wait.data_seq)) bump(stats()->futex_wakes);
}

ChannelStatus MpmcCore::claim_read(Claimed& out) noexcept {
  cl::Header* h = at_.map.header;
  std::uint64_t pos = aref(h->cons.head).load(std::memory_order_relaxed);  // a hint, as in claim_write
  for (std::uint64_t steps = 0;; ++steps) {
    if (steps > kMaxHintSteps * slots_) return ChannelStatus::kWouldBlock;  // see kMaxHintSteps
    std::uint64_t* wp = word_of(pos);
    std::uint64_t w = aref(*wp).load(std::memory_order_acquire);  // pairs with publish()'s release
    const std::uint64_t lap = lap_of(w);
    const std::int64_t d = lap_diff(lap, pos >> shift_);
    const State st = state_of(w);
    if (st == kFull && d <= 0) {
      // d == 0: the message at our position. d < 0: an orphan (a full word of an older lap sits
      // behind the dequeue counter only after a repair): take it without moving the counter.
      const bool redelivered = (w & kRedelivered) != 0 || d < 0;
      // acquire: pairs with the producer's release store of full(l): the payload is visible.
      if (aref(*wp).compare_exchange_weak(w, make_word(lap, kReading, member_, redelivered), std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        if (d == 0) {
          std::uint64_t expected = pos;
          aref(h->cons.head).compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed);
        }
        if (redelivered) aref(line(h)->orphans).fetch_sub(1, std::memory_order_relaxed);
        out.pos = (lap << shift_) | (pos & mask_);
        out.slot = reinterpret_cast<std::byte*>(wp);
        out.redelivered = redelivered;
        return ChannelStatus::kOk;
      }
      continue;
    }
    if (d < 0 || (d == 0 && (st == kFree || st == kWriting))) break;  // nothing at our position yet
    // Same lap reading (taken) or a newer lap (consumed): move the hint on and retry.
    std::uint64_t expected = pos;
    if (aref(h->cons.head).compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed)) {
      ++pos;
    } else {
      pos = expected;
    }
  }
  // Empty at our position. Orphans elsewhere? (acquire: pairs with reap()'s release increment, made
  // after the orphan's word was written, so the scan below sees it.)
  const std::int64_t orphans = aref(line(h)->orphans).load(std::memory_order_acquire);
  if (orphans <= 0) return ChannelStatus::kWouldBlock;
  for (std::uint64_t i = 0; i < slots_; ++i) {
    // The lap the dequeue counter is on for slot i: the first position >= pos with index i.
    const std::uint64_t first = pos + ((i - pos) & mask_);
    std::uint64_t* wp = word_of(first);
    std::uint64_t w = aref(*wp).load(std::memory_order_acquire);
    if (state_of(w) != kFull || lap_diff(lap_of(w), first >> shift_) >= 0) continue;
    if (aref(*wp).compare_exchange_strong(w, make_word(lap_of(w), kReading, member_, true), std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
      aref(line(h)->orphans).fetch_sub(1, std::memory_order_relaxed);
      out.pos = (lap_of(w) << shift_) | i;
      out.slot = reinterpret_cast<std::byte*>(wp);
      out.redelivered = true;
      return ChannelStatus::kOk;
    }
  }
  // None found: the count was stale (a consumer died between taking an orphan and counting it).
  // Reset it unless a repair added one meanwhile (then the CAS fails and the next receive looks).
  std::int64_t expected = orphans;
  aref(line(h)->orphans).compare_exchange_strong(expected, 0, std::memory_order_relaxed);
  return ChannelStatus::kWouldBlock;
}

void MpmcCore::finish_read(const Claimed& c) noexcept {
  auto* word = reinterpret_cast<std::uint64_t*>(c.slot);
  // release: our reads of the payload happen-before the producer's acquire CAS of free(l + 1).
  aref(*word).store(make_word((c.pos >> shift_) + 1, kFree, 0), std::memory_order_release);
  Stats* s = stats();
  bump(s->received);
  if (c.redelivered) bump(s->redelivered);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // Dekker with a producer's wait(), as in publish()
  cl::Header* h = at_.map.header;
  if (wake_one_announced(h->wait.producer_sleeping, h->wait.space_seq)) bump(s->futex_wakes);
}

void MpmcCore::abandon(const Claimed& c) noexcept {
  auto* word = reinterpret_cast<std::uint64_t*>(c.slot);
  const std::uint64_t lap = c.pos >> shift_;
  if (role_ == Role::kProducer) {
    // A reservation never committed: the slot is freed for the next lap, exactly as the repair of a
    // dead producer does; consumers skip it. release: pairs with the next producer's acquire.
    aref(*word).store(make_word(lap + 1, kFree, 0), std::memory_order_release);
    bump(stats()->skipped);
  } else {
    // A view never released: handed to another consumer, flagged (as the repair of a dead consumer).
    aref(*word).store(make_word(lap, kFull, 0, true), std::memory_order_release);
    // release: the word is written before the count that sends consumers looking for it.
    aref(line(at_.map.header)->orphans).fetch_add(1, std::memory_order_release);
  }
  wake_other_side();
}

std::uint64_t MpmcCore::length_at(const Claimed& c) const noexcept {
  return aref(reinterpret_cast<std::uint64_t*>(c.slot)[1]).load(std::memory_order_relaxed);
}

bool MpmcCore::ready_now() const noexcept {
  cl::Header* h = at_.map.header;
  if (role_ == Role::kProducer) {
    const std::uint64_t pos = aref(h->prod.tail).load(std::memory_order_relaxed);
    const std::uint64_t w = aref(*word_of(pos)).load(std::memory_order_acquire);
    return lap_diff(lap_of(w), pos >> shift_) >= 0;  // not the previous lap: claim_write makes progress
  }
  const std::uint64_t pos = aref(h->cons.head).load(std::memory_order_relaxed);
  const std::uint64_t w = aref(*word_of(pos)).load(std::memory_order_acquire);
  const std::int64_t d = lap_diff(lap_of(w), pos >> shift_);
  if (state_of(w) == kFull && d <= 0) return true;
  if (d > 0 || (d == 0 && state_of(w) == kReading)) return true;  // stale hint: claim_read moves it
  return aref(line(h)->orphans).load(std::memory_order_relaxed) > 0;
}

void MpmcCore::wake_other_side() noexcept { wake_everyone(at_.map.header); }

void MpmcCore::reap(std::uint32_t index, std::uint64_t dead) noexcept {
  auto self = self_identity();
  if (!self) return;
  cl::RoleSlot& slot = members(at_.map)[index];
  // Only the process that takes the dead member's token repairs (a joiner or another reaper cannot
  // take it meanwhile); if it dies while repairing, its own claim is now the dead one, its token is
  // released, and the next process repeats the (idempotent) repair.
  const std::uint64_t offset = token_offset(at_.map.header, &slot);
  auto took = take_token(at_.map.token, offset, at_.map.name);
  if (!took || !*took) return;
  const std::uint64_t mine = next_claim(slot, *self);
  if (!try_claim_slot(slot, dead, mine, *self, WaitStrategy::kBlocking)) {
    drop_token(at_.map.token, offset);  // repaired and freed by someone else already
    return;
  }
  cl::Header* h = at_.map.header;
  aref(h->misc.reclaimed).fetch_add(1, std::memory_order_relaxed);
  Stats* s = stats_of(slot);
  const std::uint64_t role = aref(s->role).load(std::memory_order_relaxed);
  std::uint64_t skipped = 0;
  std::uint64_t orphaned = 0;
  for (std::uint64_t i = 0; i < slots_; ++i) {
    auto* wp = reinterpret_cast<std::uint64_t*>(slots_base_ + i * slot_size_);
    std::uint64_t w = aref(*wp).load(std::memory_order_acquire);
    if (owner_of(w) != index) continue;
    if (state_of(w) == kWriting) {
      // release: pairs with the next producer's acquire; the torn payload is never marked full.
      if (aref(*wp).compare_exchange_strong(w, make_word(lap_of(w) + 1, kFree, 0), std::memory_order_release,
                                            std::memory_order_relaxed)) {
        ++skipped;
      }
    } else if (state_of(w) == kReading) {
      // release: the payload (unchanged since the producer's release) stays visible to the taker.
      if (aref(*wp).compare_exchange_strong(w, make_word(lap_of(w), kFull, 0, true), std::memory_order_release,
                                            std::memory_order_relaxed)) {
        ++orphaned;
      }
    }
  }
  // release: the orphans' words are written before the count that sends consumers looking.
  if (orphaned != 0) aref(line(h)->orphans).fetch_add(static_cast<std::int64_t>(orphaned), std::memory_order_release);
  aref(s->skipped).fetch_add(skipped, std::memory_order_relaxed);
  fold_stats(h, s);
  aref(role == static_cast<std::uint64_t>(Role::kProducer) ? line(h)->producer_exit : line(h)->consumer_exit)
      .store(kExitDied, std::memory_order_relaxed);
  aref(s->role).store(0, std::memory_order_relaxed);
  release_role(at_.map, slot, mine);
  aref(line(h)->departures).fetch_add(1, std::memory_order_release);
  wake_other_side();
}

void MpmcCore::start_session() noexcept {
  // Sessions (docs/channel.md): the other side's departure is ours if one of its members is
  // attached now, or (consumer) if data is left to read; else only once another one joined.
  MpmcLine* l = line(at_.map.header);
  const bool producer = role_ == Role::kProducer;
  const std::uint64_t joins = aref(producer ? l->consumer_joins : l->producer_joins).load(std::memory_order_relaxed);
  const auto other_role = static_cast<std::uint64_t>(producer ? Role::kConsumer : Role::kProducer);
  bool attached = !producer && ready_now();
  cl::RoleSlot* table = members(at_.map);
  for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers && !attached; ++i) {
    if (i == member_) continue;
    const std::uint64_t cur = aref(table[i].claim).load(std::memory_order_acquire);
    if (cur == 0 || aref(stats_of(table[i])->role).load(std::memory_order_relaxed) != other_role) continue;
    attached = holder_state(at_.map, table[i], cur) != HolderState::kDead;
  }
  session_joins_ = attached ? joins : joins + 1;
  joins_seen_ = joins;
}

ChannelStatus MpmcCore::check_members() {
  cl::RoleSlot* table = members(at_.map);
  std::uint32_t others = 0;  // live members of the other side
  const auto other_role = static_cast<std::uint64_t>(role_ == Role::kProducer ? Role::kConsumer : Role::kProducer);
  for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
    if (i == member_) continue;
    const std::uint64_t cur = aref(table[i].claim).load(std::memory_order_acquire);
    if (cur == 0) continue;
    const HolderState st = holder_state(at_.map, table[i], cur);
    if (st == HolderState::kDead) {
      reap(i, cur);
      continue;
    }
    // Role 0: a member between its claim and its role store (joining): counted, so a joining
    // endpoint is never mistaken for a departed side.
    const std::uint64_t role = aref(stats_of(table[i])->role).load(std::memory_order_relaxed);
    if (role == other_role || role == 0) ++others;
  }
  if (others != 0) return ChannelStatus::kOk;
  MpmcLine* l = line(at_.map.header);
  const bool producer = role_ == Role::kProducer;
  // Nobody of the other side joined in our session (ever, or since the one we came after left):
  // keep waiting for the first one.
  if (aref(producer ? l->consumer_joins : l->producer_joins).load(std::memory_order_relaxed) < session_joins_) {
    return ChannelStatus::kOk;
  }
  if (ready_now()) {
    // Drain what is there first. Nobody will wake us when it is drained (the other side is gone,
    // and other members of ours may have left already), so the next poll must not wait a whole
    // liveness interval to see the end: a sleeper would otherwise stay asleep that long (seen as
    // "one side did not finish" in the 4x4 bench row, which runs with the default 1 s).
    draining_to_end_ = true;
    return ChannelStatus::kOk;
  }
  return aref(producer ? l->consumer_exit : l->producer_exit).load(std::memory_order_relaxed) == kExitDied
             ? ChannelStatus::kPeerDied
             : ChannelStatus::kPeerClosed;
}

ChannelStatus MpmcCore::poll_members() {
  const auto now = Clock::now();
  // acquire: pairs with the release increment after a member closed or was reaped.
  const std::uint64_t departures = aref(line(at_.map.header)->departures).load(std::memory_order_acquire);
  MpmcLine* l = line(at_.map.header);
  const std::uint64_t joins =
      aref(role_ == Role::kProducer ? l->consumer_joins : l->producer_joins).load(std::memory_order_relaxed);
  // Between checks the last answer stands (an end stays an end until someone joins or leaves).
  if (!draining_to_end_ && now < at_.next_check && departures == departures_seen_ && joins == joins_seen_) {
    return last_status_;
  }
  draining_to_end_ = false;  // check_members() sets it again while records are left
  departures_seen_ = departures;
  joins_seen_ = joins;
  at_.next_check = now + at_.options.liveness_interval;
  last_status_ = check_members();
  return last_status_;
}

ChannelStatus MpmcCore::wait(Deadline deadline, std::uint32_t& spins) {
  cl::Header* h = at_.map.header;
  const bool producer = role_ == Role::kProducer;
  if (spins == 0) bump(producer ? stats()->full_waits : stats()->empty_waits);
  const bool may_sleep = at_.options.wait == WaitStrategy::kBlocking ||
                         (at_.options.wait == WaitStrategy::kSpinThenFutex && spins >= at_.options.spin_iterations);
  if (!may_sleep) {
    ++spins;
    cpu_relax();
    if (spins % 256 == 0) {
      if (passed(deadline)) return ChannelStatus::kTimedOut;
      return poll_members();
    }
    return ChannelStatus::kOk;
  }
  ++spins;
  if (auto st = poll_members(); st != ChannelStatus::kOk) return st;
  // The channel's one sleep (src/channel/wait.hpp; the order seq read, announce, fence, re-check
  // was model-checked in tools/model/announce_wake.pml). Dekker: pairs with the fence in
  // publish()/finish_read() before their wake_one_announced().
  (void)sleep_unless_ready(producer ? h->wait.producer_sleeping : h->wait.consumer_sleeping,
                           producer ? h->wait.space_seq : h->wait.data_seq, at_.sleep_slice(deadline),
                           [&] { return ready_now(); });
  if (passed(deadline)) return ChannelStatus::kTimedOut;
  return ChannelStatus::kOk;
}

ChannelCounters MpmcCore::counters() const noexcept {
  ChannelCounters c;
  if (at_.map.header == nullptr) return c;
  cl::Header* h = at_.map.header;
  c.sent = aref(h->prod.sent).load(std::memory_order_relaxed);
  c.received = aref(h->cons.received).load(std::memory_order_relaxed);
  c.full_waits = aref(h->prod.full_waits).load(std::memory_order_relaxed);
  c.empty_waits = aref(h->cons.empty_waits).load(std::memory_order_relaxed);
  c.futex_wakes = aref(h->prod.futex_wakes).load(std::memory_order_relaxed);
  c.redelivered = aref(h->cons.redelivered).load(std::memory_order_relaxed);
  c.reclaimed = aref(h->misc.reclaimed).load(std::memory_order_relaxed);
  c.skipped = aref(line(h)->skipped).load(std::memory_order_relaxed);
  cl::RoleSlot* table = members(at_.map);
  for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
    if (aref(table[i].claim).load(std::memory_order_relaxed) == 0) continue;
    MpmcCore::Stats* s = stats_of(table[i]);
    c.sent += aref(s->sent).load(std::memory_order_relaxed);
    c.received += aref(s->received).load(std::memory_order_relaxed);
    c.full_waits += aref(s->full_waits).load(std::memory_order_relaxed);
    c.empty_waits += aref(s->empty_waits).load(std::memory_order_relaxed);
    c.futex_wakes += aref(s->futex_wakes).load(std::memory_order_relaxed);
    c.redelivered += aref(s->redelivered).load(std::memory_order_relaxed);
    c.skipped += aref(s->skipped).load(std::memory_order_relaxed);
  }
  return c;
}

}  // namespace detail

// ------------------------------------------------------------------------------------------------
// MpmcProducer

Result<MpmcProducer> MpmcProducer::open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                        std::uint64_t type_hash) {
  auto core = detail::MpmcCore::open(name, mode, options, type_hash, detail::MpmcCore::Role::kProducer);
  if (!core) return fail(core.error());
  MpmcProducer p;
  p.core_ = std::move(*core);
  return p;
}

// Closing (also on move assignment) abandons a reservation of ours (skipped), never left held by a departed member.
MpmcProducer::~MpmcProducer() { (void)close(); }

Result<void> MpmcProducer::close() noexcept {
  if (reserved_ && core_.usable()) core_.abandon(held_);
  reserved_ = false;
  (void)core_.close();
  return {};
}

Result<Reservation> MpmcProducer::reserve_impl(std::size_t n, Deadline deadline, bool may_wait) {
  if (!core_.usable()) return fail(core_.unusable_error("channel_reserve"));
  if (n > core_.max_message()) {
    return fail_library(LibraryCode::kTooLarge, "channel_reserve", quoted(core_.name()),
                        fmt::format("message of {} bytes exceeds the channel's max_message {}", n, core_.max_message()));
  }
  if (!reserved_) {
    std::uint32_t spins = 0;
    while (core_.claim_write(held_) != ChannelStatus::kOk) {
      if (!may_wait) {
        // try_: report departed consumers at most once per liveness_interval.
        const ChannelStatus st = core_.poll_members();
        return Reservation{st == ChannelStatus::kOk ? ChannelStatus::kWouldBlock : st, {}};
      }
      if (passed(deadline)) return Reservation{ChannelStatus::kTimedOut, {}};
      const ChannelStatus st = core_.wait(deadline, spins);
      if (st != ChannelStatus::kOk) return Reservation{st, {}};
    }
    reserved_ = true;
  }
  // (A second reserve() before commit() keeps the slot and takes the new size.)
  held_len_ = n;
  return Reservation{ChannelStatus::kOk, std::span<std::byte>(held_.slot + kSlotHeader, n)};
}

Result<Reservation> MpmcProducer::try_reserve(std::size_t n) { return reserve_impl(n, kNoDeadline, false); }
Result<Reservation> MpmcProducer::reserve(std::size_t n) { return reserve_impl(n, kNoDeadline, true); }
Result<Reservation> MpmcProducer::reserve_until(std::size_t n, Deadline deadline) {
  return reserve_impl(n, deadline, true);
}

Result<void> MpmcProducer::commit() { return commit_size(held_len_); }

Result<void> MpmcProducer::commit_size(std::size_t used) {
  if (!core_.usable()) return fail(core_.unusable_error("channel_commit"));
  if (!reserved_) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_commit", quoted(core_.name()),
                        "nothing reserved: call reserve() first");
  }
  if (used > held_len_) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_commit", quoted(core_.name()),
                        fmt::format("commit of {} bytes exceeds the {} reserved", used, held_len_));
  }
  core_.publish(held_, used);
  reserved_ = false;
  return {};
}

Result<ChannelStatus> MpmcProducer::send_impl(std::span<const std::byte> message, Deadline deadline, bool may_wait) {
  auto r = reserve_impl(message.size(), deadline, may_wait);
  if (!r) return fail(r.error());
  if (r->status != ChannelStatus::kOk) return r->status;
  if (!message.empty()) std::memcpy(r->data.data(), message.data(), message.size());
  core_.publish(held_, message.size());
  reserved_ = false;
  return ChannelStatus::kOk;
}

Result<ChannelStatus> MpmcProducer::try_send(std::span<const std::byte> message) {
  return send_impl(message, kNoDeadline, false);
}
Result<ChannelStatus> MpmcProducer::send(std::span<const std::byte> message) {
  return send_impl(message, kNoDeadline, true);
}
Result<ChannelStatus> MpmcProducer::send_until(std::span<const std::byte> message, Deadline deadline) {
  return send_impl(message, deadline, true);
}

// ------------------------------------------------------------------------------------------------
// MpmcConsumer

Result<MpmcConsumer> MpmcConsumer::open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                        std::uint64_t type_hash) {
  auto core = detail::MpmcCore::open(name, mode, options, type_hash, detail::MpmcCore::Role::kConsumer);
  if (!core) return fail(core.error());
  MpmcConsumer c;
  c.core_ = std::move(*core);
  return c;
}

// Closing (also on move assignment) hands a view of ours to another consumer, never left held by a departed member.
MpmcConsumer::~MpmcConsumer() { (void)close(); }

Result<void> MpmcConsumer::close() noexcept {
  if (viewing_ && core_.usable()) core_.abandon(held_);
  viewing_ = false;
  (void)core_.close();
  return {};
}

Result<ReceivedView> MpmcConsumer::receive_impl(Deadline deadline, bool may_wait) {
  if (!core_.usable()) return fail(core_.unusable_error("channel_receive"));
  if (viewing_) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_receive", quoted(core_.name()),
                        "the previous view was not released: call release() first");
  }
  std::uint32_t spins = 0;
  while (core_.claim_read(held_) != ChannelStatus::kOk) {
    if (!may_wait) {
      // try_: report a departed other side at most once per liveness_interval (wait() checks).
      const ChannelStatus st = core_.poll_members();
      return ReceivedView{st == ChannelStatus::kOk ? ChannelStatus::kWouldBlock : st, {}, false};
    }
    if (passed(deadline)) return ReceivedView{ChannelStatus::kTimedOut, {}, false};
    const ChannelStatus st = core_.wait(deadline, spins);
    if (st != ChannelStatus::kOk) return ReceivedView{st, {}, false};
  }
  const std::uint64_t len = core_.length_at(held_);
  if (len > core_.max_message()) {
    // A garbage length (a scribbling process): never read past the slot. The slot is freed so the
    // channel keeps moving; the error names the length.
    core_.finish_read(held_);
    return fail_library(LibraryCode::kCorrupt, "channel_receive", quoted(core_.name()),
                        fmt::format("a slot holds length {} > max_message {}; the record was dropped", len,
                                    core_.max_message()));
  }
  viewing_ = true;
  return ReceivedView{ChannelStatus::kOk, std::span<const std::byte>(held_.slot + kSlotHeader, len),
                      held_.redelivered};
}

Result<ReceivedView> MpmcConsumer::try_receive() { return receive_impl(kNoDeadline, false); }
Result<ReceivedView> MpmcConsumer::receive() { return receive_impl(kNoDeadline, true); }
Result<ReceivedView> MpmcConsumer::receive_until(Deadline deadline) { return receive_impl(deadline, true); }

Result<void> MpmcConsumer::release() {
  if (!core_.usable()) return fail(core_.unusable_error("channel_release"));
  if (!viewing_) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_release", quoted(core_.name()),
                        "nothing to release: receive() first");
  }
  viewing_ = false;
  core_.finish_read(held_);
  return {};
}

Result<ReceivedCopy> MpmcConsumer::copy_out(std::span<std::byte> buffer, Deadline deadline, bool may_wait) {
  if (core_.valid() && buffer.size() < core_.max_message()) {
    return fail_library(LibraryCode::kTooLarge, "channel_receive", quoted(core_.name()),
                        fmt::format("buffer of {} bytes is smaller than the channel's max_message {}", buffer.size(),
                                    core_.max_message()));
  }
  auto v = receive_impl(deadline, may_wait);
  if (!v) return fail(v.error());
  if (v->status != ChannelStatus::kOk) return ReceivedCopy{v->status, 0, false};
  if (!v->data.empty()) std::memcpy(buffer.data(), v->data.data(), v->data.size());
  ReceivedCopy out{ChannelStatus::kOk, v->data.size(), v->redelivered};
  viewing_ = false;
  core_.finish_read(held_);
  return out;
}

Result<ReceivedCopy> MpmcConsumer::try_receive(std::span<std::byte> buffer) {
  return copy_out(buffer, kNoDeadline, false);
}
Result<ReceivedCopy> MpmcConsumer::receive(std::span<std::byte> buffer) { return copy_out(buffer, kNoDeadline, true); }
Result<ReceivedCopy> MpmcConsumer::receive_until(std::span<std::byte> buffer, Deadline deadline) {
  return copy_out(buffer, deadline, true);
}

}  // namespace ipckit

namespace ipckit::detail {

void inspect_mpmc(ChannelMap& m, ChannelInfo& out) {
  cl::Header* h = m.header;
  const std::uint64_t tail = aref(h->prod.tail).load(std::memory_order_relaxed);
  const std::uint64_t head = aref(h->cons.head).load(std::memory_order_relaxed);
  const std::uint64_t slots = MpmcChannel::slots_for(m.capacity, m.max_message);
  out.fill = tail >= head && tail - head <= slots ? tail - head : 0;
  out.fill_unit = "messages";
  if (slots == 0) return;  // no member table in an object this small (validated by openers)
  cl::RoleSlot* table = members(m);
  for (std::uint32_t i = 0; i < MpmcChannel::kMaxMembers; ++i) {
    MpmcCore::Stats* s = stats_of(table[i]);
    const std::uint64_t role = aref(s->role).load(std::memory_order_relaxed);
    auto p = describe_slot(m, table[i], role == static_cast<std::uint64_t>(MpmcCore::Role::kProducer) ? "producer"
                                                                                                    : "consumer");
    if (!p) continue;
    auto rd = [](std::uint64_t& v) { return aref(v).load(std::memory_order_relaxed); };
    p->sent = rd(s->sent);
    p->received = rd(s->received);
    out.sent += p->sent;
    out.received += p->received;
    out.full_waits += rd(s->full_waits);
    out.empty_waits += rd(s->empty_waits);
    out.futex_wakes += rd(s->futex_wakes);
    out.redelivered += rd(s->redelivered);
    out.participants.push_back(std::move(*p));
  }
}

}  // namespace ipckit::detail
