// SPDX-License-Identifier: Apache-2.0
/// @file
/// The ipckit MPMC channel: several producers and several consumers on one shared-memory object
/// (`chan:/name`, pattern 2); each message goes to exactly one consumer.
///
/// @code
///   auto tx = MpmcProducer::open("/jobs", OpenMode::kOpenOrCreate);   // any number of processes
///   tx->send(bytes);
///   auto rx = MpmcConsumer::open("/jobs", OpenMode::kOpenOrCreate);   // any number of processes
///   auto r = rx->receive(buffer);   // r->status, r->size, r->redelivered
/// @endcode
///
/// Fixed slots with a per-slot state word (a bounded MPMC queue in the style of Vyukov's, with the
/// claim made on the slot word itself): the word carries the slot's position, its state (free,
/// writing, full, reading) and the member index of the process that claimed it, so a claim and the
/// claimant's identity are one atomic store. Every endpoint holds a member slot in the header's
/// member table and a liveness token (an OFD lock on the slot's first byte). When a member dies, whoever is held up by it takes its
/// member slot over and repairs every slot it held: a record it was writing is skipped (never
/// exposed torn), a record it was reading is handed to another consumer with redelivered = true
/// (delivered at least once, flagged; exactly once otherwise). docs/channel.md has the layout, the
/// protocol and every memory order.
///
/// Members: at most MpmcChannel::kMaxMembers endpoints (producers + consumers) attached at once.
///
/// Thread safety: an endpoint is used by one thread at a time (movable between threads); any number
/// of endpoints may run in different threads or processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/attachment.hpp"
#include "ipckit/channel/detail.hpp"
#include "ipckit/channel/views.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// Operations on an MPMC channel as a whole (by name), and its limits.
class IPCKIT_API MpmcChannel {
 public:
  /// Endpoints attached at once (each holds one 128-byte member slot after the header).
  static constexpr std::uint32_t kMaxMembers = 128;
  /// shm_unlink of the channel's object. Attached endpoints keep working. Errors: ENOENT, EACCES.
  [[nodiscard]] static Result<void> unlink(std::string_view name);
  /// Slots a channel of this capacity and max_message holds (0 when it cannot be created).
  [[nodiscard]] static std::uint64_t slots_for(std::uint64_t capacity, std::uint64_t max_message) noexcept;
};

namespace detail {

// What both endpoint kinds share: the mapping, the member slot, waiting, and repairing the slots
// of dead members. Not part of the API.
class IPCKIT_API MpmcCore final {
 public:
  enum class Role : std::uint64_t { kProducer = 1, kConsumer = 2 };

  MpmcCore() = default;
  MpmcCore(MpmcCore&& other) noexcept = default;  // Attachment's move leaves `other` detached
  MpmcCore& operator=(MpmcCore&& other) noexcept;  // closes this one first (replace_endpoint())
  MpmcCore(const MpmcCore&) = delete;
  MpmcCore& operator=(const MpmcCore&) = delete;
  ~MpmcCore();

  [[nodiscard]] static Result<MpmcCore> open(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                             std::uint64_t type_hash, Role role);
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

  [[nodiscard]] bool valid() const noexcept { return at_.attached(); }
  [[nodiscard]] bool usable() const noexcept { return at_.usable(); }
  [[nodiscard]] Error unusable_error(const char* call) const;

  // Producer side. claim_write(): a slot at the enqueue position taken for writing (kOk), or why
  // not (kWouldBlock: full). publish(): stores the length and marks the slot full.
  struct Claimed {
    std::uint64_t pos = 0;
    std::byte* slot = nullptr;
    bool redelivered = false;
  };
  ChannelStatus claim_write(Claimed& out) noexcept;
  void publish(const Claimed& c, std::uint64_t length) noexcept;
  // Consumer side. claim_read(): a full slot taken for reading (kOk) or kWouldBlock (empty).
  // finish_read(): frees the slot for the producers of the next lap.
  ChannelStatus claim_read(Claimed& out) noexcept;
  void finish_read(const Claimed& c) noexcept;
  // close() with a slot still held: a producer's reservation is skipped, a consumer's view is
  // handed to another consumer (redelivered), exactly as when the holder dies.
  void abandon(const Claimed& c) noexcept;

  // Waits (by the endpoint's strategy) until claim_* may succeed, the deadline passes or the other
  // side is gone. Returns kOk to retry, kTimedOut, kPeerClosed or kPeerDied.
  ChannelStatus wait(Deadline deadline, std::uint32_t& spins);
  // check_members() at most once per liveness_interval (try_* calls): kOk or the other side's end.
  ChannelStatus poll_members();

  [[nodiscard]] ChannelCounters counters() const noexcept;
  [[nodiscard]] std::uint64_t length_at(const Claimed& c) const noexcept;
  [[nodiscard]] std::size_t max_message() const noexcept { return at_.map.max_message; }
  [[nodiscard]] std::uint64_t slots() const noexcept { return slots_; }
  [[nodiscard]] const std::string& name() const noexcept { return at_.map.name; }
  [[nodiscard]] std::uint32_t member() const noexcept { return member_; }
  [[nodiscard]] bool reclaimed() const noexcept { return at_.reclaimed; }

 // Per-member counters kept in the member's slot (src/channel/mpmc.cpp).
  struct Stats;

 private:
  Stats* stats() const noexcept;
  std::uint64_t* word_of(std::uint64_t pos) const noexcept;
  std::byte* slot_of(std::uint64_t pos) const noexcept;
  // Whether claim_* would find something now (the re-check before sleeping).
  [[nodiscard]] bool ready_now() const noexcept;
  // Slow path of wait(): repairs the slots of dead members, then reports whether the other side is
  // still there (kOk) or closed/died.
  ChannelStatus check_members();
  // At open: from which join of the other side its departure ends our session (docs: Sessions).
  void start_session() noexcept;
  // Takes member `index` over from its dead holder (claim `dead`) and repairs its slots.
  void reap(std::uint32_t index, std::uint64_t dead) noexcept;
  void wake_other_side() noexcept;

  Attachment at_;  // map, member claim, fork generation, options, liveness timer
  std::byte* slots_base_ = nullptr;
  std::uint64_t slots_ = 0;
  std::uint64_t mask_ = 0;
  unsigned shift_ = 0;  // log2(slots_): position >> shift_ is its lap
  std::uint64_t slot_size_ = 0;
  Role role_ = Role::kProducer;
  std::uint32_t member_ = 0;
  std::uint64_t departures_seen_ = 0;  // MPMC line `departures` at our last check_members()
  std::uint64_t session_joins_ = 0;    // the other side's joins count from which its departure is ours
  std::uint64_t joins_seen_ = 0;       // the other side's joins count at our last check_members()
  ChannelStatus last_status_ = ChannelStatus::kOk;  // check_members()' last answer
  // check_members() found the other side gone with records left to drain: the end is certain once
  // they are read, so the next poll re-checks at once instead of a liveness interval later.
  bool draining_to_end_ = false;
};

// What producers and consumers both answer (the endpoint's shared core and its accessors).
class IPCKIT_API MpmcEndpoint {
 public:
  /// True while open (not default-constructed, moved from or closed).
  [[nodiscard]] bool valid() const noexcept { return core_.valid(); }
  /// Largest payload in bytes.
  [[nodiscard]] std::size_t max_message() const noexcept { return core_.max_message(); }
  /// Slots in the ring.
  [[nodiscard]] std::uint64_t slots() const noexcept { return core_.slots(); }
  /// The channel's name, as opened.
  [[nodiscard]] const std::string& name() const noexcept { return core_.name(); }
  /// Totals of the channel (header) plus the counters of every attached member.
  [[nodiscard]] ChannelCounters counters() const noexcept { return core_.counters(); }
  /// True when opening this endpoint repaired and took over a dead member's slot.
  [[nodiscard]] bool reclaimed() const noexcept { return core_.reclaimed(); }

 protected:
  MpmcCore core_;
  MpmcCore::Claimed held_;
};

}  // namespace detail

/// A producer of an MPMC channel (any number per channel, up to MpmcChannel::kMaxMembers
/// endpoints in all). Used by one thread at a time.
class IPCKIT_API MpmcProducer final : public detail::MpmcEndpoint {
 public:
  /// Opens or creates `name` and joins as a producer (takes a free member slot, or repairs and takes
  /// over a dead member's). The ring holds slots_for(capacity, max_message) slots (a power of two,
  /// at least 2). Errors: as SpscProducer::open, plus kUnsupported (a channel of another pattern),
  /// kInvalidArgument (fewer than 2 slots), kRoleTaken (all kMaxMembers member slots are held by
  /// live processes).
  [[nodiscard]] static Result<MpmcProducer> open(std::string_view name, OpenMode mode,
                                                 const ChannelOptions& options = {}, std::uint64_t type_hash = 0);

  /// An invalid producer (valid() is false); assign one from open().
  MpmcProducer() = default;
  /// Moves the endpoint; \p other is left invalid.
  MpmcProducer(MpmcProducer&& other) noexcept = default;
  /// Closes this endpoint first (see close()), then takes \p other's; \p other is left invalid.
  MpmcProducer& operator=(MpmcProducer&& other) noexcept { return detail::replace_endpoint(*this, std::move(other)); }
  /// Leaves the channel (see close()).
  ~MpmcProducer();

  /// Zero-copy send: a span of `n` bytes in a slot to fill in place, made visible by commit(). While
  /// reserved, the slot is held by this process (if it dies now, consumers skip the slot). A second
  /// reserve() before commit() reuses the slot with the new size. Ring full: try_ kWouldBlock,
  /// reserve() waits by the WaitStrategy, reserve_until() kTimedOut; kPeerClosed / kPeerDied when
  /// the ring stays full and no consumer is attached any more (one was before). Errors: kTooLarge,
  /// kRoleTaken (forked child).
  [[nodiscard]] Result<Reservation> try_reserve(std::size_t n);
  /// As try_reserve(), but waits by the WaitStrategy while the ring is full, without a deadline.
  [[nodiscard]] Result<Reservation> reserve(std::size_t n);
  /// As reserve(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<Reservation> reserve_until(std::size_t n, Deadline deadline);
  /// Publishes the reserved slot (all n bytes, or the first `used`). Errors: kInvalidArgument (no
  /// reservation, used > n).
  [[nodiscard]] Result<void> commit();
  /// As commit(), but publishes only the first `used` bytes.
  [[nodiscard]] Result<void> commit_size(std::size_t used);

  /// Copying send: reserve + memcpy + commit. try_send() never blocks.
  [[nodiscard]] Result<ChannelStatus> try_send(std::span<const std::byte> message);
  /// Copying send that waits like reserve().
  [[nodiscard]] Result<ChannelStatus> send(std::span<const std::byte> message);
  /// Copying send that waits like reserve_until(): at most until `deadline`.
  [[nodiscard]] Result<ChannelStatus> send_until(std::span<const std::byte> message, Deadline deadline);

  /// Leaves (a reservation not committed is published empty-handed: consumers skip it). Idempotent.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

 private:
  Result<Reservation> reserve_impl(std::size_t n, Deadline deadline, bool may_wait);
  Result<ChannelStatus> send_impl(std::span<const std::byte> message, Deadline deadline, bool may_wait);

  std::size_t held_len_ = 0;
  bool reserved_ = false;
};

/// A consumer of an MPMC channel (any number per channel, up to MpmcChannel::kMaxMembers
/// endpoints in all). Used by one thread at a time.
class IPCKIT_API MpmcConsumer final : public detail::MpmcEndpoint {
 public:
  /// Opens or creates `name` and joins as a consumer. Errors: as MpmcProducer::open.
  [[nodiscard]] static Result<MpmcConsumer> open(std::string_view name, OpenMode mode,
                                                 const ChannelOptions& options = {}, std::uint64_t type_hash = 0);

  /// An invalid consumer (valid() is false); assign one from open().
  MpmcConsumer() = default;
  /// Moves the endpoint; \p other is left invalid.
  MpmcConsumer(MpmcConsumer&& other) noexcept = default;
  /// Closes this endpoint first (see close()), then takes \p other's; \p other is left invalid.
  MpmcConsumer& operator=(MpmcConsumer&& other) noexcept { return detail::replace_endpoint(*this, std::move(other)); }
  /// Leaves the channel (see close()).
  ~MpmcConsumer();

  /// Zero-copy receive: a view of the next message, valid until release(); the slot is held by
  /// this process meanwhile (if it dies, the message is redelivered to another consumer with
  /// redelivered = true). Ring empty: try_ kWouldBlock, receive() waits, receive_until() kTimedOut;
  /// kPeerClosed / kPeerDied when empty and no producer is attached any more (one was before).
  /// Errors: kCorrupt (a length above max_message: never an out-of-bounds read), kInvalidArgument
  /// (previous view not released), kRoleTaken (forked child).
  [[nodiscard]] Result<ReceivedView> try_receive();
  /// As try_receive(), but waits by the WaitStrategy while the ring is empty, without a deadline.
  [[nodiscard]] Result<ReceivedView> receive();
  /// As receive(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<ReceivedView> receive_until(Deadline deadline);
  /// Frees the slot of the last view. Errors: kInvalidArgument (nothing held).
  [[nodiscard]] Result<void> release();

  /// Copying receive. Errors as above, plus kTooLarge when `buffer` is smaller than max_message
  /// (checked first, so no message is ever taken and dropped). try_receive(buffer) never blocks.
  [[nodiscard]] Result<ReceivedCopy> try_receive(std::span<std::byte> buffer);
  /// Copying receive that waits like receive().
  [[nodiscard]] Result<ReceivedCopy> receive(std::span<std::byte> buffer);
  /// Copying receive that waits like receive_until(): at most until `deadline`.
  [[nodiscard]] Result<ReceivedCopy> receive_until(std::span<std::byte> buffer, Deadline deadline);

  /// Leaves; a view not released is handed to another consumer (redelivered). Idempotent.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

 private:
  Result<ReceivedView> receive_impl(Deadline deadline, bool may_wait);
  Result<ReceivedCopy> copy_out(std::span<std::byte> buffer, Deadline deadline, bool may_wait);

  bool viewing_ = false;
};

}  // namespace ipckit
