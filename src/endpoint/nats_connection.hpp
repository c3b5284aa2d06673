// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: one libnats connection for a nats: Sender or Receiver (nats_endpoint.cpp),
// with ipckit's choices made in one place: every server of the URL, TLS for nats+tls:, credentials
// from EndpointOptions::nats or the environment (nats_options.hpp), reconnect forever with
// exponential back-off (10 ms doubling to 2 s, plus up to 10 % jitter), an 8 MiB buffer for what is
// published while reconnecting, and the counters of NatsOptions::counters.
//
// libnats runs its own threads (reader, flusher, timers); the callbacks below run on them and touch
// only atomics. Thread safety: one NatsConnection is used by one thread (as Sender/Receiver are).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapters.hpp"

namespace ipckit::detail {

struct NatsMsgDeleter {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsMsgDeleter>;

struct NatsSubscriptionDeleter {
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using NatsSubscriptionPtr = std::unique_ptr<natsSubscription, NatsSubscriptionDeleter>;

// The error for a libnats call that failed with `status`: the call, the URL, libnats' own text (which
// holds no credentials), and a hint for the statuses a user can act on (TLS, auth, max_payload).
[[nodiscard]] Error nats_error(natsStatus status, std::string call, const Url& url);

class NatsConnection {
 public:
  // Connects to one of the URL's servers, retrying refused and unreachable servers until
  // options.open_timeout (then ETIMEDOUT naming the last attempt) or options.should_stop (ECANCELED).
  // Authorization and TLS failures are not retried: retrying cannot fix them.
  // `call` names the opener in the ETIMEDOUT error ("open_sender", "open_receiver").
  [[nodiscard]] static Result<NatsConnection> open(const Url& url, const EndpointOptions& options,
                                                   std::string_view call);

  NatsConnection(NatsConnection&&) noexcept;
  NatsConnection& operator=(NatsConnection&&) noexcept;
  ~NatsConnection();

  [[nodiscard]] natsConnection* get() const noexcept { return nc_; }
  // Closes the connection (libnats' threads stop delivering; the closed callback has run) but keeps
  // it allocated until destruction. A receiver calls it before destroying its subscriptions: libnats
  // 3.4's reader thread can still be handing a message to a subscription that natsSubscription_Destroy
  // frees beneath it (a SIGSEGV in natsConn_processMsg, seen when `recv --count` ended mid-stream).
  void close() noexcept;
  // The server's max_payload (1 MiB unless its configuration says otherwise).
  [[nodiscard]] std::int64_t max_payload() const noexcept;
  // Flushes what was published and waits for the server's PONG: everything published before has
  // reached the server. false: `deadline` passed first (a reconnect under way); error: closed.
  [[nodiscard]] Result<bool> flush_until(Deadline deadline) const;

  struct State;  // what libnats' callbacks see (nats_connection.cpp)

 private:
  NatsConnection(std::unique_ptr<State> state, natsOptions* opts, natsConnection* nc) noexcept;
  void reset() noexcept;

  std::unique_ptr<State> state_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  bool closing_done_ = false;          // close() ran
  bool closed_callback_seen_ = false;  // and libnats' closed callback came within its bound
};

// Milliseconds left until `deadline` for libnats' timeouts: at least 0, at most `cap_ms`.
[[nodiscard]] std::int64_t nats_timeout_ms(Deadline deadline, std::int64_t cap_ms) noexcept;

}  // namespace ipckit::detail
