// chan:/name: the ipckit shared-memory channel (channel/spsc.hpp). `create` makes it with
// capacity=/max= from the URL (else EndpointOptions capacity/max_message, else 1 MiB / 64 KiB); the
// sender is the producer, the receiver the consumer. A producer's finish() closes its role: the
// consumer drains the ring and then sees end of stream; a producer found dead is kPeerDied.
// pattern=mpmc|broadcast need the MPMC/broadcast channels; this version has SPSC.
#include "adapters.hpp"

#include <fmt/format.h>

#include "ipckit/channel/spsc.hpp"

namespace ipckit::detail {
namespace {

Result<ChannelOptions> channel_options(const Url& url, const EndpointOptions& options) {
  if (auto p = url.option("pattern"); p && *p != "spsc") {
    return fail_library(LibraryCode::kNotAvailable, "open", url_object(url),
                        fmt::format("chan: pattern {} is not built in this version (spsc is)", *p));
  }
  ChannelOptions co;
  if (auto v = url.option("capacity")) {
    co.capacity = *parse_size(*v, "capacity");  // checked by parse_url
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

OpenMode open_mode(const EndpointOptions& options) {
  return options.create ? OpenMode::kOpenOrCreate : OpenMode::kOpenExisting;
}

class ChanSender final : public Sender {
 public:
  ChanSender(Url url, SpscProducer producer) : Sender(std::move(url)), producer_(std::move(producer)) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    auto r = producer_.send_until(message, deadline);
    if (!r) return fail(r.error());
    switch (*r) {
      case ChannelStatus::kOk:
        return SendStatus::kOk;
      case ChannelStatus::kWouldBlock:
      case ChannelStatus::kTimeout:
        return SendStatus::kTimedOut;
      case ChannelStatus::kPeerClosed:
      case ChannelStatus::kPeerDied:
        return SendStatus::kPeerClosed;
    }
    return SendStatus::kPeerClosed;
  }
  // Publishes the last batch and closes the producer role: the consumer sees end of stream after it.
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override {
    producer_.close();
    return SendStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return producer_.max_message(); }
  [[nodiscard]] Result<void> remove_object() override { return SpscChannel::unlink(url().address); }

 private:
  SpscProducer producer_;
};

class ChanReceiver final : public Receiver {
 public:
  ChanReceiver(Url url, SpscConsumer consumer) : Receiver(std::move(url)), consumer_(std::move(consumer)) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    auto v = consumer_.receive_until(deadline);
    if (!v) return fail(v.error());
    switch (v->status) {
      case ChannelStatus::kOk:
        break;
      case ChannelStatus::kWouldBlock:
      case ChannelStatus::kTimeout:
        return ReceiveStatus::kTimedOut;
      case ChannelStatus::kPeerClosed:
        return ReceiveStatus::kEndOfStream;
      case ChannelStatus::kPeerDied:
        return ReceiveStatus::kPeerDied;
    }
    out.assign(reinterpret_cast<const char*>(v->data.data()), v->data.size());
    if (auto r = consumer_.release(); !r) return fail(r.error());
    return ReceiveStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return consumer_.max_message(); }
  [[nodiscard]] Result<void> remove_object() override { return SpscChannel::unlink(url().address); }

 private:
  SpscConsumer consumer_;
};

}  // namespace

Result<std::unique_ptr<Sender>> open_chan_sender(const Url& url, const EndpointOptions& options) {
  auto co = channel_options(url, options);
  if (!co) return fail(co.error());
  auto p = SpscProducer::open(url.address, open_mode(options), *co);
  if (!p) return fail(explain_missing(url, p.error()));
  return std::unique_ptr<Sender>(new ChanSender(url, std::move(*p)));
}

Result<std::unique_ptr<Receiver>> open_chan_receiver(const Url& url, const EndpointOptions& options) {
  auto co = channel_options(url, options);
  if (!co) return fail(co.error());
  auto c = SpscConsumer::open(url.address, open_mode(options), *co);
  if (!c) return fail(explain_missing(url, c.error()));
  return std::unique_ptr<Receiver>(new ChanReceiver(url, std::move(*c)));
}

}  // namespace ipckit::detail
