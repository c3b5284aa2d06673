// SPDX-License-Identifier: Apache-2.0
// The ipckit broadcast channel: one publisher, any number of subscribers that join and leave at run
// time; every subscriber sees every message (policy kBlock) or the newest ones (policy kLapse).
//
//   auto pub = BroadcastPublisher::open("/ticks", OpenMode::kOpenOrCreate, {});   // process A
//   pub->send(bytes);
//   auto sub = BroadcastSubscriber::open("/ticks", OpenMode::kOpenOrCreate, {}); // process B, C, ...
//   auto r = sub->receive(buffer);   // r->status, r->size, r->lost
//
// Objects: `<name>` (header + slots; written only by the publisher, mapped read-only by subscribers),
// `<name>.ctl` (join generation and futex words, written by everyone) and one `<name>.sub.<id>` per
// subscriber (cursor, identity, counters; written only by its owner, mapped read-only by the
// publisher). BroadcastChannel::unlink(name) removes all of them. docs/channel.md has the layout,
// the protocol and every memory order.
//
// Thread safety: an endpoint is used by one thread at a time (movable between threads); the
// publisher and every subscriber may run in different threads or processes.
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
#include "ipckit/channel/detail.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/expect_ok.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

// What the publisher does when the slowest subscriber is a whole ring behind.
enum class BroadcastPolicy : std::uint32_t {
  kLapse = 1,  // overwrite; the overtaken subscriber gets kLapsed with the exact number it lost
  kBlock = 2,  // wait for the slowest; after `evict_after` evict it (it gets kEvicted)
};

[[nodiscard]] IPCKIT_API const char* to_string(BroadcastPolicy policy) noexcept;

struct BroadcastOptions {
  // capacity (bytes of slots), max_message, mode, open_timeout, wait, spin_iterations,
  // liveness_interval as for SPSC. The ring holds capacity / (16 + round_up(max_message, 8)) slots
  // (at least 2).
  ChannelOptions channel;
  // Creation only: the policy (the creator's wins; endpoints read it from the header).
  BroadcastPolicy policy = BroadcastPolicy::kLapse;
  // kBlock: how long the publisher waits for one subscriber that does not advance before evicting it.
  std::chrono::milliseconds evict_after{1000};
};

enum class BroadcastStatus : std::uint8_t {
  kOk,
  kWouldBlock,  // try_*: nothing new (subscriber) / the slowest subscriber is a ring behind (publisher)
  kTimeout,
  kPeerClosed,  // subscriber: the publisher closed and everything it published was read
  kPeerDied,    // subscriber: the publisher died and everything it published was read
  kLapsed,      // subscriber (kLapse): overtaken; `lost` messages were skipped, the buffer is invalid
  kEvicted,     // subscriber (kBlock): evicted by the publisher after evict_after; sticky, rejoin
};

[[nodiscard]] IPCKIT_API const char* to_string(BroadcastStatus status) noexcept;

struct [[nodiscard]] BroadcastReceived {
  BroadcastStatus status = BroadcastStatus::kWouldBlock;
  std::size_t size = 0;    // kOk: bytes copied into the buffer
  std::uint64_t lost = 0;  // kLapsed / kEvicted: messages skipped by this call
  explicit operator bool() const noexcept { return status == BroadcastStatus::kOk; }
};

struct BroadcastCounters {
  std::uint64_t published = 0;    // messages published (header)
  std::uint64_t evictions = 0;    // subscribers evicted by a kBlock publisher
  std::uint64_t dead_removed = 0; // dead subscribers whose objects the publisher removed
  std::uint64_t subscribers = 0;  // subscribers the publisher currently waits for / knows
};

namespace detail {
struct BroadcastCtl;
struct SubscriberRecord;
struct SubscriberView;
}  // namespace detail

class IPCKIT_API BroadcastChannel {
 public:
  // Removes `<name>`, `<name>.ctl` and every `<name>.sub.*`. Attached endpoints keep working (on
  // their mappings). Errors: shm_unlink's errno for `<name>` (ENOENT when it did not exist; the
  // others are removed anyway).
  [[nodiscard]] static Result<void> unlink(std::string_view name);
};

class IPCKIT_API BroadcastPublisher {
 public:
  // Opens or creates the channel and claims the publisher role (one publisher; a dead one's role is
  // taken over and publishing continues after its last complete message). Blocks up to
  // open_timeout for a creator. Errors: as SpscProducer::open, plus kUnsupported when `name` is a
  // channel of another pattern, kInvalidArgument when the ring holds fewer than 2 slots.
  [[nodiscard]] static Result<BroadcastPublisher> open(std::string_view name, OpenMode mode,
                                                       const BroadcastOptions& options = {});

  BroadcastPublisher();
  BroadcastPublisher(BroadcastPublisher&&) noexcept;
  BroadcastPublisher& operator=(BroadcastPublisher&&) noexcept;
  ~BroadcastPublisher();

  // Copies `message` into the next slot and publishes it. kLapse: never waits. kBlock: waits while
  // the slowest live subscriber is a ring behind (try_: kWouldBlock; _until: kTimeout); a
  // subscriber that does not advance for evict_after is evicted, a dead one is dropped and its
  // object removed. Errors: kTooLarge, kRoleTaken (forked child).
  [[nodiscard]] Result<BroadcastStatus> try_send(std::span<const std::byte> message);
  [[nodiscard]] Result<BroadcastStatus> send(std::span<const std::byte> message);
  [[nodiscard]] Result<BroadcastStatus> send_until(std::span<const std::byte> message, Deadline deadline);

  // Waits until at least `n` subscribers have joined (positioned, alive, not evicted): kOk, or
  // kWouldBlock (try_) / kTimeout (_until). Under kBlock a subscriber receives every message sent
  // after it joined, so a publisher that must not publish to nobody (sender first) calls it before
  // its first message; `ipckit send` does. Dead subscribers found meanwhile are dropped.
  // Errors: kInvalidArgument (closed publisher), kRoleTaken (forked child).
  [[nodiscard]] Result<BroadcastStatus> try_wait_for_subscribers(std::size_t n);
  [[nodiscard]] Result<BroadcastStatus> wait_for_subscribers(std::size_t n);
  [[nodiscard]] Result<BroadcastStatus> wait_for_subscribers_until(std::size_t n, Deadline deadline);

  // Marks the role closed (subscribers drain, then get kPeerClosed) and releases it. Idempotent.
  void close() noexcept;

  [[nodiscard]] bool valid() const noexcept;
  [[nodiscard]] std::size_t slots() const noexcept { return slots_; }
  [[nodiscard]] std::size_t max_message() const noexcept { return map_.max_message; }
  [[nodiscard]] BroadcastPolicy policy() const noexcept { return policy_; }
  [[nodiscard]] BroadcastCounters counters() const noexcept;
  [[nodiscard]] bool reclaimed() const noexcept { return reclaimed_; }

 private:
  Result<BroadcastStatus> send_impl(std::span<const std::byte> message, Deadline deadline, bool may_wait);
  Result<BroadcastStatus> wait_subscribers_impl(std::size_t n, Deadline deadline, bool may_wait);
  // Subscribers that joined (positioned), not closed, not evicted or found dead.
  [[nodiscard]] std::size_t joined_subscribers();
  void rescan();
  // Smallest cursor of the positioned, live, not evicted subscribers (tail_ when none).
  std::uint64_t min_cursor();
  void evict(detail::SubscriberView& s);
  void drop_dead(detail::SubscriberView& s);

  detail::ChannelMap map_;
  Mapping ctl_map_;
  detail::BroadcastCtl* ctl_ = nullptr;
  BroadcastOptions options_;
  BroadcastPolicy policy_ = BroadcastPolicy::kLapse;
  std::uint64_t claim_ = 0;
  std::uint64_t fork_generation_ = 0;
  std::uint64_t slots_ = 0;
  std::uint64_t slot_size_ = 0;
  std::uint64_t tail_ = 0;
  std::uint64_t min_cache_ = 0;
  std::uint64_t join_gen_seen_ = ~std::uint64_t{0};
  std::uint64_t dead_removed_ = 0;
  Clock::time_point next_live_{};      // next liveness check of the slowest subscriber while blocked
  Clock::time_point blocked_since_{};  // start of the current wait for space ({} while not blocked)
  bool reclaimed_ = false;
  std::vector<std::unique_ptr<detail::SubscriberView>> subs_;
  std::vector<std::uint64_t> gone_;  // ids evicted or found dead: never waited for again
};

class IPCKIT_API BroadcastSubscriber {
 public:
  // Opens (or creates) the channel read-only and joins: creates `<name>.sub.<id>` and starts at the
  // publisher's current position (messages published after open() returns are delivered; under
  // kBlock every one of them, unless evicted). Errors: as BroadcastPublisher::open.
  [[nodiscard]] static Result<BroadcastSubscriber> open(std::string_view name, OpenMode mode,
                                                        const BroadcastOptions& options = {});

  BroadcastSubscriber();
  BroadcastSubscriber(BroadcastSubscriber&&) noexcept;
  BroadcastSubscriber& operator=(BroadcastSubscriber&&) noexcept;
  ~BroadcastSubscriber();

  // Copies the next message into `buffer` (validated like a seqlock: the slot's sequence is checked
  // before and after the copy, so the bytes are never torn). try_ never blocks; receive() waits by
  // the WaitStrategy; receive_until() until the deadline. Outcomes: kOk, kWouldBlock, kTimeout,
  // kPeerClosed/kPeerDied (nothing left and no publisher), kLapsed (lost > 0; the subscriber moved
  // to the oldest message still in the ring), kEvicted (sticky). Errors: kTooLarge (buffer smaller
  // than max_message), kCorrupt (a garbage slot length), kRoleTaken (forked child).
  [[nodiscard]] Result<BroadcastReceived> try_receive(std::span<std::byte> buffer);
  [[nodiscard]] Result<BroadcastReceived> receive(std::span<std::byte> buffer);
  [[nodiscard]] Result<BroadcastReceived> receive_until(std::span<std::byte> buffer, Deadline deadline);

  // Leaves: marks the record closed, removes `<name>.sub.<id>` and tells the publisher. Idempotent.
  void close() noexcept;

  [[nodiscard]] bool valid() const noexcept;
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }
  [[nodiscard]] std::size_t max_message() const noexcept { return map_.max_message; }
  [[nodiscard]] BroadcastPolicy policy() const noexcept { return policy_; }
  // The read-only mapping of the data object (diagnostics and tests: writing to it is SIGSEGV).
  [[nodiscard]] std::span<const std::byte> data_mapping() const noexcept {
    return {static_cast<const std::byte*>(map_.mapping.data()), map_.mapping.size()};
  }

 private:
  Result<BroadcastReceived> receive_impl(std::span<std::byte> buffer, Deadline deadline, bool may_wait);
  bool evicted_in_header() const noexcept;
  void advance(std::uint64_t to, std::uint64_t received, std::uint64_t lost) noexcept;

  detail::ChannelMap map_;
  Mapping ctl_map_;
  Mapping rec_map_;
  detail::BroadcastCtl* ctl_ = nullptr;
  detail::SubscriberRecord* rec_ = nullptr;
  BroadcastOptions options_;
  BroadcastPolicy policy_ = BroadcastPolicy::kLapse;
  std::string rec_name_;
  std::uint64_t id_ = 0;
  std::uint64_t fork_generation_ = 0;
  std::uint64_t slots_ = 0;
  std::uint64_t slot_size_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t lost_ = 0;
  bool evicted_ = false;
  detail::PeerWatch watch_;
  std::uint64_t dead_claim_ = 0;
  std::uint64_t first_session_ = 0;  // the first publisher session whose end is ours (layout 2.0)
  Clock::time_point next_check_{};
};

}  // namespace ipckit
