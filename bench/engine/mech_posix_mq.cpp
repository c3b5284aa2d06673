// SPDX-License-Identifier: Apache-2.0
// posix-mq: POSIX message queues (mq_open), one message per frame; a second queue carries replies
// for round trips. The parent creates each queue O_EXCL 0600 with msgsize = the frame size and as
// many slots as msg_max and RLIMIT_MSGQUEUE allow, the children open it by name, and the parent
// unlinks it once both have. Sizes above /proc/sys/fs/mqueue/msgsize_max are reported as limited
// (the bench never raises the limit). Blocking.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "engine/fd_session.hpp"
#include "engine/registry.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/message/posix_mq.hpp"

namespace ipckit::bench {
namespace {

class MqSession final : public TransportSession {
 public:
  MqSession() noexcept : TransportSession(Kind::kMessage, false) {}
  ~MqSession() override { remove(); }

  Result<void> create(Pattern pattern, std::size_t size) {
    const int queues = pattern == Pattern::kRtt ? 2 : 1;
    long maxmsg = static_cast<long>(read_proc_number("/proc/sys/fs/mqueue/msg_max").value_or(10));
    rlimit rl{};
    if (::getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      // Leave half the per-user budget to others; each message costs its size plus bookkeeping.
      const auto per = static_cast<rlim_t>(size + 64) * static_cast<rlim_t>(queues) * 2;
      maxmsg = std::min<long>(maxmsg, static_cast<long>(rl.rlim_cur / per));
    }
    maxmsg = std::clamp<long>(maxmsg, 1, 64);
    for (int i = 0; i < queues; ++i) {
      names_[i] = unique_object_name();
      display_ = names_[0];
      MqOptions o;
      o.open = OpenMode::kCreateExclusive;
      o.attributes.max_messages = maxmsg;
      o.attributes.message_size = static_cast<long>(size);
      auto q = PosixMq::open(names_[i], o);
      if (!q) {
        names_[i].clear();
        return fail(q.error());
      }
      parent_[i] = std::move(*q);
    }
    return {};
  }

  Result<void> prepare(Role role) override {
    for (auto& q : parent_) (void)q.close();
    const bool sender = role == Role::kSender;
    const bool rtt = !names_[1].empty();
    auto open_queue = [](const std::string& name, int access, PosixMq& q) -> Result<void> {
      MqOptions o;
      o.open = OpenMode::kOpenExisting;
      o.access = access;
      auto opened = PosixMq::open(name, o);
      if (!opened) return fail(opened.error());
      q = std::move(*opened);
      return {};
    };
    if (auto r = open_queue(names_[0], sender ? O_WRONLY : O_RDONLY, sender ? out_ : in_); !r) return r;
    if (rtt) {
      if (auto r = open_queue(names_[1], sender ? O_RDONLY : O_WRONLY, sender ? in_ : out_); !r) return r;
    }
    return {};
  }

  void after_ready() noexcept override { remove(); }

 protected:
  Result<bool> send(std::span<const std::byte> frame) override {
    if (auto r = out_.send(frame); !r) return fail(r.error());
    return true;
  }
  Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) override {
    // Straight into the frame buffer (PosixMq::receive() returns a new string per message, an
    // allocation the other mechanisms do not pay). mq_receive needs at least mq_msgsize bytes:
    // the frame size (buf is one byte larger).
    const ssize_t n =
        no_eintr(::mq_receive, in_.native_handle(), reinterpret_cast<char*>(buf.data()), buf.size(), nullptr);
    if (n >= 0) return std::optional<std::size_t>(static_cast<std::size_t>(n));
    return last_errno().fail("mq_receive", ipckit::quoted(display_));
  }

 private:
  void remove() noexcept {
    for (auto& n : names_) {
      if (!n.empty()) (void)PosixMq::unlink(n);
      n.clear();
    }
  }
  std::string names_[2];
  std::string display_;
  PosixMq parent_[2];
  PosixMq in_;
  PosixMq out_;
};

class PosixMqMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "posix-mq"; }
  std::string_view description() const noexcept override {
    return "POSIX message queue(s), msgsize = frame size, opened by name by each side";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Availability available() const override {
    const std::string name = unique_object_name();
    mq_attr attr{};
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 64;
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    if (q == static_cast<mqd_t>(-1)) return {false, last_errno().error("mq_open", ipckit::quoted(name)).str()};
    ::mq_close(q);
    ::mq_unlink(name.c_str());
    return {};
  }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    const auto max = read_proc_number("/proc/sys/fs/mqueue/msgsize_max");
    if (max && size > *max) return fmt::format("msgsize_max={}", *max);
    return std::nullopt;
  }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const override {
    auto s = std::make_unique<MqSession>();
    if (auto r = s->create(pattern, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& posix_mq_mechanism() {
  static const PosixMqMechanism m;
  return m;
}

}  // namespace ipckit::bench
