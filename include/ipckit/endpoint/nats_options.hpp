// SPDX-License-Identifier: Apache-2.0
// What the nats: endpoint needs beyond the URL (docs/bridge.md): credentials and TLS files, which
// never travel in a URL (a command line shows in ps and /proc/PID/cmdline), and the counters a
// bridge reads. Empty credentials fields fall back to the environment:
//   IPCKIT_NATS_TOKEN                          a token (server `authorization { token: ... }`)
//   IPCKIT_NATS_USER, IPCKIT_NATS_PASSWORD     user and password
//   IPCKIT_NATS_CREDS                          a .creds file (JWT + nkey seed)
//   IPCKIT_NATS_CA, IPCKIT_NATS_CERT, IPCKIT_NATS_KEY   nats+tls: trusted CAs, client certificate and key
// Credentials are never printed or logged: errors name which of them was used, never its value.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "ipckit/core/error.hpp"  // IPCKIT_API

namespace ipckit {

/// True when this libipckit was built with libnats (IPCKIT_WITH_NATS and libnats-dev found); without
/// it, opening a nats: URL fails with kNotAvailable saying so.
[[nodiscard]] IPCKIT_API bool nats_built_in() noexcept;

/// Filled by the nats: endpoint while it runs; read from any thread (relaxed: plain event counts
/// with no data published through them).
struct NatsCounters {
  std::atomic<std::uint64_t> disconnects{0};  ///< connection to the server lost
  std::atomic<std::uint64_t> reconnects{0};   ///< connection re-established (libnats resubscribes)
  std::atomic<std::uint64_t> lost{0};         ///< receiver: messages missing from a session's sequence
  std::atomic<std::uint64_t> dropped{0};      ///< receiver: dropped by libnats as a slow consumer
  std::atomic<std::uint64_t> duplicates{0};   ///< receiver: a sequence number seen again, not handed on
                                              ///< (core NATS does not redeliver; JetStream would)
};

/// What the nats: endpoint needs beyond the URL: credentials and TLS files (never in a URL, never
/// printed or logged) and the counters. Each empty credentials field falls back to its environment
/// variable.
struct NatsOptions {
  std::string token;  ///< a token (server `authorization { token: ... }`); empty: IPCKIT_NATS_TOKEN
  std::string user;  ///< user name; empty: IPCKIT_NATS_USER
  std::string password;  ///< password (needs a user); empty: IPCKIT_NATS_PASSWORD
  std::string creds_file;  ///< a .creds file (JWT + nkey seed); empty: IPCKIT_NATS_CREDS
  std::string ca_file;  ///< nats+tls: trusted CAs; empty: IPCKIT_NATS_CA
  std::string cert_file;  ///< nats+tls: client certificate; empty: IPCKIT_NATS_CERT
  std::string key_file;  ///< nats+tls: client key; empty: IPCKIT_NATS_KEY
  /// A receiver skips messages published by a nats: sender of this process (`bridge --both-ways` on a
  /// NATS side, whose two directions would otherwise feed each other).
  bool ignore_own_senders = false;
  /// When set, the endpoint counts into it (the bridge's counters).
  std::shared_ptr<NatsCounters> counters;
};

}  // namespace ipckit
