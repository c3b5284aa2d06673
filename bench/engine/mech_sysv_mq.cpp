// SPDX-License-Identifier: Apache-2.0
// sysv-mq: one System V message queue (msgget(IPC_PRIVATE), 0600): frames go as mtype 1, replies
// as mtype 2, the classic one-queue request/reply layout. The parent removes the queue (IPC_RMID)
// after the run on every exit path. Sizes above /proc/sys/kernel/msgmax (or the queue's byte
// limit msgmnb) are reported as limited. Blocking.
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "engine/fd_session.hpp"
#include "engine/registry.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/message/sysv_mq.hpp"

namespace ipckit::bench {
namespace {

class SysvMqSession final : public TransportSession {
 public:
  SysvMqSession() noexcept : TransportSession(Kind::kMessage, false) {}
  ~SysvMqSession() override {
    if (queue_.valid()) (void)queue_.remove();
  }
  Result<void> create(std::size_t size) {
    auto q = SysvMq::open(IPC_PRIVATE, OpenMode::kCreateExclusive);  // a new queue, 0600
    if (!q) return fail(q.error());
    queue_ = std::move(*q);
    id_ = queue_.id();
    buf_.resize(sizeof(long) + size + 1);
    return {};
  }
  Result<void> prepare(Role role) override {
    out_type_ = role == Role::kSender ? 1 : 2;
    in_type_ = role == Role::kSender ? 2 : 1;
    return {};
  }

 protected:
  Result<bool> send(std::span<const std::byte> frame) override {
    const long type = out_type_;
    std::memcpy(buf_.data(), &type, sizeof type);
    std::memcpy(buf_.data() + sizeof(long), frame.data(), frame.size());
    if (no_eintr(::msgsnd, id_, buf_.data(), frame.size(), 0) != 0) {
      if (errno == EIDRM) return false;
      return last_errno().fail("msgsnd", fmt::format("id {}", id_));
    }
    return true;
  }
  Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) override {
    // No MSG_NOERROR: a frame longer than expected fails with E2BIG instead of being cut.
    const ssize_t n = no_eintr(::msgrcv, id_, buf_.data(), buf.size(), in_type_, 0);
    if (n >= 0) {
      std::memcpy(buf.data(), buf_.data() + sizeof(long), static_cast<std::size_t>(n));
      return std::optional<std::size_t>(static_cast<std::size_t>(n));
    }
    if (errno == EIDRM) return std::optional<std::size_t>(0);
    return last_errno().fail("msgrcv", fmt::format("id {}", id_));
  }

 private:
  // Created and removed through ipckit's SysvMq; the data path calls msgsnd/msgrcv with one
  // preallocated buffer (SysvMq::receive() returns a new message object per call).
  SysvMq queue_;
  int id_ = -1;
  long out_type_ = 1;
  long in_type_ = 2;
  std::vector<std::byte> buf_;  // mtype + mtext, as msgsnd/msgrcv want them
};

class SysvMqMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "sysv-mq"; }
  std::string_view description() const noexcept override {
    return "one System V message queue, mtype 1 for frames and 2 for replies";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    const auto max = read_proc_number("/proc/sys/kernel/msgmax");
    if (max && size > *max) return fmt::format("msgmax={}", *max);
    const auto mnb = read_proc_number("/proc/sys/kernel/msgmnb");
    if (mnb && size > *mnb) return fmt::format("msgmnb={}", *mnb);
    return std::nullopt;
  }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto s = std::make_unique<SysvMqSession>();
    if (auto r = s->create(size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& sysv_mq_mechanism() {
  static const SysvMqMechanism m;
  return m;
}

}  // namespace ipckit::bench
