// SPDX-License-Identifier: Apache-2.0
// channel-broadcast and channel-broadcast-N: the ipckit broadcast channel (issue 9) with policy
// kBlock, one publisher and 1, 2, 4 or 8 subscribers, each a process of its own. kBlock makes the
// publisher wait for the slowest subscriber, so every subscriber receives and verifies every frame
// (sequence numbers consecutive from 0, length, xxh3): msgs/s is per subscriber (Delivery::kEach),
// the publisher's rate is the row's sender rate. Waits are blocking (futex): with up to 9 processes
// on a 2-CPU machine, spinning would only steal the CPU from the process it waits for.
//
// Each process opens the channel by name (kOpenOrCreate). Subscribers join in prepare(), before the
// start handshake, so they all start at frame 0. The publisher finds subscribers by their
// `<name>.sub.<id>` objects when it first sends, so the names stay until the run ends; the session
// (parent) then removes `<name>`, `<name>.ctl` and every `<name>.sub.*` (BroadcastChannel::unlink),
// whichever way the run ended.
#include <algorithm>
#include <bit>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "ipckit/channel/broadcast.hpp"

namespace ipckit::bench {
namespace {

class BroadcastSession final : public Session {
 public:
  explicit BroadcastSession(std::size_t size) : name_(unique_object_name()) {
    options_.policy = BroadcastPolicy::kBlock;
    options_.channel.wait = WaitStrategy::kBlocking;
    options_.channel.max_message = std::max<std::size_t>(size, 64);
    // A ring of at least 1 MiB and 4 messages (it holds capacity / (16 + max_message) slots).
    options_.channel.capacity =
        std::bit_ceil(std::max<std::size_t>(std::size_t{1} << 20, 4 * (options_.channel.max_message + 64)));
    // A subscriber descheduled on a loaded machine must make the publisher wait, not lose frames:
    // eviction only after 5 s (a hung run is ended earlier by the runner's bounds).
    options_.evict_after = std::chrono::seconds(5);
  }
  ~BroadcastSession() override { (void)BroadcastChannel::unlink(name_); }

  Result<void> prepare(Role role) override {
    if (role == Role::kSender) {
      auto pub = BroadcastPublisher::open(name_, OpenMode::kOpenOrCreate, options_);
      if (!pub) return fail(pub.error());
      pub_ = std::move(*pub);
      buffer_.resize(options_.channel.max_message);
    } else {
      auto sub = BroadcastSubscriber::open(name_, OpenMode::kOpenOrCreate, options_);
      if (!sub) return fail(sub.error());
      sub_ = std::move(*sub);
      buffer_.resize(sub_.max_message());
    }
    return {};
  }

  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    return role == Role::kSender ? publish(ctx, stats) : subscribe(ctx, stats);
  }

 private:
  Result<void> publish(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    const std::span<const std::byte> frame(buffer_.data(), ctx.size);
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;; ++seq) {
      if ((seq & mask) == 0 && !clock.tick(seq)) break;
      ctx.payload->fill(buffer_.data(), ctx.size, seq);
      auto sent = pub_.send(frame);
      if (!sent) return fail(sent.error());
      if (*sent != BroadcastStatus::kOk) {
        // A blocking send without a deadline only returns kOk; anything else is a broken run.
        stats.set_unverified(fmt::format("publisher: send returned {}", to_string(*sent)));
        break;
      }
    }
    (void)pub_.close();  // subscribers drain what is published, then get kPeerClosed
    clock.finish(seq, stats);
    return {};
  }

  Result<void> subscribe(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    // The window ends at the last tick (mark_last), at most 15 frames before the last frame, not
    // when the end of the run is seen after a wait.
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;;) {
      auto got = sub_.receive(buffer_);
      if (!got) return fail(got.error());
      if (got->status == BroadcastStatus::kPeerClosed) break;
      if (got->status != BroadcastStatus::kOk) {
        // kEvicted / kLapsed (frames skipped) or kPeerDied: this subscriber did not see every frame.
        stats.set_unverified(fmt::format("subscriber: {} after {} frames ({} lost)", to_string(got->status), seq,
                                         got->lost));
        break;
      }
      const FrameCheck c = check_frame(buffer_.data(), got->size, ctx.size, seq);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(std::string("frame: ") + to_string(c));
        break;
      }
      ++seq;
      if ((seq & mask) == 0) {
        clock.tick(seq);
        clock.mark_last();
      }
    }
    clock.finish(seq, stats);
    (void)sub_.close();  // removes `<name>.sub.<id>` (the session's unlink covers a subscriber killed earlier)
    return {};
  }

  std::string name_;
  BroadcastOptions options_;
  BroadcastPublisher pub_;
  BroadcastSubscriber sub_;
  std::vector<std::byte> buffer_;
};

class ChannelBroadcastMechanism final : public Mechanism {
 public:
  ChannelBroadcastMechanism(std::string_view name, int subscribers, std::string_view description, bool in_default)
      : name_(name), subscribers_(subscribers), description_(description), in_default_(in_default) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view description() const noexcept override { return description_; }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  Procs procs() const noexcept override { return {1, subscribers_}; }
  Delivery delivery() const noexcept override { return Delivery::kEach; }
  bool in_default_run() const noexcept override { return in_default_; }
  // Round trips with several subscribers have no single answer to wait for: throughput only.
  bool supports(Pattern pattern) const noexcept override { return pattern == Pattern::kThroughput; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    return std::unique_ptr<Session>(std::make_unique<BroadcastSession>(size));
  }

 private:
  std::string_view name_;
  int subscribers_;
  std::string_view description_;
  bool in_default_;
};

}  // namespace

const Mechanism& channel_broadcast_mechanism(int subscribers) {
  static const ChannelBroadcastMechanism one(
      "channel-broadcast", 1,
      "ipckit broadcast channel, policy kBlock, 1 subscriber, blocking waits; msgs/s per subscriber", true);
  static const ChannelBroadcastMechanism two("channel-broadcast-2", 2,
                                             "the same with 2 subscribers, each verifying every frame", false);
  static const ChannelBroadcastMechanism four("channel-broadcast-4", 4,
                                              "the same with 4 subscribers, each verifying every frame", false);
  static const ChannelBroadcastMechanism eight("channel-broadcast-8", 8,
                                               "the same with 8 subscribers, each verifying every frame", false);
  switch (subscribers) {
    case 2: return two;
    case 4: return four;
    case 8: return eight;
    default: return one;
  }
}

}  // namespace ipckit::bench
