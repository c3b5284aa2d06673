// SPDX-License-Identifier: Apache-2.0
// mq:/name: POSIX message queues (message/posix_mq.hpp). `create` makes the queue with maxmsg/msgsize
// from the URL (else EndpointOptions capacity/max_message, else the system's msg_default and
// msgsize_default); messages are sent with priority= (or EndpointOptions::priority).
#include "adapters.hpp"
#include <fcntl.h>

#include <fmt/format.h>

#include "ipckit/message/posix_mq.hpp"

namespace ipckit::detail {
namespace {

Result<PosixMq> open_queue(const Url& url, const EndpointOptions& options, int access) {
  MqOptions mo;
  mo.open = options.create ? OpenMode::kOpenOrCreate : OpenMode::kOpenExisting;
  mo.access = access;
  mo.mode = effective_mode(url, options);
  if (auto v = url.option("maxmsg")) {
    mo.attributes.max_messages = std::stol(*v);  // checked by parse_url
  } else if (options.capacity != 0) {
    mo.attributes.max_messages = static_cast<long>(options.capacity);
  }
  if (auto v = url.option("msgsize")) {
    mo.attributes.message_size = static_cast<long>(*parse_size(*v, "msgsize"));
  } else if (options.max_message != 0) {
    mo.attributes.message_size = static_cast<long>(options.max_message);
  }
  return PosixMq::open(url.address, mo);
}

class MqSender final : public Sender {
 public:
  MqSender(Url url, PosixMq mq, unsigned priority, std::size_t max)
      : Sender(std::move(url)), mq_(std::move(mq)), priority_(priority), max_(max) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    auto r = mq_.send_until(message, priority_, deadline);
    if (!r) return fail(r.error());
    return *r == IoStatus::kOk ? SendStatus::kOk : SendStatus::kTimedOut;
  }
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override { return SendStatus::kOk; }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return PosixMq::unlink(url().address); }

 private:
  PosixMq mq_;
  unsigned priority_;
  std::size_t max_;
};

class MqReceiver final : public Receiver {
 public:
  MqReceiver(Url url, PosixMq mq, std::size_t max) : Receiver(std::move(url)), mq_(std::move(mq)), max_(max) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    auto r = mq_.receive_until(deadline);
    if (!r) return fail(r.error());
    if (!*r) return ReceiveStatus::kTimedOut;
    out = std::move((*r)->data);
    priority_ = (*r)->priority;
    return ReceiveStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return PosixMq::unlink(url().address); }
  [[nodiscard]] std::optional<unsigned> last_priority() const noexcept override { return priority_; }

 private:
  PosixMq mq_;
  std::size_t max_;
  std::optional<unsigned> priority_;
};

Result<std::size_t> message_size(const PosixMq& mq) {
  auto st = mq.state();
  if (!st) return fail(st.error());
  return static_cast<std::size_t>(st->message_size);
}

}  // namespace

Result<std::unique_ptr<Sender>> open_mq_sender(const Url& url, const EndpointOptions& options) {
  auto mq = open_queue(url, options, O_WRONLY);
  if (!mq) return fail(explain_missing(url, mq.error()));
  auto max = message_size(*mq);
  if (!max) return fail(max.error());
  unsigned priority = options.priority;
  if (auto v = url.option("priority")) priority = static_cast<unsigned>(std::stoul(*v));
  return std::unique_ptr<Sender>(new MqSender(url, std::move(*mq), priority, *max));
}

Result<std::unique_ptr<Receiver>> open_mq_receiver(const Url& url, const EndpointOptions& options) {
  auto mq = open_queue(url, options, O_RDONLY);
  if (!mq) return fail(explain_missing(url, mq.error()));
  auto max = message_size(*mq);
  if (!max) return fail(max.error());
  return std::unique_ptr<Receiver>(new MqReceiver(url, std::move(*mq), *max));
}

}  // namespace ipckit::detail
