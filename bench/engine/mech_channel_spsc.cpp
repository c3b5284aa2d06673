// SPDX-License-Identifier: Apache-2.0
// channel-spsc (busy-poll) and channel-spsc-blocking: the ipckit SPSC channel (issue 8). Each side
// opens the channel by name (kOpenOrCreate; roles are claimed in the shared header, so the parent
// never holds an endpoint a child could inherit); the parent unlinks the name once both have it.
// Throughput uses the zero-copy API: reserve -> fill+hash in place -> commit, publishing once per
// batch of up to 64 records (the producer closes to end the run); the consumer verifies in place
// and releases. Round trips use a second channel for replies and publish every record.
// Until the channel layer is in the build, both are listed as not available.
#if __has_include("ipckit/channel/spsc.hpp")
#include "ipckit/channel/spsc.hpp"
#include "ipckit/core/poll.hpp"
#define IPCKIT_BENCH_HAVE_CHANNEL 1
#endif

#include <algorithm>
#include <bit>
#include <memory>
#include <string>

#include "engine/not_built.hpp"
#include "engine/registry.hpp"

namespace ipckit::bench {
namespace {

#ifdef IPCKIT_BENCH_HAVE_CHANNEL

class ChannelSession final : public Session {
 public:
  ChannelSession(Pattern pattern, std::size_t size, WaitStrategy wait, bool epoll)
      : rtt_(pattern == Pattern::kRtt), epoll_(epoll) {
    options_.wait = wait;
    options_.max_message = std::max<std::size_t>(size, 64);
    // A ring of at least 1 MiB and 4 records, a power of two.
    options_.capacity = std::bit_ceil(std::max<std::size_t>(std::size_t{1} << 20, 4 * (options_.max_message + 64)));
    names_[0] = unique_object_name();
    if (rtt_) names_[1] = unique_object_name();
  }
  ~ChannelSession() override { remove(); }

  Result<void> prepare(Role role) override {
    const bool sender = role == Role::kSender;
    if (sender || rtt_) {
      auto tx = SpscProducer::open(names_[sender ? 0 : 1], OpenMode::kOpenOrCreate, options_);
      if (!tx) return fail(tx.error());
      tx_ = std::move(*tx);
    }
    if (!sender || rtt_) {
      auto rx = SpscConsumer::open(names_[sender ? 1 : 0], OpenMode::kOpenOrCreate, options_);
      if (!rx) return fail(rx.error());
      rx_ = std::move(*rx);
      if (epoll_) {
        auto fd = rx_.enable_notification();
        if (!fd) return fail(fd.error());
        epfd_ = *fd;
      }
    }
    return {};
  }

  void after_ready() noexcept override { remove(); }

  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    if (!rtt_) return role == Role::kSender ? produce(ctx, stats) : consume(ctx, stats);
    return role == Role::kSender ? client(ctx, stats) : server(ctx, stats);
  }

 private:
  // Checks and releases the next record; false when the run is over (peer closed) or it failed.
  // epoll mode: the level-triggered contract of docs/channel.md — drain with try_receive, arm, re-check,
  // then sleep in poll() on the notification fd (an epoll fd) and disarm on wake-up.
  Result<ReceivedView> receive_via_epoll() {
    for (;;) {
      auto view = rx_.try_receive();
      if (!view || view->status != ChannelStatus::kWouldBlock) return view;
      auto armed = rx_.arm();
      if (!armed) return fail(armed.error());
      if (!*armed) continue;  // a record arrived (or the producer left) while arming
      auto ready = wait_readable(epfd_, kNoDeadline);
      if (!ready) return fail(ready.error());
      rx_.disarm();
    }
  }

  Result<bool> take(const RunContext& ctx, std::uint64_t seq, SideStats& stats, bool& end) {
    auto view = epoll_ ? receive_via_epoll() : rx_.receive();
    if (!view) return fail(view.error());
    if (view->status != ChannelStatus::kOk) {
      end = true;
      return false;
    }
    const FrameCheck c = check_frame(view->data.data(), view->data.size(), ctx.size, seq);
    if (auto r = rx_.release(); !r) return fail(r.error());
    if (c != FrameCheck::kOk) {
      stats.set_unverified(std::string("frame: ") + to_string(c));
      return false;
    }
    return true;
  }

  Result<bool> put(const RunContext& ctx, std::uint64_t seq, bool publish) {
    auto span = tx_.reserve(ctx.size);
    if (!span) return fail(span.error());
    if (span->status != ChannelStatus::kOk) return false;
    ctx.payload->fill(span->data.data(), ctx.size, seq);
    if (auto r = tx_.commit(publish); !r) return fail(r.error());
    return true;
  }

  Result<void> produce(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;; ++seq) {
      if ((seq & mask) == 0 && !clock.tick(seq)) break;
      auto ok = put(ctx, seq, false);
      if (!ok) return fail(ok.error());
      if (!*ok) break;
    }
    (void)tx_.close();  // flushes the batch; the consumer drains and then sees kPeerClosed
    clock.finish(seq, stats);
    return {};
  }

  Result<void> consume(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;;) {
      bool end = false;
      auto ok = take(ctx, seq, stats, end);
      if (!ok) return fail(ok.error());
      if (!*ok) break;
      ++seq;
      if ((seq & mask) == 0) clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    (void)rx_.close();
    return {};
  }

  Result<void> client(const RunContext& ctx, SideStats& stats) {
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    while (clock.tick(seq)) {
      const std::uint64_t t0 = SideClock::now_ns();
      auto sent = put(ctx, seq, true);
      if (!sent) return fail(sent.error());
      if (!*sent) break;
      bool end = false;
      auto got = take(ctx, seq, stats, end);
      if (!got) return fail(got.error());
      if (!*got) break;
      const std::uint64_t t1 = SideClock::now_ns();
      if (clock.warm()) ctx.control->histogram.record(t1 - t0);
      ++seq;
    }
    (void)tx_.close();
    clock.finish(seq, stats);
    (void)rx_.close();
    return {};
  }

  Result<void> server(const RunContext& ctx, SideStats& stats) {
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;; ++seq) {
      bool end = false;
      auto got = take(ctx, seq, stats, end);
      if (!got) return fail(got.error());
      if (!*got) break;
      auto sent = put(ctx, seq, true);
      if (!sent) return fail(sent.error());
      if (!*sent) break;
      clock.tick(seq + 1);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    (void)tx_.close();
    (void)rx_.close();
    return {};
  }

  void remove() noexcept {
    for (auto& n : names_) {
      if (!n.empty()) (void)SpscChannel::unlink(n);
      n.clear();
    }
  }

  bool rtt_;
  bool epoll_;
  int epfd_ = -1;  // the consumer's notification fd (owned by rx_)
  ChannelOptions options_;
  std::string names_[2];
  SpscProducer tx_;
  SpscConsumer rx_;
};

class ChannelSpscMechanism final : public Mechanism {
 public:
  ChannelSpscMechanism(std::string_view name, WaitStrategy strategy, Wait wait, std::string_view description)
      : name_(name), strategy_(strategy), wait_(wait), description_(description) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view description() const noexcept override { return description_; }
  Wait wait() const noexcept override { return wait_; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const override {
    return std::unique_ptr<Session>(
        std::make_unique<ChannelSession>(pattern, size, strategy_, wait_ == Wait::kEpoll));
  }

 private:
  std::string_view name_;
  WaitStrategy strategy_;
  Wait wait_;
  std::string_view description_;
};

}  // namespace

const Mechanism& channel_spsc_mechanism() {
  static const ChannelSpscMechanism m("channel-spsc", WaitStrategy::kBusyPoll, Wait::kBusy,
                                      "ipckit SPSC channel, busy-poll; zero-copy reserve/commit, batch publish");
  return m;
}

const Mechanism& channel_spsc_blocking_mechanism() {
  static const ChannelSpscMechanism m("channel-spsc-blocking", WaitStrategy::kBlocking, Wait::kBlocking,
                                      "ipckit SPSC channel, blocking (futex) waits; zero-copy reserve/commit");
  return m;
}

const Mechanism& channel_spsc_epoll_mechanism() {
  // The producer wakes the consumer through its eventfd only while the consumer is armed.
  static const ChannelSpscMechanism m("channel-spsc-epoll", WaitStrategy::kBlocking, Wait::kEpoll,
                                      "ipckit SPSC channel, consumer waits in epoll on its notification fd");
  return m;
}

#else  // no channel layer in this build

}  // namespace

const Mechanism& channel_spsc_mechanism() {
  static const NotBuiltMechanism m("channel-spsc", Wait::kBusy, kNoChannelLayer);
  return m;
}

const Mechanism& channel_spsc_blocking_mechanism() {
  static const NotBuiltMechanism m("channel-spsc-blocking", Wait::kBlocking, kNoChannelLayer);
  return m;
}

const Mechanism& channel_spsc_epoll_mechanism() {
  static const NotBuiltMechanism m("channel-spsc-epoll", Wait::kEpoll, kNoChannelLayer);
  return m;
}

#endif

}  // namespace ipckit::bench
