// SPDX-License-Identifier: Apache-2.0
#include "ipckit/channel/spsc.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/name.hpp"
#include "ipckit/memory/memfd.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;

namespace {

// Spins between clock reads in busy-poll loops: steady_clock is a vDSO read (no syscall) but not free.
constexpr std::uint32_t kSpinsPerClockRead = 256;


ChannelCounters read_counters(cl::Header* h) noexcept {
  ChannelCounters c;
  c.sent = aref(h->prod.sent).load(std::memory_order_relaxed);
  c.received = aref(h->cons.received).load(std::memory_order_relaxed);
  c.full_waits = aref(h->prod.full_waits).load(std::memory_order_relaxed);
  c.empty_waits = aref(h->cons.empty_waits).load(std::memory_order_relaxed);
  c.futex_wakes = aref(h->prod.futex_wakes).load(std::memory_order_relaxed) +
                  aref(h->cons.futex_wakes).load(std::memory_order_relaxed);
  c.redelivered = aref(h->cons.redelivered).load(std::memory_order_relaxed);
  c.reclaimed = aref(h->misc.reclaimed).load(std::memory_order_relaxed);
  return c;
}

// open() and open_memfd() of both roles: the object mapped (or why not), then the role's attach().
template <class Attach>
auto map_then_attach(Result<detail::ChannelMap> map, Attach attach) -> decltype(attach(std::move(*map))) {
  if (!map) return fail(map.error());
  return attach(std::move(*map));
}

Unexpected corrupt(const detail::ChannelMap& m, std::string call, std::string detail) {
  return fail_library(LibraryCode::kCorrupt, std::move(call), quoted(m.name), std::move(detail));
}

// Error builders for the fast-path functions, kept out of line so those stay small (no string
// formatting code, fewer saved registers in their prologues).
[[gnu::cold, gnu::noinline]] Unexpected too_large(const detail::ChannelMap& m, std::size_t n) {
  return fail_library(LibraryCode::kTooLarge, "channel_reserve", quoted(m.name),
                      fmt::format("message of {} bytes > max_message {} of the channel", n, m.max_message));
}

[[gnu::cold, gnu::noinline]] Unexpected bad_commit(const detail::ChannelMap& m, bool reserved, std::size_t used,
                                                   std::size_t len) {
  return fail_library(LibraryCode::kInvalidArgument, "channel_commit", quoted(m.name),
                      reserved ? fmt::format("{} bytes used > {} reserved", used, len)
                               : std::string("nothing reserved"));
}

[[gnu::cold, gnu::noinline]] Unexpected misuse(const detail::ChannelMap& m, const char* call, const char* what) {
  return fail_library(LibraryCode::kInvalidArgument, call, quoted(m.name), what);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// SpscChannel

Result<void> SpscChannel::unlink(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kShm, "shm_unlink"); !v) return fail(v.error());
  const std::string n(name);
  if (::shm_unlink(n.c_str()) != 0) return last_errno().fail("shm_unlink", quoted(name));
  return {};
}

Result<ChannelCounters> SpscChannel::counters(std::string_view name) {
  // A monitor does not know the message type: accept any. Read-only (O_RDONLY, PROT_READ): a
  // monitor needs no write access, so a 0444 or 0644 channel of another user can be watched.
  auto m = detail::open_segment(name, OpenMode::kOpenExisting, ChannelOptions{}, detail::kAnyType,
                                cl::kPatternSpsc, true, 0, true);
  if (!m) return fail(m.error());
  return read_counters(m->header);
}

// ------------------------------------------------------------------------------------------------
// SpscProducer

Result<SpscProducer> SpscProducer::open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                        std::uint64_t type_hash) {
  return map_then_attach(detail::open_segment(name, mode, options, type_hash),
                         [&](detail::ChannelMap&& m) { return attach(std::move(m), options); });
}

Result<SpscProducer> SpscProducer::open_memfd(const Memfd& channel, const ChannelOptions& options, std::uint64_t type_hash) {
  return map_then_attach(detail::open_fd_segment(channel.name(), channel.native_handle(), type_hash),
                         [&](detail::ChannelMap&& m) { return attach(std::move(m), options); });
}

Result<SpscProducer> SpscProducer::attach(detail::ChannelMap&& map, const ChannelOptions& options) {
  auto claim = detail::claim_role(map, map.header->producer, "producer", options.wait);
  if (!claim) return fail(claim.error());
  SpscProducer p;
  p.at_ = detail::Attachment(std::move(map), options, claim->claim, claim->reclaimed);
  p.mask_ = p.at_.map.capacity - 1;
  cl::Header* h = p.at_.map.header;
  const std::uint64_t cap = p.at_.map.capacity;

  // Find where the previous producer stopped: walk the committed records from the consumer's head
  // (or the last published tail) to the first zero commit word. Each producer zeroes the word after
  // a record before publishing it, so the walk ends exactly after the last published record, even
  // when the previous producer was killed mid-write. Everything read is validated.
  const std::uint64_t head = aref(h->cons.head).load(std::memory_order_acquire);  // pairs with release in release()
  const std::uint64_t ptail = aref(h->prod.tail).load(std::memory_order_acquire);  // pairs with release in flush()
  if ((head & 7) != 0) {
    return corrupt(p.at_.map, "channel_open", fmt::format("consumer index {:#x} is not 8-byte aligned", head));
  }
  std::uint64_t pos = (ptail >= head && ptail - head <= cap && (ptail & 7) == 0) ? ptail : head;
  for (std::uint64_t steps = 0;; ++steps) {
    // acquire: pairs with the release store of the word in store_word()/flush() of the old producer
    const std::uint64_t w = aref(*p.word_at(pos)).load(std::memory_order_acquire);
    if (w == 0) break;
    const std::uint64_t off = pos & p.mask_;
    const std::uint64_t len = w >> 32;
    if ((w & cl::kCommitted) == 0 || (w & cl::kTagMask) != cl::position_tag(pos) || steps > cap / 8) {
      return corrupt(p.at_.map, "channel_open",
                     fmt::format("record word {:#x} at position {:#x} does not belong there", w, pos));
    }
    if ((w & cl::kPad) != 0) {
      if (off == 0 || len != 0) return corrupt(p.at_.map, "channel_open", fmt::format("bad padding record at {:#x}", pos));
      pos += cap - off;
    } else {
      if (len > p.at_.map.max_message || off + cl::record_size(len) > cap) {
        return corrupt(p.at_.map, "channel_open",
                       fmt::format("record of {} bytes at position {:#x} exceeds max {} or the ring", len, pos,
                                   p.at_.map.max_message));
      }
      pos += cl::record_size(len);
    }
    if (pos - head > cap) {
      return corrupt(p.at_.map, "channel_open", fmt::format("records run past the consumer index {:#x}", head));
    }
  }
  p.tail_ = pos;
  p.head_cache_ = head;
  p.sent_ = aref(h->prod.sent).load(std::memory_order_relaxed);
  p.full_waits_ = aref(h->prod.full_waits).load(std::memory_order_relaxed);
  p.wakes_ = aref(h->prod.futex_wakes).load(std::memory_order_relaxed);
  aref(h->prod.tail).store(p.tail_, std::memory_order_release);  // pairs with acquire in open() of the next producer
  // A consumer that closed (or died) before we came ends nothing of ours: we wait for the next.
  p.at_.peer.start(detail::first_session(p.at_.map, h->consumer, [] { return false; }));
  return p;
}

SpscProducer::~SpscProducer() { (void)close(); }

Result<void> SpscProducer::close() noexcept {
  if (!at_.attached()) return {};
  if (at_.ours()) {
    flush();
    cl::Header* h = at_.map.header;
    detail::release_role(at_.map, h->producer, at_.claim);
    // Wake a sleeping consumer so it sees the close now rather than at its next liveness check.
    std::atomic_thread_fence(std::memory_order_seq_cst);  // Dekker: pairs with the fence in sleep_unless_ready()
    (void)detail::wake_all_announced(h->wait.consumer_sleeping, h->wait.data_seq);
    // Same for a consumer waiting in epoll (after the same fence).
    if (aref(h->wait.armed).load(std::memory_order_relaxed) != 0) (void)notify_.notify(at_.map);
  }
  notify_.reset();
  // In a forked child the role is the parent's: only our mapping goes.
  at_.detach();
  reserved_ = false;
  return {};
}

ChannelCounters SpscProducer::counters() const noexcept {
  return at_.map.header != nullptr ? read_counters(at_.map.header) : ChannelCounters{};
}

[[gnu::cold]] Error SpscProducer::unusable_error() const { return at_.unusable_error("channel_send", "producer"); }

ChannelStatus SpscProducer::consumer_status(bool force) {
  return at_.peer_status(at_.map.header->consumer, force);
}

Result<bool> SpscProducer::refresh_head(std::uint64_t need) {
  // acquire: pairs with the release store of head in SpscConsumer::release(); the consumer's reads
  // of the records before `head` happen-before we overwrite them.
  const std::uint64_t head = aref(at_.map.header->cons.head).load(std::memory_order_acquire);
  if (head > tail_ || tail_ - head > at_.map.capacity || (head & 7) != 0) {
    return corrupt(at_.map, "channel_send",
                   fmt::format("consumer index {:#x} is outside [{:#x}, {:#x}]", head,
                               tail_ >= at_.map.capacity ? tail_ - at_.map.capacity : 0, tail_));
  }
  head_cache_ = head;
  return tail_ + need - head <= at_.map.capacity;
}

Result<ChannelStatus> SpscProducer::make_room(std::uint64_t need, Deadline deadline, bool may_wait) {
  // Fast path: the cached head says it fits; no shared line is touched.
  if (tail_ + need - head_cache_ <= at_.map.capacity) return ChannelStatus::kOk;
  auto fits = refresh_head(need);
  if (!fits) return fail(fits.error());
  if (*fits) return ChannelStatus::kOk;
  // Full: publish what we withheld, or the consumer could never drain the ring.
  flush();
  if (!may_wait) {
    const ChannelStatus peer = consumer_status(false);
    return peer == ChannelStatus::kOk ? ChannelStatus::kWouldBlock : peer;
  }
  return wait_for_space(need, deadline);
}

Result<ChannelStatus> SpscProducer::wait_for_space(std::uint64_t need, Deadline deadline) {
  cl::Header* h = at_.map.header;
  aref(h->prod.full_waits).store(++full_waits_, std::memory_order_relaxed);
  const WaitStrategy mode = at_.options.wait;
  const std::uint64_t spins = mode == WaitStrategy::kBusyPoll ? ~std::uint64_t{0}
                              : mode == WaitStrategy::kSpinThenFutex ? at_.options.spin_iterations : 0;
  for (std::uint64_t i = 1; i <= spins; ++i) {
    detail::cpu_relax();
    auto fits = refresh_head(need);
    if (!fits) return fail(fits.error());
    if (*fits) return ChannelStatus::kOk;
    if (i % kSpinsPerClockRead == 0) {
      if (Clock::now() >= deadline) return ChannelStatus::kTimedOut;
      if (const ChannelStatus peer = consumer_status(false); peer != ChannelStatus::kOk) return peer;
    }
  }
  for (;;) {
    // The channel's one sleep (src/channel/wait.hpp): the re-check is the head load, which pairs
    // with the consumer's head store, fence, and announcement load in wake_producer().
    Result<bool> fits = false;
    ChannelStatus outcome = ChannelStatus::kOk;
    const bool over = detail::sleep_unless_ready(h->wait.producer_sleeping, h->wait.space_seq,
                                                 at_.sleep_slice(deadline), [&] {
                                                   fits = refresh_head(need);
                                                   if (!fits || *fits) return true;
                                                   outcome = consumer_status(false);
                                                   if (outcome == ChannelStatus::kOk && Clock::now() >= deadline) {
                                                     outcome = ChannelStatus::kTimedOut;
                                                   }
                                                   return outcome != ChannelStatus::kOk;
                                                 });
    if (!fits) return fail(fits.error());
    if (*fits) return ChannelStatus::kOk;
    if (over) return outcome;
  }
}

void SpscProducer::flush() noexcept {
  if (at_.map.header == nullptr) return;
  cl::Header* h = at_.map.header;
  if (batch_word_ != 0) {
    // Publishes the whole batch: every payload and relaxed word stored before this; pairs with the
    // acquire load in SpscConsumer::peek().
    aref(*word_at(batch_pos_)).store(batch_word_, std::memory_order_release);
    batch_word_ = 0;
    batch_count_ = 0;
  }
  (void)h;
  publish_tail();
}

void SpscProducer::wake_consumer() noexcept {
  cl::Header* h = at_.map.header;
  // A busy-polling consumer never sleeps: skip the fence (the cost on x86 is an mfence per publish).
  // A consumer that replaces it and sleeps at once may miss one wake-up and sleep until its next
  // liveness check (liveness_interval) at worst.
  if (aref(h->consumer.wait_mode).load(std::memory_order_relaxed) ==
      static_cast<std::uint32_t>(WaitStrategy::kBusyPoll)) {
    return;
  }
  // Dekker with wait_for_data(): pairs with the consumer's fence between its announcement and its
  // re-check of the commit word (sleep_unless_ready()).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (detail::wake_all_announced(h->wait.consumer_sleeping, h->wait.data_seq)) {
    aref(h->prod.futex_wakes).store(++wakes_, std::memory_order_relaxed);
  }
  // Epoll integration, same Dekker pairing: the consumer stores `armed`, fences (seq_cst) and
  // re-reads the commit word at its head in arm(); we stored the word (release), fenced, and read
  // `armed` here. Either it sees our record or we see `armed`. No syscall unless armed.
  if (aref(h->wait.armed).load(std::memory_order_relaxed) != 0) [[unlikely]] {
    if (notify_.notify(at_.map)) aref(h->prod.futex_wakes).store(++wakes_, std::memory_order_relaxed);
  }
}

Result<Reservation> SpscProducer::reserve_impl(std::size_t n, Deadline deadline, bool may_wait) {
  if (!usable()) [[unlikely]] return fail(unusable_error());
  if (n > at_.map.max_message) [[unlikely]] return too_large(at_.map, n);
  const std::uint64_t cap = at_.map.capacity;
  const std::uint64_t rec = cl::record_size(n);
  const std::uint64_t off = tail_ & mask_;
  // A record never wraps: if it does not fit before the end of the ring, a padding record fills
  // the rest of the lap and the record starts at offset 0.
  const std::uint64_t pad = off + rec > cap ? cap - off : 0;
  // + 8: the commit word after the record is zeroed before the record is published.
  auto room = make_room(pad + rec + cl::kRecordHeader, deadline, may_wait);
  if (!room) [[unlikely]] return fail(room.error());
  if (*room != ChannelStatus::kOk) return Reservation{*room, {}};
  if (pad != 0) {
    aref(*word_at(tail_ + pad)).store(0, std::memory_order_relaxed);  // published by the pad's word
    store_word(tail_, cl::make_word(tail_, 0, true), false);
    tail_ += pad;
  }
  res_pos_ = tail_;
  res_len_ = n;
  reserved_ = true;
  return Reservation{ChannelStatus::kOk,
                     std::span<std::byte>(at_.map.ring + (tail_ & mask_) + cl::kRecordHeader, n)};
}


Result<void> SpscProducer::commit_slow(std::size_t used) {
  if (!usable()) return fail(unusable_error());
  return bad_commit(at_.map, reserved_, used, res_len_);
}

Result<ChannelStatus> SpscProducer::try_send(std::span<const std::byte> message, bool publish) {
  auto r = try_reserve(message.size());
  if (!r) return fail(r.error());
  if (!*r) return r->status;
  if (!message.empty()) std::memcpy(r->data.data(), message.data(), message.size());
  if (auto c = commit(publish); !c) return fail(c.error());
  return ChannelStatus::kOk;
}

Result<ChannelStatus> SpscProducer::send(std::span<const std::byte> message, bool publish) {
  return send_until(message, kNoDeadline, publish);
}

Result<ChannelStatus> SpscProducer::send_until(std::span<const std::byte> message, Deadline deadline,
                                               bool publish) {
  auto r = reserve_until(message.size(), deadline);
  if (!r) return fail(r.error());
  if (!*r) return r->status;
  if (!message.empty()) std::memcpy(r->data.data(), message.data(), message.size());
  if (auto c = commit(publish); !c) return fail(c.error());
  return ChannelStatus::kOk;
}

// ------------------------------------------------------------------------------------------------
// SpscConsumer

Result<SpscConsumer> SpscConsumer::open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                        std::uint64_t type_hash) {
  return map_then_attach(detail::open_segment(name, mode, options, type_hash),
                         [&](detail::ChannelMap&& m) { return attach(std::move(m), options); });
}

Result<SpscConsumer> SpscConsumer::open_memfd(const Memfd& channel, const ChannelOptions& options, std::uint64_t type_hash) {
  return map_then_attach(detail::open_fd_segment(channel.name(), channel.native_handle(), type_hash),
                         [&](detail::ChannelMap&& m) { return attach(std::move(m), options); });
}

Result<SpscConsumer> SpscConsumer::attach(detail::ChannelMap&& map, const ChannelOptions& options) {
  auto claim = detail::claim_role(map, map.header->consumer, "consumer", options.wait);
  if (!claim) return fail(claim.error());
  SpscConsumer c;
  c.at_ = detail::Attachment(std::move(map), options, claim->claim, claim->reclaimed);
  c.mask_ = c.at_.map.capacity - 1;
  cl::Header* h = c.at_.map.header;
  // Our own index, left by the previous consumer; validated against the producer's published tail
  // (the true tail is at most one ring ahead of both).
  const std::uint64_t head = aref(h->cons.head).load(std::memory_order_acquire);  // pairs with release in release()
  const std::uint64_t ptail = aref(h->prod.tail).load(std::memory_order_acquire);  // pairs with release in flush()
  const std::uint64_t diff = head - ptail;  // modular: |head - ptail| <= capacity when sane
  if ((head & 7) != 0 || (diff > c.at_.map.capacity && -diff > c.at_.map.capacity)) {
    return corrupt(c.at_.map, "channel_open",
                   fmt::format("consumer index {:#x} is not within one ring ({}) of the producer index {:#x}",
                               head, c.at_.map.capacity, ptail));
  }
  c.head_ = head;
  const std::uint64_t held = aref(h->cons.held).load(std::memory_order_relaxed);
  if (held == head + 1) c.redeliver_pos_ = held;  // the previous consumer died (or closed) holding it
  c.received_ = aref(h->cons.received).load(std::memory_order_relaxed);
  c.redelivered_ = aref(h->cons.redelivered).load(std::memory_order_relaxed);
  c.empty_waits_ = aref(h->cons.empty_waits).load(std::memory_order_relaxed);
  c.wakes_ = aref(h->cons.futex_wakes).load(std::memory_order_relaxed);
  // The producer's end is ours if it holds the role now or left records for us; an end whose
  // session was fully read before we came belongs to an earlier consumer (docs/channel.md, Sessions).
  c.at_.peer.start(detail::first_session(c.at_.map, h->producer, [&] {
    return held == head + 1 || aref(*c.word_at(head)).load(std::memory_order_acquire) != 0;  // pairs with store_word()
  }));
  // A predecessor that died armed left `armed` set: not ours (costs producers a refused connect).
  aref(h->wait.armed).store(0, std::memory_order_relaxed);
  return c;
}

SpscConsumer::~SpscConsumer() { (void)close(); }

Result<void> SpscConsumer::close() noexcept {
  if (!at_.attached()) return {};
  if (at_.ours()) {
    cl::Header* h = at_.map.header;
    if (notify_.enabled()) aref(h->wait.armed).store(0, std::memory_order_relaxed);
    detail::release_role(at_.map, h->consumer, at_.claim);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // Dekker: pairs with the fence in sleep_unless_ready()
    (void)detail::wake_all_announced(h->wait.producer_sleeping, h->wait.space_seq);
  }
  at_.detach();
  viewing_ = false;
  notify_.reset();
  return {};
}

ChannelCounters SpscConsumer::counters() const noexcept {
  return at_.map.header != nullptr ? read_counters(at_.map.header) : ChannelCounters{};
}

[[gnu::cold]] Error SpscConsumer::unusable_error() const { return at_.unusable_error("channel_receive", "consumer"); }

ChannelStatus SpscConsumer::producer_status(bool force) {
  return at_.peer_status(at_.map.header->producer, force);
}

SpscConsumer::Peek SpscConsumer::peek() noexcept {
  const std::uint64_t cap = at_.map.capacity;
  for (;;) {
    // acquire: pairs with the release store of the word in SpscProducer::store_word()/flush(); the
    // payload written before it is visible once we see the word.
    const std::uint64_t w = aref(*word_at(head_)).load(std::memory_order_acquire);
    if (w == 0) return Peek::kEmpty;
    // Untrusted: the word is ours only if it carries our position's tag; its length must fit.
    const std::uint64_t off = head_ & mask_;
    const std::uint64_t len = w >> 32;
    if ((w & (cl::kCommitted | cl::kTagMask)) != (cl::kCommitted | cl::position_tag(head_))) [[unlikely]] {
      bad_word_ = w;
      bad_reason_ = 1;
      return Peek::kBad;
    }
    if ((w & cl::kPad) != 0) [[unlikely]] {
      if (off == 0 || len != 0) {
        bad_word_ = w;
        bad_reason_ = 2;
        return Peek::kBad;
      }
      head_ += cap - off;
      aref(at_.map.header->cons.head).store(head_, std::memory_order_release);  // pairs with acquire in refresh_head()
      continue;
    }
    if (len > at_.map.max_message || off + cl::record_size(len) > cap) [[unlikely]] {
      bad_word_ = w;
      bad_reason_ = 3;
      return Peek::kBad;
    }
    view_len_ = len;
    viewing_ = true;
    view_redelivered_ = head_ + 1 == redeliver_pos_;
    // Crash marker: if we die before release(), the next consumer redelivers this record.
    aref(at_.map.header->cons.held).store(head_ + 1, std::memory_order_relaxed);
    return Peek::kReady;
  }
}

[[gnu::cold]] Error SpscConsumer::peek_error() const {
  const std::uint64_t len = bad_word_ >> 32;
  std::string detail;
  switch (bad_reason_) {
    case 1:
      detail = fmt::format("record word {:#x} at position {:#x} does not belong there", bad_word_, head_);
      break;
    case 2:
      detail = fmt::format("bad padding record at {:#x}", head_);
      break;
    default:
      detail = fmt::format("record of {} bytes at position {:#x} exceeds max_message {} or the ring", len, head_,
                           at_.map.max_message);
  }
  return Error::library(LibraryCode::kCorrupt, "channel_receive", quoted(at_.map.name), std::move(detail));
}

Result<ChannelStatus> SpscConsumer::wait_for_data(Deadline deadline) {
  cl::Header* h = at_.map.header;
  aref(h->cons.empty_waits).store(++empty_waits_, std::memory_order_relaxed);
  std::uint64_t* word = word_at(head_);
  const WaitStrategy mode = at_.options.wait;
  const std::uint64_t spins = mode == WaitStrategy::kBusyPoll ? ~std::uint64_t{0}
                              : mode == WaitStrategy::kSpinThenFutex ? at_.options.spin_iterations : 0;
  for (std::uint64_t i = 1; i <= spins; ++i) {
    // relaxed: only a hint; peek() re-reads with acquire.
    if (aref(*word).load(std::memory_order_relaxed) != 0) return ChannelStatus::kOk;
    detail::cpu_relax();
    if (i % kSpinsPerClockRead == 0) {
      if (Clock::now() >= deadline) return ChannelStatus::kTimedOut;
      if (const ChannelStatus peer = producer_status(false); peer != ChannelStatus::kOk) {
        return aref(*word).load(std::memory_order_relaxed) != 0 ? ChannelStatus::kOk : peer;
      }
    }
  }
  for (;;) {
    // The channel's one sleep (src/channel/wait.hpp): the re-check is the commit-word load, which
    // pairs with the producer's word store, fence, and announcement load in wake_consumer().
    ChannelStatus outcome = ChannelStatus::kOk;
    const bool over = detail::sleep_unless_ready(h->wait.consumer_sleeping, h->wait.data_seq,
                                                 at_.sleep_slice(deadline), [&] {
                                                   if (aref(*word).load(std::memory_order_relaxed) != 0) return true;
                                                   outcome = producer_status(false);
                                                   if (outcome == ChannelStatus::kOk && Clock::now() >= deadline) {
                                                     outcome = ChannelStatus::kTimedOut;
                                                   }
                                                   return outcome != ChannelStatus::kOk;
                                                 });
    if (!over) continue;
    // A record published just before the producer died or closed is still delivered.
    if (aref(*word).load(std::memory_order_relaxed) != 0) return ChannelStatus::kOk;
    return outcome;
  }
}

Result<ReceivedView> SpscConsumer::receive_impl(Deadline deadline, bool may_wait) {
  if (!usable()) [[unlikely]] return fail(unusable_error());
  if (viewing_) [[unlikely]] return misuse(at_.map, "channel_receive", "release() the previous message first");
  for (;;) {
    const Peek p = peek();
    if (p == Peek::kReady) [[likely]] {
      if (view_redelivered_) [[unlikely]] {
        aref(at_.map.header->cons.redelivered).store(++redelivered_, std::memory_order_relaxed);
        redeliver_pos_ = ~std::uint64_t{0};
      }
      return ReceivedView{ChannelStatus::kOk,
                          std::span<const std::byte>(at_.map.ring + (head_ & mask_) + cl::kRecordHeader, view_len_),
                          view_redelivered_};
    }
    if (p == Peek::kBad) [[unlikely]] return fail(peek_error());
    ChannelStatus st = ChannelStatus::kWouldBlock;
    if (!may_wait) {
      st = producer_status(false);
      if (st == ChannelStatus::kOk) return ReceivedView{ChannelStatus::kWouldBlock, {}, false};
    } else {
      auto w = wait_for_data(deadline);
      if (!w) return fail(w.error());
      st = *w;
      if (st == ChannelStatus::kOk) continue;
    }
    // The producer is gone or the deadline passed: deliver anything published before saying so.
    const Peek again = peek();
    if (again == Peek::kBad) return fail(peek_error());
    if (again == Peek::kReady) {
      viewing_ = false;  // re-run the delivery path above
      continue;
    }
    return ReceivedView{st, {}, false};
  }
}


Result<int> SpscConsumer::enable_notification() {
  if (!usable()) return fail(unusable_error());
  if (!notify_.enabled()) {
    if (auto e = notify_.enable(at_.map, at_.claim, at_.options.liveness_interval); !e) return fail(e.error());
    // Producers skip their wake check for a busy-polling consumer: this one may sleep in epoll.
    aref(at_.map.header->consumer.wait_mode)
        .store(static_cast<std::uint32_t>(WaitStrategy::kBlocking), std::memory_order_relaxed);
    // Makes the wait_mode store visible before any later arm (the arm's fence also covers it).
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return notify_.handle();
}

Result<bool> SpscConsumer::arm() {
  if (!usable()) return fail(unusable_error());
  if (!notify_.enabled()) {
    return misuse(at_.map, "channel_arm", "no notification fd (call enable_notification() first)");
  }
  // Consume what made the fd readable (level-triggered) and serve producers asking for the eventfd.
  notify_.service();
  cl::Header* h = at_.map.header;
  aref(h->wait.armed).store(1, std::memory_order_relaxed);
  // Dekker with wake_consumer(): our `armed` store, fence, commit-word load vs the producer's
  // word store (release), fence, `armed` load. At least one side sees the other's store: either we
  // see the record here or the producer sees `armed` and writes the eventfd.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const bool ready = viewing_ || head_ + 1 == redeliver_pos_ ||
                     aref(*word_at(head_)).load(std::memory_order_relaxed) != 0 ||
                     producer_status(false) != ChannelStatus::kOk;
  if (ready) {
    aref(h->wait.armed).store(0, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void SpscConsumer::disarm() noexcept {
  if (at_.map.header != nullptr && notify_.enabled()) aref(at_.map.header->wait.armed).store(0, std::memory_order_relaxed);
}

Result<void> SpscConsumer::release_slow() {
  if (!usable()) return fail(unusable_error());
  return misuse(at_.map, "channel_release", "no message is held (receive() first)");
}

void SpscConsumer::wake_producer() noexcept {
  cl::Header* h = at_.map.header;
  if (aref(h->producer.wait_mode).load(std::memory_order_relaxed) ==
      static_cast<std::uint32_t>(WaitStrategy::kBusyPoll)) {
    return;  // a busy-polling producer never sleeps (see wake_consumer())
  }
  // Dekker with wait_for_space(): pairs with the producer's fence in sleep_unless_ready().
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (detail::wake_all_announced(h->wait.producer_sleeping, h->wait.space_seq)) {
    aref(h->cons.futex_wakes).store(++wakes_, std::memory_order_relaxed);
  }
}

Result<ReceivedCopy> SpscConsumer::copy_out(Result<ReceivedView> view, std::span<std::byte> buffer) {
  if (!view) return fail(view.error());
  if (!*view) return ReceivedCopy{view->status, 0, false};
  const std::size_t n = view->data.size();
  if (n > buffer.size()) {
    viewing_ = false;  // the record stays at the head for a retry with a larger buffer
    if (view->redelivered) redeliver_pos_ = head_ + 1;
    return fail_library(LibraryCode::kTooLarge, "channel_receive", quoted(at_.map.name),
                        fmt::format("message of {} bytes > buffer of {} bytes", n, buffer.size()));
  }
  if (n != 0) std::memcpy(buffer.data(), view->data.data(), n);
  const bool redelivered = view->redelivered;
  if (auto r = release(); !r) return fail(r.error());
  return ReceivedCopy{ChannelStatus::kOk, n, redelivered};
}

Result<ReceivedCopy> SpscConsumer::try_receive(std::span<std::byte> buffer) { return copy_out(try_receive(), buffer); }
Result<ReceivedCopy> SpscConsumer::receive(std::span<std::byte> buffer) { return copy_out(receive(), buffer); }
Result<ReceivedCopy> SpscConsumer::receive_until(std::span<std::byte> buffer, Deadline deadline) {
  return copy_out(receive_until(deadline), buffer);
}

}  // namespace ipckit
