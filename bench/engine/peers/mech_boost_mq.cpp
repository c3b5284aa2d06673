// SPDX-License-Identifier: Apache-2.0
// boost-mq: Boost.Interprocess message_queue, depth 64, one message per frame; a second queue
// carries replies for round trips. The parent creates each queue (create_only, 0600, max_msg_size =
// the frame size) in /dev/shm under a unique name and drops its own mapping; each side opens it by
// name in prepare(), and the parent removes the names once both have (and again when the session
// ends, after a side was killed). Boost's queue is a mutex + two condition variables in the shared
// segment: both sides block in pthread_cond_wait. Boost reports errors by throwing
// interprocess_exception; every call is wrapped so that nothing escapes as an exception.
#include <memory>
#include <optional>
#include <string>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/permissions.hpp>

#include "engine/registry.hpp"
#include "engine/transport.hpp"

namespace ipckit::bench {
namespace {

namespace bip = boost::interprocess;

constexpr unsigned kDepth = 64;

Error boost_error(const char* call, const std::string& name, const bip::interprocess_exception& e) {
  const int native = e.get_native_error();
  if (native > 0) return Error::system(native, call, ipckit::quoted(name), e.what());
  return Error::library(LibraryCode::kNotAvailable, call, ipckit::quoted(name), e.what());
}

class BoostMqSession final : public TransportSession {
 public:
  BoostMqSession() noexcept : TransportSession(Kind::kMessage, false) {}
  ~BoostMqSession() override { remove(); }

  Result<void> create(Pattern pattern, std::size_t size) {
    const int queues = pattern == Pattern::kRtt ? 2 : 1;
    for (int i = 0; i < queues; ++i) {
      // "/ipckit.bench.<pid>.<n>" without the slash: Boost adds it for shm_open.
      names_[i] = unique_object_name().substr(1);
      try {
        bip::permissions perm(0600);
        // The parent's object is dropped at once: it only creates the named segment.
        bip::message_queue q(bip::create_only, names_[i].c_str(), kDepth, size, perm);
      } catch (const bip::interprocess_exception& e) {
        const std::string failed = names_[i];
        names_[i].clear();
        return fail(boost_error("message_queue(create_only)", failed, e));
      }
    }
    return {};
  }

  Result<void> prepare(Role role) override {
    const bool sender = role == Role::kSender;
    auto open_queue = [](const std::string& name, std::optional<bip::message_queue>& q) -> Result<void> {
      try {
        q.emplace(bip::open_only, name.c_str());
      } catch (const bip::interprocess_exception& e) {
        return fail(boost_error("message_queue(open_only)", name, e));
      }
      return {};
    };
    if (auto r = open_queue(names_[0], sender ? out_ : in_); !r) return r;
    if (!names_[1].empty()) {
      if (auto r = open_queue(names_[1], sender ? in_ : out_); !r) return r;
    }
    return {};
  }

  void after_ready() noexcept override { remove(); }

 protected:
  Result<bool> send(std::span<const std::byte> frame) override {
    try {
      out_->send(frame.data(), frame.size(), 0);  // blocks while the queue holds kDepth messages
    } catch (const bip::interprocess_exception& e) {
      return fail(boost_error("message_queue::send", "boost-mq", e));
    }
    return true;
  }
  Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) override {
    bip::message_queue::size_type got = 0;
    unsigned priority = 0;
    try {
      in_->receive(buf.data(), buf.size(), got, priority);  // blocks while the queue is empty
    } catch (const bip::interprocess_exception& e) {
      return fail(boost_error("message_queue::receive", "boost-mq", e));
    }
    return std::optional<std::size_t>(static_cast<std::size_t>(got));
  }

 private:
  void remove() noexcept {
    for (auto& n : names_) {
      if (!n.empty()) bip::message_queue::remove(n.c_str());  // noexcept in Boost: returns false on error
      n.clear();
    }
  }
  std::string names_[2];
  std::optional<bip::message_queue> in_;
  std::optional<bip::message_queue> out_;
};

class BoostMqMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "boost-mq"; }
  std::string_view description() const noexcept override {
    return "peer: Boost.Interprocess message_queue (depth 64, msg size = frame size), opened by name by each side";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const override {
    auto s = std::make_unique<BoostMqSession>();
    if (auto r = s->create(pattern, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& boost_mq_mechanism() {
  static const BoostMqMechanism m;
  return m;
}

}  // namespace ipckit::bench
