// SPDX-License-Identifier: Apache-2.0
// iceoryx / iceoryx-waitset: iceoryx 2.0 publish/subscribe through RouDi's shared memory, zero-copy.
//
// The parent makes sure a RouDi runs (RouDiDaemon: reuse, or start a private one) and picks a unique
// service ("ipckit-bench", "<pid>.<n>", "ping"/"pong") and one runtime name per side. Each side's
// child registers with RouDi under its own name (PoshRuntime::initRuntime), creates an
// UntypedPublisher and/or UntypedSubscriber (queue 64; the subscriber's BLOCK_PRODUCER with the
// publisher's WAIT_FOR_CONSUMER make a full queue hold the sender back instead of dropping) and
// waits until both ends are matched before reporting ready. The sender loans a chunk, fills and
// hashes the frame in place and publishes it; the receiver takes the chunk, checks it in place
// (length from the chunk header) and releases it: no byte is copied, so bytes/s is not a copy
// bandwidth (the rows say zero_copy). Round trips: ping from client to server, pong back, each a
// fresh chunk filled in place. "iceoryx" takes chunks in a spin loop; "iceoryx-waitset" sleeps in a
// WaitSet attached to the subscriber's HAS_DATA state (a futex-backed condition in RouDi's memory).
//
// Children end with _exit, which runs no destructors, so a side gives its ports back and deregisters
// its runtime itself at the end of run() (or of a failed prepare()): the TERMINATION request the
// runtime's destructor would send. RouDi 2.0 aborts its own shutdown on a registered process that
// no longer exists (kill: ESRCH), leaving its segments behind; RouDiDaemon::release() cleans up after
// that case too (a side killed by the runner). The parent removes the runtimes' socket and lock files
// (/tmp/<runtime name>, /tmp/<runtime name>.lock) when the session ends.
#include <poll.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/internal/runtime/ipc_interface_base.hpp"
#include "iceoryx_posh/internal/runtime/ipc_message.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

#include "engine/peers/roudi_daemon.hpp"
#include "engine/registry.hpp"

namespace ipckit::bench {
namespace {

constexpr std::uint64_t kQueue = 64;
constexpr std::uint64_t kSetupTimeoutNs = 8'000'000'000ULL;

// Not inlined: GCC 12 inlines iceoryx's truncating copy into callers holding a short std::string
// and warns (-Warray-bounds) about the branch that copies 100 bytes, which cannot run here.
template <typename IoxString>
[[gnu::noinline]] IoxString iox_string(const char* s) noexcept {
  return IoxString(iox::cxx::TruncateToCapacity, s);
}
iox::capro::IdString_t id(const std::string& s) { return iox_string<iox::capro::IdString_t>(s.c_str()); }

class IceoryxSession final : public Session {
 public:
  explicit IceoryxSession(bool waitset) noexcept : waitset_(waitset) {}
  ~IceoryxSession() override {
    // The runtimes' Unix sockets: left behind by children that end with _exit.
    for (const auto& n : runtime_) {
      if (n.empty()) continue;
      ::unlink(("/tmp/" + n).c_str());
      ::unlink(("/tmp/" + n + ".lock").c_str());
    }
  }

  void create(Pattern pattern) {
    rtt_ = pattern == Pattern::kRtt;
    const std::string base = unique_object_name().substr(1);  // "ipckit.bench.<pid>.<n>"
    instance_ = base.substr(std::string("ipckit.bench.").size());
    runtime_[0] = base + ".snd";
    runtime_[1] = base + ".rcv";
  }

  Result<void> prepare(Role role) override {
    const std::string& name = runtime_[static_cast<int>(role)];
    // The bench's output is its table: only iceoryx's warnings and errors reach stderr.
    iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                             iox::log::LogLevelOutput::kHideLogLevel);
    iox::runtime::PoshRuntime::initRuntime(iox_string<iox::RuntimeName_t>(name.c_str()));
    registered_ = true;
    auto r = connect(role, name);
    if (!r) shut_down();
    return r;
  }

  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    Result<void> r;
    if (ctx.pattern == Pattern::kThroughput) {
      r = role == Role::kSender ? throughput_sender(ctx, stats) : throughput_receiver(ctx, stats);
    } else {
      r = role == Role::kSender ? rtt_client(ctx, stats) : rtt_server(ctx, stats);
    }
    shut_down();
    return r;
  }

 private:
  // Child: gives the ports back and deregisters the runtime (what destructors would do at exit()).
  void shut_down() noexcept {
    waitset_obj_.reset();
    sub_.reset();
    pub_.reset();
    if (!registered_) return;
    registered_ = false;
    auto& runtime = iox::runtime::PoshRuntime::getInstance();
    iox::runtime::IpcMessage request;
    request << iox::runtime::IpcMessageTypeToString(iox::runtime::IpcMessageType::TERMINATION)
            << std::string(runtime.getInstanceName().c_str());
    iox::runtime::IpcMessage answer;
    (void)runtime.sendRequestToRouDi(request, answer);  // failure: RouDi's monitoring drops us later
  }

  // Child: creates this side's ports and waits until RouDi has matched them with the peer's.
  Result<void> connect(Role role, const std::string& name) {
    const bool sender = role == Role::kSender;
    iox::popo::PublisherOptions po;
    po.historyCapacity = 0;
    po.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
    iox::popo::SubscriberOptions so;
    so.queueCapacity = kQueue;
    so.historyRequest = 0;
    so.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
    const std::string out_event = sender ? "ping" : "pong";
    const std::string in_event = sender ? "pong" : "ping";
    if (sender || rtt_) pub_.emplace(iox::capro::ServiceDescription{id("ipckit-bench"), id(instance_), id(out_event)}, po);
    if (!sender || rtt_) sub_.emplace(iox::capro::ServiceDescription{id("ipckit-bench"), id(instance_), id(in_event)}, so);
    if (sub_ && waitset_) {
      waitset_obj_.emplace();
      auto attached = waitset_obj_->attachState(*sub_, iox::popo::SubscriberState::HAS_DATA);
      if (attached.has_error()) {
        return fail_library(LibraryCode::kNotReady, "WaitSet::attachState", ipckit::quoted(name),
                            fmt::format("WaitSetError {}", static_cast<int>(attached.get_error())));
      }
    }
    // Matched: RouDi has connected our publisher to the peer's subscriber and ours to the peer's
    // publisher (its discovery loop does this in the background).
    const std::uint64_t deadline = SideClock::now_ns() + kSetupTimeoutNs;
    for (;;) {
      const bool pub_ok = !pub_ || pub_->hasSubscribers();
      const bool sub_ok = !sub_ || sub_->getSubscriptionState() == iox::SubscribeState::SUBSCRIBED;
      if (pub_ok && sub_ok) return {};
      if (SideClock::now_ns() > deadline) {
        return fail_library(LibraryCode::kNotReady, "iceoryx discovery", ipckit::quoted(name),
                            fmt::format("publisher {}, subscriber {} after 8 s: is RouDi serving clients?",
                                        pub_ok ? "matched" : "unmatched", sub_ok ? "subscribed" : "not subscribed"));
      }
      ::poll(nullptr, 0, 1);
    }
  }

  // Loans a chunk of `size` bytes and fills frame `seq` in place.
  Result<void*> fill_chunk(const RunContext& ctx, std::uint64_t seq, std::uint32_t flags = 0) {
    auto loaned = pub_->loan(static_cast<std::uint32_t>(ctx.size));
    if (loaned.has_error()) {
      return fail_library(LibraryCode::kTooLarge, "UntypedPublisher::loan", fmt::format("{} bytes", ctx.size),
                          iox::popo::asStringLiteral(loaned.get_error()));
    }
    ctx.payload->fill(static_cast<std::byte*>(loaned.value()), ctx.size, seq, flags);
    return loaned.value();
  }

  // Takes the next chunk: spinning, or sleeping in the WaitSet. nullptr when the run was stopped.
  Result<const void*> take(const RunContext& ctx) {
    std::uint32_t spins = 0;
    for (;;) {
      auto taken = sub_->take();
      if (!taken.has_error()) return taken.value();
      if (taken.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
        return fail_library(LibraryCode::kNotReady, "UntypedSubscriber::take", ipckit::quoted(instance_),
                            iox::popo::asStringLiteral(taken.get_error()));
      }
      if (waitset_) {
        // Bounded so a stop request is seen even when the peer is gone.
        (void)waitset_obj_->timedWait(iox::units::Duration::fromMilliseconds(50));
        if (ctx.stop_requested()) return nullptr;
      } else {
        if ((++spins & 1023) == 0 && ctx.stop_requested()) return nullptr;
        cpu_relax();
      }
    }
  }

  static std::size_t chunk_size(const void* p) noexcept {
    return iox::mepoo::ChunkHeader::fromUserPayload(p)->userPayloadSize();
  }

  Result<void> throughput_sender(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;; ++seq) {
      if ((seq & mask) == 0 && !clock.tick(seq)) break;
      auto chunk = fill_chunk(ctx, seq);
      if (!chunk) return fail(chunk.error());
      pub_->publish(*chunk);  // waits while the subscriber's queue is full (WAIT_FOR_CONSUMER)
    }
    clock.finish(seq, stats);
    auto end = fill_chunk(ctx, seq, kFlagEnd);
    if (!end) return fail(end.error());
    pub_->publish(*end);
    return {};
  }

  Result<void> throughput_receiver(const RunContext& ctx, SideStats& stats) {
    const std::uint64_t mask = ctx.size >= 4096 ? 0 : 15;
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;;) {
      auto taken = take(ctx);
      if (!taken) return fail(taken.error());
      if (*taken == nullptr) break;
      const auto* p = static_cast<const std::byte*>(*taken);
      const FrameCheck c = check_frame(p, chunk_size(p), ctx.size, seq);  // in place: zero-copy
      sub_->release(*taken);
      if (c == FrameCheck::kEnd) break;
      if (c != FrameCheck::kOk) {
        stats.set_unverified(fmt::format("frame {}: {}", seq, to_string(c)));
        break;
      }
      ++seq;
      if ((seq & mask) == 0) clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    return {};
  }

  Result<void> rtt_client(const RunContext& ctx, SideStats& stats) {
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    while (clock.tick(seq)) {
      const std::uint64_t t0 = SideClock::now_ns();
      auto chunk = fill_chunk(ctx, seq);
      if (!chunk) return fail(chunk.error());
      pub_->publish(*chunk);
      auto taken = take(ctx);
      if (!taken) return fail(taken.error());
      if (*taken == nullptr) break;
      const auto* p = static_cast<const std::byte*>(*taken);
      const FrameCheck c = check_frame(p, chunk_size(p), ctx.size, seq);
      sub_->release(*taken);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(fmt::format("frame {}: {}", seq, to_string(c)));
        break;
      }
      const std::uint64_t t1 = SideClock::now_ns();
      if (clock.warm()) ctx.control->histogram.record(t1 - t0);
      ++seq;
    }
    clock.finish(seq, stats);
    if (stats.verified) {
      auto end = fill_chunk(ctx, seq, kFlagEnd);
      if (!end) return fail(end.error());
      pub_->publish(*end);
    }
    return {};
  }

  Result<void> rtt_server(const RunContext& ctx, SideStats& stats) {
    SideClock clock(ctx);
    std::uint64_t seq = 0;
    for (;;) {
      auto taken = take(ctx);
      if (!taken) return fail(taken.error());
      if (*taken == nullptr) break;
      const auto* p = static_cast<const std::byte*>(*taken);
      const FrameCheck c = check_frame(p, chunk_size(p), ctx.size, seq);
      sub_->release(*taken);
      if (c == FrameCheck::kEnd) break;
      if (c != FrameCheck::kOk) {
        stats.set_unverified(fmt::format("frame {}: {}", seq, to_string(c)));
        break;
      }
      auto chunk = fill_chunk(ctx, seq);
      if (!chunk) return fail(chunk.error());
      pub_->publish(*chunk);
      ++seq;
      clock.tick(seq);
    }
    clock.mark_last();
    clock.finish(seq, stats);
    return {};
  }

  bool waitset_;
  bool rtt_ = false;
  bool registered_ = false;
  std::string instance_;
  std::string runtime_[2];
  std::optional<iox::popo::UntypedPublisher> pub_;
  std::optional<iox::popo::UntypedSubscriber> sub_;
  std::optional<iox::popo::WaitSet<>> waitset_obj_;
};

class IceoryxMechanism final : public Mechanism {
 public:
  explicit constexpr IceoryxMechanism(bool waitset) noexcept : waitset_(waitset) {}
  std::string_view name() const noexcept override { return waitset_ ? "iceoryx-waitset" : "iceoryx"; }
  std::string_view description() const noexcept override {
    return waitset_ ? "peer: iceoryx 2.0 zero-copy publish/subscribe via RouDi, receiver sleeps in a WaitSet"
                    : "peer: iceoryx 2.0 zero-copy publish/subscribe via RouDi, receiver busy-polls take()";
  }
  Wait wait() const noexcept override { return waitset_ ? Wait::kBlocking : Wait::kBusy; }
  bool supports(Pattern) const noexcept override { return true; }
  bool zero_copy() const noexcept override { return true; }
  Availability available() const override {
    std::string reason = RouDiDaemon::unavailable_reason();
    if (!reason.empty()) return {false, std::move(reason)};
    return {};
  }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    if (size > RouDiDaemon::kMaxChunk && !RouDiDaemon::external_running()) {
      return fmt::format("RouDi mempool max {} bytes (the bench's RouDi config)", RouDiDaemon::kMaxChunk);
    }
    return std::nullopt;
  }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t) const override {
    if (auto r = RouDiDaemon::ensure(); !r) return fail(r.error());
    auto s = std::make_unique<IceoryxSession>(waitset_);
    s->create(pattern);
    return std::unique_ptr<Session>(std::move(s));
  }
  void release() const noexcept override { RouDiDaemon::release(); }

 private:
  bool waitset_;
};

}  // namespace

const Mechanism& iceoryx_mechanism() {
  static const IceoryxMechanism m(false);
  return m;
}

const Mechanism& iceoryx_waitset_mechanism() {
  static const IceoryxMechanism m(true);
  return m;
}

}  // namespace ipckit::bench
