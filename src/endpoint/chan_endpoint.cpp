// SPDX-License-Identifier: Apache-2.0
// chan:/name: the ipckit shared-memory channel. `create` makes it with capacity=/max= from the URL
// (else EndpointOptions capacity/max_message, else 1 MiB / 64 KiB). pattern= picks the channel:
//   spsc (default)  channel/spsc.hpp: one sender, one receiver
//   mpmc            channel/mpmc.hpp: any number of senders and receivers, each message to one
//   broadcast       channel/broadcast.hpp: one sender, any number of receivers, each message to all;
//                   policy=block (default: a slow receiver holds the sender back, no loss) or lapse
// A sender's finish() closes it: receivers drain what is there and then see end of stream (for
// mpmc, once the last sender closed); a sender found dead is kPeerDied. A name serves any number of
// sessions in a row: an end of stream ends only the receivers of its session (docs/channel.md,
// "Sessions"). A broadcast sender (policy=block) waits for its first receiver before sending.
#include "adapters.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"

namespace ipckit::detail {
namespace {

ChannelOptions channel_options(const Url& url, const EndpointOptions& options) {
  ChannelOptions co;
  if (auto v = url.option("capacity")) {
    co.capacity = *parse_size(*v, "capacity");  // checked by parse_url (core/units.hpp)
  } else if (options.capacity != 0) {
    co.capacity = options.capacity;
  }
  if (auto v = url.option("max")) {
    co.max_message = *parse_size(*v, "max");
  } else if (options.max_message != 0) {
    co.max_message = options.max_message;
  }
  co.mode = effective_mode(url, options);
  co.wait = WaitStrategy::kSpinThenFutex;
  return co;
}

BroadcastOptions broadcast_options(const Url& url, const EndpointOptions& options) {
  BroadcastOptions bo;
  bo.channel = channel_options(url, options);
  bo.policy = url.option("policy") == "lapse" ? BroadcastPolicy::kLapse : BroadcastPolicy::kBlock;
  return bo;
}

OpenMode open_mode(const EndpointOptions& options) {
  return options.create ? OpenMode::kOpenOrCreate : OpenMode::kOpenExisting;
}

// The channel outcomes in endpoint terms.
SendStatus send_status(ChannelStatus s) {
  switch (s) {
    case ChannelStatus::kOk: return SendStatus::kOk;
    case ChannelStatus::kWouldBlock:
    case ChannelStatus::kTimedOut: return SendStatus::kTimedOut;
    case ChannelStatus::kPeerClosed:
    case ChannelStatus::kPeerDied: return SendStatus::kPeerClosed;
  }
  return SendStatus::kPeerClosed;
}

// kOk, or the status to return for an empty/closed channel.
std::optional<ReceiveStatus> receive_status(ChannelStatus s) {
  switch (s) {
    case ChannelStatus::kOk: return std::nullopt;
    case ChannelStatus::kWouldBlock:
    case ChannelStatus::kTimedOut: return ReceiveStatus::kTimedOut;
    case ChannelStatus::kPeerClosed: return ReceiveStatus::kEndOfStream;
    case ChannelStatus::kPeerDied: return ReceiveStatus::kPeerDied;
  }
  return ReceiveStatus::kPeerDied;
}

template <class Producer, class Unlink>
class ChanSender final : public Sender {
 public:
  ChanSender(Url url, Producer producer, std::size_t max) : Sender(std::move(url)), producer_(std::move(producer)), max_(max) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    auto r = producer_.send_until(message, deadline);
    if (!r) return fail(r.error());
    return send_status(*r);
  }
  // Closes the sender: receivers drain what is there and then see end of stream.
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override {
    (void)producer_.close();
    return SendStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return Unlink::unlink(url().address); }

 private:
  Producer producer_;
  std::size_t max_;
};

// A broadcast publisher. policy=block: the first message waits for a subscriber (until the caller's
// deadline: kTimedOut), so a sender started first discards nothing; once subscribers joined and the
// last one left (closed, or found dead within the liveness interval) it is kPeerClosed, the message
// not sent. policy=lapse may drop by definition: it sends at once.
class BroadcastSender final : public Sender {
 public:
  BroadcastSender(Url url, BroadcastPublisher publisher)
      : Sender(std::move(url)), publisher_(std::move(publisher)), max_(publisher_.max_message()) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    if (!joined_ && publisher_.policy() == BroadcastPolicy::kBlock) {
      auto w = publisher_.wait_for_subscribers_until(1, deadline);
      if (!w) return fail(w.error());
      if (*w != BroadcastStatus::kOk) return SendStatus::kTimedOut;
      joined_ = true;
    }
    auto r = publisher_.send_until(message, deadline);
    if (!r) return fail(r.error());
    if (*r != BroadcastStatus::kOk) return SendStatus::kTimedOut;
    if (joined_ && publisher_.counters().subscribers == 0) return SendStatus::kPeerClosed;  // nobody got it
    return SendStatus::kOk;
  }
  // Closes the publisher: subscribers drain what is there and then see end of stream.
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override {
    (void)publisher_.close();
    return SendStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return BroadcastChannel::unlink(url().address); }

 private:
  BroadcastPublisher publisher_;
  std::size_t max_;
  bool joined_ = false;  // a subscriber joined: from now on, none left means the receivers went away
};

// SPSC and MPMC consumers: zero-copy view, copied into the caller's string, then released.
template <class Consumer, class Unlink>
class ChanReceiver final : public Receiver {
 public:
  ChanReceiver(Url url, Consumer consumer) : Receiver(std::move(url)), consumer_(std::move(consumer)) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    auto v = consumer_.receive_until(deadline);
    if (!v) return fail(v.error());
    if (auto st = receive_status(v->status)) return *st;
    out.assign(reinterpret_cast<const char*>(v->data.data()), v->data.size());
    if (auto r = consumer_.release(); !r) return fail(r.error());
    return ReceiveStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return consumer_.max_message(); }
  [[nodiscard]] Result<void> remove_object() override { return Unlink::unlink(url().address); }

 private:
  Consumer consumer_;
};

// A broadcast subscriber copies (its data mapping is read-only and validated like a seqlock). A
// lapse or an eviction lost messages: an error that says how many, never a silent gap.
class BroadcastReceiver final : public Receiver {
 public:
  BroadcastReceiver(Url url, BroadcastSubscriber sub)
      : Receiver(std::move(url)), sub_(std::move(sub)), buffer_(sub_.max_message()) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    auto r = sub_.receive_until(buffer_, deadline);
    if (!r) return fail(r.error());
    switch (r->status) {
      case BroadcastStatus::kOk:
        out.assign(reinterpret_cast<const char*>(buffer_.data()), r->size);
        return ReceiveStatus::kOk;
      case BroadcastStatus::kWouldBlock:
      case BroadcastStatus::kTimedOut: return ReceiveStatus::kTimedOut;
      case BroadcastStatus::kPeerClosed: return ReceiveStatus::kEndOfStream;
      case BroadcastStatus::kPeerDied: return ReceiveStatus::kPeerDied;
      case BroadcastStatus::kLapsed:
      case BroadcastStatus::kEvicted: break;
    }
    return fail_library(LibraryCode::kNotAvailable, "receive", url_object(url()),
                        fmt::format("this receiver was {} by the sender and lost {} message(s); {}", to_string(r->status),
                                    r->lost,
                                    r->status == BroadcastStatus::kLapsed
                                        ? "use policy=block (the default) to make the sender wait instead"
                                        : "the sender waited longer than its eviction deadline: receive faster"));
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return sub_.max_message(); }
  [[nodiscard]] Result<void> remove_object() override { return BroadcastChannel::unlink(url().address); }

 private:
  BroadcastSubscriber sub_;
  std::vector<std::byte> buffer_;
};

std::string_view pattern_of(const Url& url) {
  const auto p = url.option("pattern");
  return p ? (*p == "mpmc" ? "mpmc" : *p == "broadcast" ? "broadcast" : "spsc") : "spsc";
}

Result<void> check_policy(const Url& url) {
  if (url.option("policy") && pattern_of(url) != "broadcast") {
    return fail_library(LibraryCode::kInvalidArgument, "open", url_object(url),
                        "option \"policy\" applies to pattern=broadcast only");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Sender>> open_chan_sender(const Url& url, const EndpointOptions& options) {
  if (auto c = check_policy(url); !c) return fail(c.error());
  const ChannelOptions co = channel_options(url, options);
  const std::string_view pattern = pattern_of(url);
  if (pattern == "mpmc") {
    auto p = MpmcProducer::open(url.address, open_mode(options), co);
    if (!p) return fail(explain_missing(url, p.error()));
    const std::size_t max = p->max_message();
    return std::unique_ptr<Sender>(new ChanSender<MpmcProducer, MpmcChannel>(url, std::move(*p), max));
  }
  if (pattern == "broadcast") {
    auto p = BroadcastPublisher::open(url.address, open_mode(options), broadcast_options(url, options));
    if (!p) return fail(explain_missing(url, p.error()));
    return std::unique_ptr<Sender>(new BroadcastSender(url, std::move(*p)));
  }
  auto p = SpscProducer::open(url.address, open_mode(options), co);
  if (!p) return fail(explain_missing(url, p.error()));
  const std::size_t max = p->max_message();
  return std::unique_ptr<Sender>(new ChanSender<SpscProducer, SpscChannel>(url, std::move(*p), max));
}

Result<std::unique_ptr<Receiver>> open_chan_receiver(const Url& url, const EndpointOptions& options) {
  if (auto c = check_policy(url); !c) return fail(c.error());
  const ChannelOptions co = channel_options(url, options);
  const std::string_view pattern = pattern_of(url);
  if (pattern == "mpmc") {
    auto c = MpmcConsumer::open(url.address, open_mode(options), co);
    if (!c) return fail(explain_missing(url, c.error()));
    return std::unique_ptr<Receiver>(new ChanReceiver<MpmcConsumer, MpmcChannel>(url, std::move(*c)));
  }
  if (pattern == "broadcast") {
    auto s = BroadcastSubscriber::open(url.address, open_mode(options), broadcast_options(url, options));
    if (!s) return fail(explain_missing(url, s.error()));
    return std::unique_ptr<Receiver>(new BroadcastReceiver(url, std::move(*s)));
  }
  auto c = SpscConsumer::open(url.address, open_mode(options), co);
  if (!c) return fail(explain_missing(url, c.error()));
  return std::unique_ptr<Receiver>(new ChanReceiver<SpscConsumer, SpscChannel>(url, std::move(*c)));
}

}  // namespace ipckit::detail
