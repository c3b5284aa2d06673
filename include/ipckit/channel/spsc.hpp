// SPDX-License-Identifier: Apache-2.0
/// @file
/// The ipckit SPSC channel: zero-copy variable-length messages between two processes through one
/// shared-memory object (`chan:/name`), surviving crashed peers.
///
/// @code
///   auto tx = SpscProducer::open("/telemetry", OpenMode::kOpenOrCreate);   // process A
///   auto span = tx->reserve(64);  fill(*span);  tx->commit();
///   auto rx = SpscConsumer::open("/telemetry", OpenMode::kOpenOrCreate);   // process B
///   auto msg = rx->receive();  use(msg->data);  rx->release();
/// @endcode
///
/// Roles: one producer and one consumer at a time, claimed in the shared header. A second claimant
/// (another process, or a forked child using an inherited endpoint) gets LibraryCode::kRoleTaken; a
/// role whose holder died (its liveness token, an OFD lock, was released) is taken over. The object stays until
/// SpscChannel::unlink(); attached endpoints keep working after an unlink.
///
/// Thread safety: an endpoint is used by one thread at a time (it is movable between threads);
/// producer and consumer may run in different threads or processes. counters() may be called from
/// anywhere. See docs/channel.md for the full table, the layout and the memory orders.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/channel/attachment.hpp"
#include "ipckit/channel/detail.hpp"
#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/notify.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/views.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

class Memfd;



/// Operations on an SPSC channel as a whole (by name).
class IPCKIT_API SpscChannel {
 public:
  /// shm_unlink of the channel's object. Attached endpoints keep working. Errors: ENOENT, EACCES.
  [[nodiscard]] static Result<void> unlink(std::string_view name);
  /// Counters of an existing channel without claiming a role (it opens the object and only reads
  /// the header). Errors: as open().
  [[nodiscard]] static Result<ChannelCounters> counters(std::string_view name);
};

/// The producer end of an SPSC channel. Used by one thread at a time.
class IPCKIT_API SpscProducer final {
 public:
  /// Opens or creates `name` and claims the producer role. `type_hash` is 0 for byte channels
  /// (Channel\<T\> passes its own); it must match the creator's. Blocks up to options.open_timeout
  /// while a creator initialises the object. Errors: shm_open/posix_fallocate errno (hint names
  /// /dev/shm), kInvalidArgument (sizes), kNotReady, kCorrupt, kVersionMismatch, kRoleTaken.
  [[nodiscard]] static Result<SpscProducer> open(std::string_view name, OpenMode mode,
                                                 const ChannelOptions& options = {},
                                                 std::uint64_t type_hash = 0);

  /// Attaches to a channel in a memfd (create_memfd_channel(), or receive_channel() from a peer,
  /// which verified its seals and size) and claims the role; the header is validated as in open().
  /// Errors: as open() (no shm_open), fstat/mmap errno.
  [[nodiscard]] static Result<SpscProducer> open_memfd(const Memfd& channel, const ChannelOptions& options = {},
                                                     std::uint64_t type_hash = 0);

  /// An invalid producer (valid() is false); assign one from open().
  SpscProducer() = default;
  /// Moves the endpoint; \p other is left invalid.
  SpscProducer(SpscProducer&& other) noexcept = default;
  /// Closes this endpoint, then takes \p other's; \p other is left invalid.
  SpscProducer& operator=(SpscProducer&& other) noexcept { return detail::replace_endpoint(*this, std::move(other)); }
  /// Not copyable.
  SpscProducer(const SpscProducer&) = delete;
  /// Not copyable.
  SpscProducer& operator=(const SpscProducer&) = delete;
  /// close(), ignoring errors.
  ~SpscProducer();

  /// Zero-copy send, step 1: a span of `n` bytes in the ring to fill in place. A second reserve()
  /// before commit() replaces the first. try_ never blocks; reserve() waits by the endpoint's
  /// WaitStrategy; reserve_until() until the deadline. When the ring stays full: kWouldBlock,
  /// kTimedOut, or kPeerDied/kPeerClosed once the consumer is gone. Errors: kTooLarge (n > max,
  /// naming max), kCorrupt (a garbage consumer index), kRoleTaken (used in a forked child).
  [[nodiscard]] Result<Reservation> try_reserve(std::size_t n);
  /// As try_reserve(), but waits by the WaitStrategy while the ring is full, without a deadline.
  [[nodiscard]] Result<Reservation> reserve(std::size_t n);
  /// As reserve(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<Reservation> reserve_until(std::size_t n, Deadline deadline);

  /// Step 2: makes the reserved record visible (all `n` bytes, or the first `used` <= n). With
  /// publish=false the record joins a batch that becomes visible at flush() (or automatically after
  /// kMaxBatch records, or when the producer must wait): one release store and one wake check per
  /// batch. Never blocks. Errors: kInvalidArgument (no reservation, used > n).
  [[nodiscard]] Result<void> commit(bool publish = true);
  /// As commit(), but makes only the first `used` bytes of the reservation the record.
  [[nodiscard]] Result<void> commit_size(std::size_t used, bool publish = true);
  /// Publishes a pending batch (wakes a sleeping consumer). Never blocks, never fails.
  void flush() noexcept;

  /// Copying send: reserve + memcpy + commit, same blocking and outcomes as reserve.
  /// try_send() never blocks.
  [[nodiscard]] Result<ChannelStatus> try_send(std::span<const std::byte> message, bool publish = true);
  /// Copying send that waits like reserve().
  [[nodiscard]] Result<ChannelStatus> send(std::span<const std::byte> message, bool publish = true);
  /// Copying send that waits like reserve_until(): at most until `deadline`.
  [[nodiscard]] Result<ChannelStatus> send_until(std::span<const std::byte> message, Deadline deadline,
                                                 bool publish = true);

  /// Flushes, marks the role closed (a consumer that drains the ring then gets kPeerClosed) and
  /// releases it. Idempotent. Must not run concurrently with other calls on this endpoint.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

  /// True while open (not default-constructed, moved from or closed).
  [[nodiscard]] bool valid() const noexcept { return at_.attached(); }
  /// Largest payload in bytes.
  [[nodiscard]] std::size_t max_message() const noexcept { return at_.map.max_message; }
  /// Ring bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return at_.map.capacity; }
  /// The channel's name, as opened.
  [[nodiscard]] const std::string& name() const noexcept { return at_.map.name; }
  /// A snapshot of the channel's counters (all zero when not valid()).
  [[nodiscard]] ChannelCounters counters() const noexcept;
  /// True when this endpoint took the role over from a dead producer.
  [[nodiscard]] bool reclaimed() const noexcept { return at_.reclaimed; }

  /// Records of one batch (publish=false) after which the batch is published anyway.
  static constexpr std::uint32_t kMaxBatch = 64;

 private:
  static Result<SpscProducer> attach(detail::ChannelMap&& map, const ChannelOptions& options);
  Result<Reservation> reserve_impl(std::size_t n, Deadline deadline, bool may_wait);
  // The inline fast path of reserve: no padding needed and the cached head says it fits.
  bool reserve_fast(std::size_t n, Reservation& out) noexcept;
  Result<void> commit_slow(std::size_t used);
  std::uint64_t* word_at(std::uint64_t pos) const noexcept {
    return reinterpret_cast<std::uint64_t*>(at_.map.ring + (pos & mask_));
  }
  // Returns kOk when `need` bytes are free, else the outcome of waiting.
  Result<ChannelStatus> make_room(std::uint64_t need, Deadline deadline, bool may_wait);
  Result<ChannelStatus> wait_for_space(std::uint64_t need, Deadline deadline);
  ChannelStatus consumer_status(bool force);
  // Reloads the consumer's head (validated); true when `need` bytes are free.
  Result<bool> refresh_head(std::uint64_t need);
  [[nodiscard]] bool usable() const noexcept;
  [[nodiscard]] Error unusable_error() const;
  void store_word(std::uint64_t pos, std::uint64_t word, bool publish) noexcept;
  void wake_consumer() noexcept;
  // Stores tail and sent, then wakes a consumer that may sleep (inline: once per publish).
  void publish_tail() noexcept;

  detail::Attachment at_;  // map, role claim, fork generation, options, liveness timer
  std::uint64_t mask_ = 0;
  std::uint64_t tail_ = 0;        // next record position (local; published per batch)
  std::uint64_t head_cache_ = 0;  // last consumer head seen
  std::uint64_t sent_ = 0;
  std::uint64_t full_waits_ = 0;
  std::uint64_t wakes_ = 0;
  std::uint64_t batch_pos_ = 0;    // first withheld record
  std::uint64_t batch_word_ = 0;   // its commit word (0: no batch open)
  std::uint32_t batch_count_ = 0;
  std::uint64_t res_pos_ = 0;
  std::uint64_t res_len_ = 0;
  bool reserved_ = false;
  detail::NotifySender notify_;  // the armed consumer's eventfd (epoll integration)
};

/// The consumer end of an SPSC channel. Used by one thread at a time.
class IPCKIT_API SpscConsumer final {
 public:
  /// Opens or creates `name` and claims the consumer role. If the previous consumer died holding a
  /// record, the first receive() hands it out again with redelivered=true. Errors: as
  /// SpscProducer::open.
  [[nodiscard]] static Result<SpscConsumer> open(std::string_view name, OpenMode mode,
                                                 const ChannelOptions& options = {},
                                                 std::uint64_t type_hash = 0);

  /// Attaches to a channel in a memfd (create_memfd_channel(), or receive_channel() from a peer,
  /// which verified its seals and size) and claims the role; the header is validated as in open().
  /// Errors: as open() (no shm_open), fstat/mmap errno.
  [[nodiscard]] static Result<SpscConsumer> open_memfd(const Memfd& channel, const ChannelOptions& options = {},
                                                     std::uint64_t type_hash = 0);

  /// An invalid consumer (valid() is false); assign one from open().
  SpscConsumer() = default;
  /// Moves the endpoint; \p other is left invalid.
  SpscConsumer(SpscConsumer&& other) noexcept = default;
  /// Closes this endpoint, then takes \p other's; \p other is left invalid.
  SpscConsumer& operator=(SpscConsumer&& other) noexcept { return detail::replace_endpoint(*this, std::move(other)); }
  /// Not copyable.
  SpscConsumer(const SpscConsumer&) = delete;
  /// Not copyable.
  SpscConsumer& operator=(const SpscConsumer&) = delete;
  /// close(), ignoring errors.
  ~SpscConsumer();

  /// Zero-copy receive: a view of the next record, valid until release(). try_ never blocks;
  /// receive() waits by the WaitStrategy; receive_until() until the deadline. On an empty ring:
  /// kWouldBlock, kTimedOut, kPeerClosed (producer closed) or kPeerDied (producer found dead; every
  /// record it published has been delivered first). Errors: kCorrupt (a torn or garbage record or
  /// index: never an out-of-bounds read), kInvalidArgument (previous view not released),
  /// kRoleTaken (used in a forked child).
  [[nodiscard]] Result<ReceivedView> try_receive();
  /// As try_receive(), but waits by the WaitStrategy while the ring is empty, without a deadline.
  [[nodiscard]] Result<ReceivedView> receive();
  /// As receive(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<ReceivedView> receive_until(Deadline deadline);
  /// Frees the record of the last view for the producer. Never blocks. Errors: kInvalidArgument
  /// (nothing held).
  [[nodiscard]] Result<void> release();

  /// Copying receive into `buffer`. Errors as above, plus kTooLarge when the record does not fit
  /// (the record stays in the ring). try_receive(buffer) never blocks.
  [[nodiscard]] Result<ReceivedCopy> try_receive(std::span<std::byte> buffer);
  /// Copying receive that waits like receive().
  [[nodiscard]] Result<ReceivedCopy> receive(std::span<std::byte> buffer);
  /// Copying receive that waits like receive_until(): at most until `deadline`.
  [[nodiscard]] Result<ReceivedCopy> receive_until(std::span<std::byte> buffer, Deadline deadline);

  /// Marks the role closed and releases it; a record held and not released is redelivered to the
  /// next consumer. Idempotent; not concurrent with other calls on this endpoint.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

  /// True while open (not default-constructed, moved from or closed).
  [[nodiscard]] bool valid() const noexcept { return at_.attached(); }
  /// Largest payload in bytes.
  [[nodiscard]] std::size_t max_message() const noexcept { return at_.map.max_message; }
  /// Ring bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return at_.map.capacity; }
  /// The channel's name, as opened.
  [[nodiscard]] const std::string& name() const noexcept { return at_.map.name; }
  /// A snapshot of the channel's counters (all zero when not valid()).
  [[nodiscard]] ChannelCounters counters() const noexcept;
  /// True when this endpoint took the role over from a dead consumer.
  [[nodiscard]] bool reclaimed() const noexcept { return at_.reclaimed; }

  /// Epoll integration (docs/channel.md). enable_notification() creates this consumer's notification
  /// fd (an epoll fd: add it to your epoll/poll/io_uring set for EPOLLIN) and returns it; later calls
  /// return the same fd. It tells producers this consumer may sleep (they keep their wake check on).
  /// Errors: errno of eventfd/socket/bind/listen/timerfd/epoll; kRoleTaken in a forked child.
  [[nodiscard]] Result<int> enable_notification();
  /// The notification fd, or -1 before enable_notification(). Owned by the endpoint (closed by close()).
  [[nodiscard]] int native_handle() const noexcept { return notify_.handle(); }
  /// Call before waiting on native_handle(), after draining with try_receive() until kWouldBlock:
  /// consumes what woke the fd, sets `armed`, then re-checks the ring (seq_cst fence: pairs with the
  /// producer's fence between publishing and reading `armed`). true: armed, wait now. false: a
  /// record is already there or the producer is gone: do not wait, drain again (try_receive reports
  /// it). Never blocks. Level-triggered contract: the fd may also be readable with nothing to
  /// receive (spurious: the liveness timer, a producer fetching the eventfd). Errors: kInvalidArgument
  /// (notification not enabled), kRoleTaken (forked child).
  [[nodiscard]] Result<bool> arm();
  /// Clears `armed` (after a wake-up): producers stop making eventfd writes. Never blocks.
  void disarm() noexcept;

 private:
  static Result<SpscConsumer> attach(detail::ChannelMap&& map, const ChannelOptions& options);
  Result<ReceivedView> receive_impl(Deadline deadline, bool may_wait);
  // The inline fast path of receive: a valid record (not padding, not a redelivery) at the head.
  bool receive_fast(ReceivedView& out) noexcept;
  Result<void> release_slow();
  std::uint64_t* word_at(std::uint64_t pos) const noexcept {
    return reinterpret_cast<std::uint64_t*>(at_.map.ring + (pos & mask_));
  }
  Result<ReceivedCopy> copy_out(Result<ReceivedView> view, std::span<std::byte> buffer);
  // Reads the record at head_ (skipping pads): kReady with the view state set, kEmpty, or kBad
  // with bad_word_/bad_reason_ set for peek_error() (kept off the fast path: no Error built).
  enum class Peek : std::uint8_t { kReady, kEmpty, kBad };
  Peek peek() noexcept;
  [[nodiscard]] Error peek_error() const;
  Result<ChannelStatus> wait_for_data(Deadline deadline);
  // kOk while a producer may still publish; kPeerClosed / kPeerDied otherwise. Reads /proc at most
  // once per liveness_interval unless `force`.
  ChannelStatus producer_status(bool force);
  [[nodiscard]] bool usable() const noexcept;
  [[nodiscard]] Error unusable_error() const;
  void wake_producer() noexcept;

  detail::Attachment at_;  // map, role claim, fork generation, options, liveness timer
  std::uint64_t mask_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t redelivered_ = 0;
  std::uint64_t empty_waits_ = 0;
  std::uint64_t wakes_ = 0;
  std::uint64_t redeliver_pos_ = ~std::uint64_t{0};  // head+1 of a record the dead consumer held
  std::uint64_t view_len_ = 0;
  bool viewing_ = false;
  bool view_redelivered_ = false;
  std::uint8_t bad_reason_ = 0;
  std::uint64_t bad_word_ = 0;
  detail::NotifyReceiver notify_;
};

// ------------------------------------------------------------------------------------------------
// Inline fast paths. They are here so the caller's compiler sees the Result construction and the
// caller's test of it together (and drops both); every unusual case goes to the out-of-line code
// in src/channel/spsc.cpp, which repeats the full checks. Memory orders as documented there.

inline bool SpscProducer::usable() const noexcept {
  return at_.usable();
}

inline bool SpscProducer::reserve_fast(std::size_t n, Reservation& out) noexcept {
  if (!usable() || n > at_.map.max_message) return false;
  const std::uint64_t rec = channel_layout::record_size(n);
  const std::uint64_t off = tail_ & mask_;
  // No padding, and the record plus the next commit word fit by the cached consumer head.
  if (off + rec > at_.map.capacity || tail_ + rec + channel_layout::kRecordHeader - head_cache_ > at_.map.capacity) {
    return false;
  }
  res_pos_ = tail_;
  res_len_ = n;
  reserved_ = true;
  out.status = ChannelStatus::kOk;
  out.data = std::span<std::byte>(at_.map.ring + off + channel_layout::kRecordHeader, n);
  return true;
}

inline Result<Reservation> SpscProducer::try_reserve(std::size_t n) {
  Reservation r;
  if (reserve_fast(n, r)) [[likely]] return r;
  return reserve_impl(n, Clock::time_point::min(), false);
}

inline Result<Reservation> SpscProducer::reserve(std::size_t n) {
  Reservation r;
  if (reserve_fast(n, r)) [[likely]] return r;
  return reserve_impl(n, kNoDeadline, true);
}

inline Result<Reservation> SpscProducer::reserve_until(std::size_t n, Deadline deadline) {
  Reservation r;
  if (reserve_fast(n, r)) [[likely]] return r;
  return reserve_impl(n, deadline, true);
}

inline void SpscProducer::store_word(std::uint64_t pos, std::uint64_t word, bool publish) noexcept {
  std::uint64_t* p = word_at(pos);
  if (batch_word_ != 0) {
    // Hidden behind the withheld first word of the batch: the consumer reads records in order and
    // cannot pass that word until flush() stores it with release, which publishes this store too.
    std::atomic_ref<std::uint64_t>(*p).store(word, std::memory_order_relaxed);
    if (publish || ++batch_count_ >= kMaxBatch) flush();
  } else if (!publish) {
    batch_pos_ = pos;
    batch_word_ = word;
    batch_count_ = 1;
  } else {
    // Publishes the payload; pairs with the acquire load of the word in SpscConsumer::peek() and
    // receive_fast().
    std::atomic_ref<std::uint64_t>(*p).store(word, std::memory_order_release);
    publish_tail();
  }
}

inline void SpscProducer::publish_tail() noexcept {
  channel_layout::Header* h = at_.map.header;
  // The tail is informational (recovery starts from it, monitors read it): release so a reader
  // that sees it also sees the records before it. Pairs with the acquire load in open().
  std::atomic_ref<std::uint64_t>(h->prod.tail).store(tail_, std::memory_order_release);
  std::atomic_ref<std::uint64_t>(h->prod.sent).store(sent_, std::memory_order_relaxed);
  // A busy-polling consumer never sleeps: no fence, no wake check (see wake_consumer()).
  if (std::atomic_ref<std::uint32_t>(h->consumer.wait_mode).load(std::memory_order_relaxed) !=
      static_cast<std::uint32_t>(WaitStrategy::kBusyPoll)) {
    wake_consumer();
  }
}

inline Result<void> SpscProducer::commit_size(std::size_t used, bool publish) {
  if (!reserved_ || used > res_len_ || !usable()) [[unlikely]] return commit_slow(used);
  reserved_ = false;
  const std::uint64_t pos = res_pos_;
  const std::uint64_t rec = channel_layout::record_size(used);
  // The next record's word must read 0 until that record is committed (stale words from earlier
  // laps would otherwise look committed); make_room() reserved these 8 bytes. Published by the
  // release store of this record's word (or of its batch).
  std::atomic_ref<std::uint64_t>(*word_at(pos + rec)).store(0, std::memory_order_relaxed);
  tail_ = pos + rec;
  ++sent_;
  store_word(pos, channel_layout::make_word(pos, used, false), publish);
  return {};
}

inline Result<void> SpscProducer::commit(bool publish) { return commit_size(res_len_, publish); }

inline bool SpscConsumer::usable() const noexcept {
  return at_.usable();
}

inline bool SpscConsumer::receive_fast(ReceivedView& out) noexcept {
  namespace cl = channel_layout;
  if (!usable() || viewing_ || head_ + 1 == redeliver_pos_) return false;
  // acquire: pairs with the release store of the word by the producer (store_word()/flush()).
  const std::uint64_t w = std::atomic_ref<std::uint64_t>(*word_at(head_)).load(std::memory_order_acquire);
  const std::uint64_t off = head_ & mask_;
  const std::uint64_t len = w >> 32;
  // Untrusted: committed, not padding, this position's tag, length within max and the ring.
  // Anything else (empty, padding, corrupt) takes the slow path, which says which.
  if ((w & (cl::kCommitted | cl::kPad | cl::kTagMask)) != (cl::kCommitted | cl::position_tag(head_)) ||
      len > at_.map.max_message || off + cl::record_size(len) > at_.map.capacity) {
    return false;
  }
  view_len_ = len;
  viewing_ = true;
  view_redelivered_ = false;
  // Crash marker: if we die before release(), the next consumer redelivers this record.
  std::atomic_ref<std::uint64_t>(at_.map.header->cons.held).store(head_ + 1, std::memory_order_relaxed);
  out.status = ChannelStatus::kOk;
  out.data = std::span<const std::byte>(at_.map.ring + off + cl::kRecordHeader, len);
  out.redelivered = false;
  return true;
}

inline Result<ReceivedView> SpscConsumer::try_receive() {
  ReceivedView v;
  if (receive_fast(v)) [[likely]] return v;
  return receive_impl(Clock::time_point::min(), false);
}

inline Result<ReceivedView> SpscConsumer::receive() {
  ReceivedView v;
  if (receive_fast(v)) [[likely]] return v;
  return receive_impl(kNoDeadline, true);
}

inline Result<ReceivedView> SpscConsumer::receive_until(Deadline deadline) {
  ReceivedView v;
  if (receive_fast(v)) [[likely]] return v;
  return receive_impl(deadline, true);
}

inline Result<void> SpscConsumer::release() {
  if (!viewing_ || !usable()) [[unlikely]] return release_slow();
  viewing_ = false;
  head_ += channel_layout::record_size(view_len_);
  channel_layout::Header* h = at_.map.header;
  // release: our reads of the record happen-before the producer reuses its bytes; pairs with the
  // acquire load of head in SpscProducer::refresh_head().
  std::atomic_ref<std::uint64_t>(h->cons.head).store(head_, std::memory_order_release);
  std::atomic_ref<std::uint64_t>(h->cons.received).store(++received_, std::memory_order_relaxed);
  // A busy-polling producer never sleeps: no fence, no wake check.
  if (std::atomic_ref<std::uint32_t>(h->producer.wait_mode).load(std::memory_order_relaxed) !=
      static_cast<std::uint32_t>(WaitStrategy::kBusyPoll)) {
    wake_producer();
  }
  return {};
}

}  // namespace ipckit
