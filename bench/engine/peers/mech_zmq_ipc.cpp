// SPDX-License-Identifier: Apache-2.0
// zmq-ipc: ZeroMQ over ipc:// (a Unix stream socket file), one zmq message per frame. Throughput uses
// PUSH (sender) -> PULL (receiver); round trips use REQ (client) <-> REP (server). The parent only
// picks the socket path (/tmp/ipckit.bench.<pid>.<n>.zmq); each side creates its own context in its
// child (a zmq context must never cross fork()), the receiver binds, the sender waits (in prepare(),
// at most 5 s) until the socket file exists and then connects: a connect issued before the bind was
// seen to stay unconnected for seconds on a loaded machine, although zmq retries in the background
// (ZMQ_RECONNECT_IVL, set to 1 ms). High-water marks are 64 messages per socket (the
// depth of the other queues). The sender's end waits until the receiver has disconnected (a socket
// monitor's ZMQ_EVENT_DISCONNECTED, at most 5 s) before it closes: a PUSH that disconnects while the
// PULL side sits at its high-water mark loses what is still in the kernel's buffer, end frame
// included (seen here on a loaded machine), and the receiver would wait for it forever. Then it
// closes its socket and terminates the context (ZMQ_LINGER 2 s at most). The parent removes the socket
// file when the session ends. Driven through libzmq's C API, whose errors are values (errno).
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "engine/transport.hpp"

namespace ipckit::bench {
namespace {

Error zmq_failure(const char* call, const std::string& endpoint) {
  const int err = zmq_errno();
  return Error::system(err, call, ipckit::quoted(endpoint), zmq_strerror(err));
}

class ZmqSession final : public TransportSession {
 public:
  ZmqSession() noexcept : TransportSession(Kind::kMessage, false) {}
  ~ZmqSession() override {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  void create(Pattern pattern) {
    rtt_ = pattern == Pattern::kRtt;
    path_ = "/tmp" + unique_object_name() + ".zmq";
    endpoint_ = "ipc://" + path_;
  }

  Result<void> prepare(Role role) override {
    const bool sender = role == Role::kSender;
    ctx_ = zmq_ctx_new();
    if (ctx_ == nullptr) return fail(zmq_failure("zmq_ctx_new", endpoint_));
    const int type = rtt_ ? (sender ? ZMQ_REQ : ZMQ_REP) : (sender ? ZMQ_PUSH : ZMQ_PULL);
    sock_ = zmq_socket(ctx_, type);
    if (sock_ == nullptr) return fail(zmq_failure("zmq_socket", endpoint_));
    const int hwm = 64;
    const int reconnect_ms = 1;
    const int linger_ms = 2000;
    for (auto [opt, value] : {std::pair{ZMQ_SNDHWM, hwm}, std::pair{ZMQ_RCVHWM, hwm},
                              std::pair{ZMQ_RECONNECT_IVL, reconnect_ms}, std::pair{ZMQ_LINGER, linger_ms}}) {
      if (zmq_setsockopt(sock_, opt, &value, sizeof value) != 0) return fail(zmq_failure("zmq_setsockopt", endpoint_));
    }
    if (sender) {
      const std::uint64_t deadline = SideClock::now_ns() + 5'000'000'000ULL;
      struct stat st {};
      while (::stat(path_.c_str(), &st) != 0) {
        if (SideClock::now_ns() > deadline) {
          return fail_library(LibraryCode::kNotReady, "zmq_connect", ipckit::quoted(endpoint_),
                              "the receiver did not bind within 5 s");
        }
        ::poll(nullptr, 0, 1);
      }
      if (zmq_socket_monitor(sock_, "inproc://ipckit-bench-monitor", ZMQ_EVENT_DISCONNECTED) != 0) {
        return fail(zmq_failure("zmq_socket_monitor", endpoint_));
      }
      monitor_ = zmq_socket(ctx_, ZMQ_PAIR);
      if (monitor_ == nullptr) return fail(zmq_failure("zmq_socket", endpoint_));
      const int timeout_ms = 5000;
      if (zmq_setsockopt(monitor_, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) != 0 ||
          zmq_connect(monitor_, "inproc://ipckit-bench-monitor") != 0) {
        return fail(zmq_failure("zmq_connect", "inproc://ipckit-bench-monitor"));
      }
      if (zmq_connect(sock_, endpoint_.c_str()) != 0) return fail(zmq_failure("zmq_connect", endpoint_));
    } else {
      if (zmq_bind(sock_, endpoint_.c_str()) != 0) return fail(zmq_failure("zmq_bind", endpoint_));
    }
    return {};
  }

 protected:
  Result<bool> send(std::span<const std::byte> frame) override {
    while (zmq_send(sock_, frame.data(), frame.size(), 0) < 0) {
      if (zmq_errno() != EINTR) return fail(zmq_failure("zmq_send", endpoint_));
    }
    return true;
  }
  Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) override {
    for (;;) {
      // Returns the message's whole length even when it was truncated to buf: check_frame sees it.
      const int n = zmq_recv(sock_, buf.data(), buf.size(), 0);
      if (n >= 0) return std::optional<std::size_t>(static_cast<std::size_t>(n));
      if (zmq_errno() != EINTR) return fail(zmq_failure("zmq_recv", endpoint_));
    }
  }
  Result<void> finish_sending() override {
    // Wait for the receiver to leave (it does after the end frame, or when it dies): each event is
    // two parts, the event word and the endpoint. A time-out (EAGAIN) ends the wait too.
    for (bool disconnected = false; !disconnected;) {
      char event[16];
      const int n = zmq_recv(monitor_, event, sizeof event, 0);
      if (n < 0) {
        if (zmq_errno() == EINTR) continue;
        break;
      }
      std::uint16_t id = 0;
      if (n >= 2) std::memcpy(&id, event, sizeof id);
      disconnected = id == ZMQ_EVENT_DISCONNECTED;
      int more = 0;
      std::size_t more_size = sizeof more;
      while (zmq_getsockopt(monitor_, ZMQ_RCVMORE, &more, &more_size) == 0 && more) {
        char endpoint[256];
        if (zmq_recv(monitor_, endpoint, sizeof endpoint, 0) < 0 && zmq_errno() != EINTR) break;
      }
    }
    zmq_close(monitor_);
    monitor_ = nullptr;
    zmq_close(sock_);
    sock_ = nullptr;
    while (zmq_ctx_term(ctx_) != 0) {  // waits for the end frame to leave (bounded by ZMQ_LINGER)
      if (zmq_errno() != EINTR) return fail(zmq_failure("zmq_ctx_term", endpoint_));
    }
    ctx_ = nullptr;
    return {};
  }

 private:
  bool rtt_ = false;
  std::string path_;
  std::string endpoint_;
  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  void* monitor_ = nullptr;
};

class ZmqIpcMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "zmq-ipc"; }
  std::string_view description() const noexcept override {
    return "peer: ZeroMQ ipc:// (PUSH/PULL throughput, REQ/REP round trips, HWM 64), libzmq C API";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t) const override {
    auto s = std::make_unique<ZmqSession>();
    s->create(pattern);
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& zmq_ipc_mechanism() {
  static const ZmqIpcMechanism m;
  return m;
}

}  // namespace ipckit::bench
