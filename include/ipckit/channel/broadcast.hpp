// SPDX-License-Identifier: Apache-2.0
/// @file
/// The ipckit broadcast channel: one publisher, any number of subscribers that join and leave at run
/// time; every subscriber sees every message (policy kBlock) or the newest ones (policy kLapse).
///
/// @code
///   auto pub = BroadcastPublisher::open("/ticks", OpenMode::kOpenOrCreate, {});   // process A
///   pub->send(bytes);
///   auto sub = BroadcastSubscriber::open("/ticks", OpenMode::kOpenOrCreate, {}); // process B, C, ...
///   auto r = sub->receive(buffer);   // r->status, r->size, r->lost
/// @endcode
///
/// Objects: `<name>` (header + slots; written only by the publisher, mapped read-only by subscribers),
/// `<name>.ctl` (join generation and futex words, written by everyone) and one `<name>.sub.<id>` per
/// subscriber (cursor, identity, counters; written only by its owner, mapped read-only by the
/// publisher). BroadcastChannel::unlink(name) removes all of them. docs/channel.md has the layout,
/// the protocol and every memory order.
///
/// Thread safety: an endpoint is used by one thread at a time (movable between threads); the
/// publisher and every subscriber may run in different threads or processes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/attachment.hpp"
#include "ipckit/channel/detail.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/expect_ok.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// What the publisher does when the slowest subscriber is a whole ring behind.
enum class BroadcastPolicy : std::uint32_t {
  kLapse = 1,  ///< overwrite; the overtaken subscriber gets kLapsed with the exact number it lost
  kBlock = 2,  ///< wait for the slowest; after `evict_after` evict it (it gets kEvicted)
};

/// The policy's name ("lapse", "block"; "unknown" for any other value).
[[nodiscard]] IPCKIT_API const char* to_string(BroadcastPolicy policy) noexcept;

/// Options of a broadcast endpoint (publisher or subscriber).
struct BroadcastOptions {
  /// capacity (bytes of slots), max_message, mode, open_timeout, wait, spin_iterations,
  /// liveness_interval as for SPSC. The ring holds capacity / (16 + round_up(max_message, 8)) slots
  /// (at least 2).
  ChannelOptions channel;
  /// Creation only: the policy (the creator's wins; endpoints read it from the header).
  BroadcastPolicy policy = BroadcastPolicy::kLapse;
  /// kBlock: how long the publisher waits for one subscriber that does not advance before evicting it.
  std::chrono::milliseconds evict_after{1000};
};

/// Expected outcomes of broadcast send/receive/wait: values, never Errors.
enum class BroadcastStatus : std::uint8_t {
  kOk,          ///< the operation succeeded
  kWouldBlock,  ///< try_*: nothing new (subscriber) / the slowest subscriber is a ring behind (publisher)
  kTimedOut,    ///< *_until: the deadline passed
  kPeerClosed,  ///< subscriber: the publisher closed and everything it published was read
  kPeerDied,    ///< subscriber: the publisher died and everything it published was read
  kLapsed,      ///< subscriber (kLapse): overtaken; `lost` messages were skipped, the buffer is invalid
  kEvicted,     ///< subscriber (kBlock): evicted by the publisher after evict_after; sticky, rejoin
  /// Deprecated: kTimedOut's name before 0.2 (one timeout name in every layer now); to be removed in 1.0.
  kTimeout [[deprecated("BroadcastStatus::kTimeout is now kTimedOut")]] = kTimedOut,
};

/// The status's name ("ok", "would block", "timed out", "peer closed", "peer died", "lapsed",
/// "evicted"; "unknown" for any other value).
[[nodiscard]] IPCKIT_API const char* to_string(BroadcastStatus status) noexcept;

/// What a subscriber's receive reports.
struct [[nodiscard]] BroadcastReceived {
  BroadcastStatus status = BroadcastStatus::kWouldBlock;  ///< the outcome
  std::size_t size = 0;    ///< kOk: bytes copied into the buffer
  std::uint64_t lost = 0;  ///< kLapsed / kEvicted: messages skipped by this call
  /// True when status is kOk.
  explicit operator bool() const noexcept { return status == BroadcastStatus::kOk; }
};

/// Counters of a broadcast channel as its publisher sees them.
struct BroadcastCounters {
  std::uint64_t published = 0;    ///< messages published (header)
  std::uint64_t evictions = 0;    ///< subscribers evicted by a kBlock publisher
  std::uint64_t dead_removed = 0; ///< dead subscribers whose objects the publisher removed
  std::uint64_t subscribers = 0;  ///< subscribers the publisher currently waits for / knows
};

namespace detail {
struct BroadcastCtl;
struct SubscriberRecord;
struct SubscriberView;
}  // namespace detail

/// Operations on a broadcast channel as a whole (by name).
class IPCKIT_API BroadcastChannel {
 public:
  /// Removes the channel's objects by name. Removes `<name>`, `<name>.ctl` and every `<name>.sub.*`.
  /// Attached endpoints keep working (on
  /// their mappings). Errors: shm_unlink's errno for `<name>` (ENOENT when it did not exist; the
  /// others are removed anyway).
  [[nodiscard]] static Result<void> unlink(std::string_view name);
};

/// The publisher of a broadcast channel (one per channel). Used by one thread at a time.
class IPCKIT_API BroadcastPublisher final {
 public:
  /// Opens or creates the channel and claims the publisher role (one publisher; a dead one's role is
  /// taken over and publishing continues after its last complete message). Blocks up to
  /// open_timeout for a creator. Errors: as SpscProducer::open, plus kUnsupported when `name` is a
  /// channel of another pattern, kInvalidArgument when the ring holds fewer than 2 slots.
  [[nodiscard]] static Result<BroadcastPublisher> open(std::string_view name, OpenMode mode,
                                                       const BroadcastOptions& options = {});

  /// An invalid publisher (valid() is false); assign one from open().
  BroadcastPublisher();
  /// Moves the publisher; the source is left invalid.
  BroadcastPublisher(BroadcastPublisher&&) noexcept;
  /// Closes this publisher, then takes the other's; the source is left invalid.
  BroadcastPublisher& operator=(BroadcastPublisher&&) noexcept;
  /// Closes the publisher (see close()).
  ~BroadcastPublisher();

  /// Copies `message` into the next slot and publishes it. kLapse: never waits. kBlock: waits while
  /// the slowest live subscriber is a ring behind (try_: kWouldBlock; _until: kTimedOut); a
  /// subscriber that does not advance for evict_after is evicted, a dead one is dropped and its
  /// object removed. Errors: kTooLarge, kRoleTaken (forked child).
  ///
  /// try_send() never waits: kWouldBlock instead.
  [[nodiscard]] Result<BroadcastStatus> try_send(std::span<const std::byte> message);
  /// As try_send(), but under kBlock waits by the WaitStrategy, without a deadline.
  [[nodiscard]] Result<BroadcastStatus> send(std::span<const std::byte> message);
  /// As send(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<BroadcastStatus> send_until(std::span<const std::byte> message, Deadline deadline);

  /// Waits until at least `n` subscribers have joined (positioned, alive, not evicted): kOk, or
  /// kWouldBlock (try_) / kTimedOut (_until). Under kBlock a subscriber receives every message sent
  /// after it joined, so a publisher that must not publish to nobody (sender first) calls it before
  /// its first message; `ipckit send` does. Dead subscribers found meanwhile are dropped.
  /// Errors: kInvalidArgument (closed publisher), kRoleTaken (forked child).
  ///
  /// try_wait_for_subscribers() never waits: kWouldBlock instead.
  [[nodiscard]] Result<BroadcastStatus> try_wait_for_subscribers(std::size_t n);
  /// As try_wait_for_subscribers(), but waits without a deadline.
  [[nodiscard]] Result<BroadcastStatus> wait_for_subscribers(std::size_t n);
  /// As wait_for_subscribers(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<BroadcastStatus> wait_for_subscribers_until(std::size_t n, Deadline deadline);

  /// Marks the role closed (subscribers drain, then get kPeerClosed) and releases it. Idempotent.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

  /// True while open (not default-constructed, moved from or closed).
  [[nodiscard]] bool valid() const noexcept { return at_.attached(); }
  /// Slots in the ring.
  [[nodiscard]] std::size_t slots() const noexcept { return slots_; }
  /// Largest payload in bytes.
  [[nodiscard]] std::size_t max_message() const noexcept { return at_.map.max_message; }
  /// The channel's policy (read from the header).
  [[nodiscard]] BroadcastPolicy policy() const noexcept { return policy_; }
  /// A snapshot of the counters (all zero when not valid()).
  [[nodiscard]] BroadcastCounters counters() const noexcept;
  /// True when open() took the role over from a dead publisher.
  [[nodiscard]] bool reclaimed() const noexcept { return at_.reclaimed; }

 private:
  Result<BroadcastStatus> send_impl(std::span<const std::byte> message, Deadline deadline, bool may_wait);
  // kBlock: whether message tail_ can be written without overwriting one a live subscriber has yet
  // to read (re-reads the cursors when the cached minimum says no, or a joiner is positioning).
  [[nodiscard]] bool room_now();
  // kBlock, no room: sleeps until there is (kOk) or the deadline passes (kTimedOut); meanwhile
  // drops the dead slowest subscribers and evicts one stuck for evict_after.
  BroadcastStatus wait_for_room(Deadline deadline);
  // One look at the slowest subscribers while blocked since `since`.
  void unstick_slowest(Clock::time_point now, Clock::time_point since);
  // The seqlock write of message tail_, then the wake-up of sleeping subscribers.
  void write_slot(std::span<const std::byte> message) noexcept;
  Result<BroadcastStatus> wait_subscribers_impl(std::size_t n, Deadline deadline, bool may_wait);
  // Subscribers that joined (positioned), not closed, not evicted or found dead.
  [[nodiscard]] std::size_t joined_subscribers();
  void rescan();
  // Smallest cursor of the positioned, live, not evicted subscribers (tail_ when none).
  std::uint64_t min_cursor();
  void evict(detail::SubscriberView& s);
  void drop_dead(detail::SubscriberView& s);

  detail::Attachment at_;  // map, publisher claim, fork generation, options, liveness timer
  Mapping ctl_map_;
  detail::BroadcastCtl* ctl_ = nullptr;
  std::chrono::milliseconds evict_after_{};
  BroadcastPolicy policy_ = BroadcastPolicy::kLapse;
  std::uint64_t slots_ = 0;
  std::uint64_t slot_size_ = 0;
  std::uint64_t tail_ = 0;
  std::uint64_t min_cache_ = 0;
  std::uint64_t join_gen_seen_ = ~std::uint64_t{0};
  std::uint64_t dead_removed_ = 0;
  Clock::time_point blocked_since_{};  // start of the current wait for space ({} while not blocked)
  std::vector<std::unique_ptr<detail::SubscriberView>> subs_;
  std::vector<std::uint64_t> gone_;  // ids evicted or found dead: never waited for again
};

/// A subscriber of a broadcast channel (any number per channel). Used by one thread at a time.
class IPCKIT_API BroadcastSubscriber final {
 public:
  /// Opens (or creates) the channel read-only and joins. It creates `<name>.sub.<id>` and starts at the
  /// publisher's current position (messages published after open() returns are delivered; under
  /// kBlock every one of them, unless evicted). Errors: as BroadcastPublisher::open.
  [[nodiscard]] static Result<BroadcastSubscriber> open(std::string_view name, OpenMode mode,
                                                        const BroadcastOptions& options = {});

  /// An invalid subscriber (valid() is false); assign one from open().
  BroadcastSubscriber();
  /// Moves the subscriber; the source is left invalid.
  BroadcastSubscriber(BroadcastSubscriber&&) noexcept;
  /// Closes this subscriber, then takes the other's; the source is left invalid.
  BroadcastSubscriber& operator=(BroadcastSubscriber&&) noexcept;
  /// Leaves the channel (see close()).
  ~BroadcastSubscriber();

  /// Copies the next message into `buffer` (validated like a seqlock: the slot's sequence is checked
  /// before and after the copy, so the bytes are never torn). try_ never blocks; receive() waits by
  /// the WaitStrategy; receive_until() until the deadline. Outcomes: kOk, kWouldBlock, kTimedOut,
  /// kPeerClosed/kPeerDied (nothing left and no publisher), kLapsed (lost > 0; the subscriber moved
  /// to the oldest message still in the ring), kEvicted (sticky). Errors: kTooLarge (buffer smaller
  /// than max_message), kCorrupt (a garbage slot length), kRoleTaken (forked child).
  [[nodiscard]] Result<BroadcastReceived> try_receive(std::span<std::byte> buffer);
  /// As try_receive(), but waits by the WaitStrategy, without a deadline.
  [[nodiscard]] Result<BroadcastReceived> receive(std::span<std::byte> buffer);
  /// As receive(), but waits at most until `deadline` (then kTimedOut).
  [[nodiscard]] Result<BroadcastReceived> receive_until(std::span<std::byte> buffer, Deadline deadline);

  /// Leaves: marks the record closed, removes the subscriber record (NAME.sub.ID) and tells the publisher. Idempotent.
  /// Never fails: the Result is always ok (close() has one signature across ipckit).
  [[nodiscard]] Result<void> close() noexcept;

  /// True while open (not default-constructed, moved from or closed).
  [[nodiscard]] bool valid() const noexcept { return at_.attached(); }
  /// This subscriber's id (the `<id>` of `<name>.sub.<id>`).
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  /// Messages received so far.
  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  /// Messages lost so far (lapped or skipped on eviction).
  [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }
  /// Largest payload in bytes; a receive buffer must hold at least this many.
  [[nodiscard]] std::size_t max_message() const noexcept { return at_.map.max_message; }
  /// The channel's policy (read from the header).
  [[nodiscard]] BroadcastPolicy policy() const noexcept { return policy_; }
  /// The read-only mapping of the data object (diagnostics and tests: writing to it is SIGSEGV).
  [[nodiscard]] std::span<const std::byte> data_mapping() const noexcept {
    return {static_cast<const std::byte*>(at_.map.mapping.data()), at_.map.mapping.size()};
  }

 private:
  enum class SlotRead : std::uint8_t { kCopied, kNotPublished, kLapsed };
  Result<BroadcastReceived> receive_impl(std::span<std::byte> buffer, Deadline deadline, bool may_wait);
  // The seqlock read of message cursor_ into `buffer` (sequence checked before and after the copy);
  // kCopied advances the cursor and sets `size`.
  Result<SlotRead> read_slot(std::span<std::byte> buffer, std::size_t& size);
  // Nothing at the cursor: kEvicted (kBlock, the publisher evicted us; sets `lost`), kPeerClosed or
  // kPeerDied (nothing left and our session's publisher is gone), or kOk to wait on.
  BroadcastStatus why_nothing(bool force, std::uint64_t& lost);
  // Sleeps until the slot at the cursor may be published, the deadline or the next liveness check.
  void sleep_for_message(Deadline deadline);
  // Message cursor_ was overwritten: moves to the oldest message still intact (kLapsed, or
  // kEvicted under kBlock).
  BroadcastReceived skip_lapsed() noexcept;
  bool evicted_in_header() const noexcept;
  void advance(std::uint64_t to, std::uint64_t received, std::uint64_t lost) noexcept;

  // Map (read-only), fork generation, options, liveness timer, the publisher's liveness and
  // session; no claim (our record is an object of our own).
  detail::Attachment at_;
  Mapping ctl_map_;
  Mapping rec_map_;
  detail::TokenFd rec_token_;  // our liveness token: byte 0 of our record, on a description of our own
  detail::BroadcastCtl* ctl_ = nullptr;
  detail::SubscriberRecord* rec_ = nullptr;
  BroadcastPolicy policy_ = BroadcastPolicy::kLapse;
  std::string rec_name_;         // <name>.sub.<id>, removed by close()
  std::uint64_t id_ = 0;
  std::uint64_t slots_ = 0;      // messages the ring holds
  std::uint64_t slot_size_ = 0;  // bytes of one slot (header + max_message, rounded up to the cache line)
  std::uint64_t cursor_ = 0;     // the next message to read
  std::uint64_t received_ = 0;   // copied out
  std::uint64_t lost_ = 0;       // lapsed, or skipped on eviction
  bool evicted_ = false;         // sticky: a rejoin is a new open()
};

}  // namespace ipckit
