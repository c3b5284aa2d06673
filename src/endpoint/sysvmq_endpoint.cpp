// SPDX-License-Identifier: Apache-2.0
// sysvmq:0xKEY and sysvmq:/path?proj=N: System V message queues (message/sysv_mq.hpp). Senders send
// with type= (or EndpointOptions::type); a receiver takes type= when the URL gives one, else any type.
#include "adapters.hpp"
#include <fstream>

#include <fmt/format.h>

#include "ipckit/message/sysv_mq.hpp"

namespace ipckit::detail {
namespace {

Result<SysvMq> open_queue(const Url& url, const EndpointOptions& options) {
  key_t key = 0;
  if (url.sysv_key) {
    key = static_cast<key_t>(*url.sysv_key);
  } else {
    auto k = SysvMq::key_for(url.address, url.proj);
    if (!k) return fail(k.error());
    key = *k;
  }
  auto mq = SysvMq::open(key, options.create ? OpenMode::kOpenOrCreate : OpenMode::kOpenExisting,
                         effective_mode(url, options));
  if (!mq) return fail(explain_missing(url, mq.error()));
  return mq;
}

// /proc/sys/kernel/msgmax: the largest message the kernel accepts (8192 by default).
std::size_t msgmax() {
  std::size_t v = 0;
  std::ifstream("/proc/sys/kernel/msgmax") >> v;
  return v != 0 ? v : 8192;
}

class SysvMqSender final : public Sender {
 public:
  SysvMqSender(Url url, SysvMq mq, long type, std::size_t max)
      : Sender(std::move(url)), mq_(mq), type_(type), max_(max) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    auto r = mq_.send_until(type_, message, deadline);
    if (!r) {
      // A queue removed under us (a `recv --remove-on-exit` that took its --count and left) is a
      // receiver that went away, as EPIPE is on a stream; IPC_STAT tells it from a message msgsnd
      // refused for its size (also EINVAL).
      if ((r.error().is(EIDRM) || r.error().is(EINVAL)) && !mq_.stat()) return SendStatus::kPeerClosed;
      return fail(r.error());
    }
    return *r == IoStatus::kOk ? SendStatus::kOk : SendStatus::kTimedOut;
  }
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override { return SendStatus::kOk; }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return mq_.remove(); }

 private:
  SysvMq mq_;
  long type_;
  std::size_t max_;
};

class SysvMqReceiver final : public Receiver {
 public:
  SysvMqReceiver(Url url, SysvMq mq, long type, std::size_t max)
      : Receiver(std::move(url)), mq_(mq), type_(type), max_(max) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    SysvReceiveOptions ro;
    ro.max_size = max_;
    auto r = mq_.receive_until(type_, deadline, ro);
    if (!r) return fail(r.error());
    if (!*r) return ReceiveStatus::kTimedOut;
    out = std::move((*r)->data);
    return ReceiveStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return mq_.remove(); }

 private:
  SysvMq mq_;
  long type_;
  std::size_t max_;
};

}  // namespace

Result<std::unique_ptr<Sender>> open_sysvmq_sender(const Url& url, const EndpointOptions& options) {
  auto mq = open_queue(url, options);
  if (!mq) return fail(mq.error());
  long type = options.type > 0 ? options.type : 1;
  if (auto v = url.option("type")) type = std::stol(*v);
  const std::size_t max = options.max_message != 0 ? options.max_message : msgmax();
  return std::unique_ptr<Sender>(new SysvMqSender(url, *mq, type, max));
}

Result<std::unique_ptr<Receiver>> open_sysvmq_receiver(const Url& url, const EndpointOptions& options) {
  auto mq = open_queue(url, options);
  if (!mq) return fail(mq.error());
  long type = 0;  // any
  if (auto v = url.option("type")) type = std::stol(*v);
  const std::size_t max = options.max_message != 0 ? options.max_message : msgmax();
  return std::unique_ptr<Receiver>(new SysvMqReceiver(url, *mq, type, max));
}

}  // namespace ipckit::detail
