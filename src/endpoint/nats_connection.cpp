// SPDX-License-Identifier: Apache-2.0
#include "nats_connection.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ipckit/core/units.hpp"

namespace ipckit::detail {
namespace {

// libnats' connect timeout per server: long enough for a remote host, short enough that an
// unreachable one leaves room for the next server and for the open timeout.
constexpr std::int64_t kConnectTimeoutMs = 2000;
// What libnats keeps of what is published while it reconnects; beyond it a send waits (kTimedOut).
constexpr int kReconnectBuffer = 8 << 20;
constexpr std::int64_t kBackoffFirstMs = 10;
constexpr std::int64_t kBackoffMaxMs = 2000;

// A credential: the option if given, else the environment variable, else "".
std::string credential(const std::string& option, const char* env) {
  if (!option.empty()) return option;
  const char* v = std::getenv(env);
  return v != nullptr ? std::string(v) : std::string();
}

// Status, last error text: libnats' thread-local detail of the call that just failed.
std::string nats_text(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  const char* last_c = nats_GetLastError(nullptr);
  std::string_view last = last_c != nullptr ? last_c : "";
  // libnats prefixes its detail with its source position, "(conn.c:1905): ": not for users.
  if (!last.empty() && last.front() == '(') {
    if (auto close = last.find("): "); close != std::string_view::npos) last.remove_prefix(close + 3);
  }
  if (!last.empty() && last != text) text += fmt::format(" ({})", last);
  return text;
}

}  // namespace

std::int64_t nats_timeout_ms(Deadline deadline, std::int64_t cap_ms) noexcept {
  if (deadline == kNoDeadline) return cap_ms;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(remaining(deadline)).count();
  return std::clamp<std::int64_t>(left, 0, cap_ms);
}

Error nats_error(natsStatus status, std::string call, const Url& url) {
  const std::string text = nats_text(status);
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
      return Error::system(EACCES, std::move(call), url_object(url),
                               fmt::format("{}: the server refused the credentials, or wants some: give a token in "
                                           "IPCKIT_NATS_TOKEN, a user and password in IPCKIT_NATS_USER and "
                                           "IPCKIT_NATS_PASSWORD, or a creds file in IPCKIT_NATS_CREDS",
                                           text));
    case NATS_SECURE_CONNECTION_REQUIRED:
      return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url),
                                 fmt::format("{}: the server requires TLS: write nats+tls: instead of nats:", text));
    case NATS_SECURE_CONNECTION_WANTED:
      return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url),
                                 fmt::format("{}: the server does not offer TLS: write nats: instead of nats+tls:", text));
    case NATS_SSL_ERROR:
      if (!url.tls) {
        // libnats upgrades a nats: connection to TLS by itself when the server requires it, so a
        // plain URL meets the server's certificate (and fails on it) instead of "TLS required".
        return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url),
                              fmt::format("{}: the server requires TLS: write nats+tls: instead of nats:, with "
                                          "the server's CA in IPCKIT_NATS_CA unless the system trusts it",
                                          text));
      }
      return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url),
                                 fmt::format("{}: check the server's certificate against IPCKIT_NATS_CA (and "
                                             "IPCKIT_NATS_CERT/IPCKIT_NATS_KEY when it wants a client certificate)",
                                             text));
    case NATS_CONNECTION_CLOSED:
      return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url),
                                 fmt::format("{}: the connection to the server was closed", text));
    default:
      return Error::library(LibraryCode::kProtocol, std::move(call), url_object(url), text);
  }
}

// What libnats' callbacks see (their closure). libnats delivers callbacks on its own dispatcher
// thread, possibly after natsConnection_Close returned; the closed callback is the last one for a
// connection, so reset() waits for it before freeing this.
struct NatsConnection::State {
  Url url;
  std::shared_ptr<NatsCounters> counters;
  std::mutex mutex;
  std::condition_variable cv;
  bool closed = false;  // guarded by mutex
};

namespace {

using State = NatsConnection::State;

extern "C" void on_disconnected(natsConnection* /*nc*/, void* closure) {
  auto* state = static_cast<State*>(closure);
  if (state->counters) state->counters->disconnects.fetch_add(1, std::memory_order_relaxed);  // a count only
}

extern "C" void on_reconnected(natsConnection* /*nc*/, void* closure) {
  auto* state = static_cast<State*>(closure);
  if (state->counters) state->counters->reconnects.fetch_add(1, std::memory_order_relaxed);  // a count only
}

extern "C" void on_closed(natsConnection* /*nc*/, void* closure) {
  auto* state = static_cast<State*>(closure);
  const std::lock_guard<std::mutex> lock(state->mutex);
  state->closed = true;
  state->cv.notify_all();
}

// libnats calls this after each full pass over the server list that failed: 10 ms doubling to 2 s,
// plus up to 10 % jitter so that many bridges do not come back in lockstep.
extern "C" int64_t reconnect_delay(natsConnection* /*nc*/, int attempts, void* /*closure*/) {
  const int shift = std::clamp(attempts - 1, 0, 10);
  const std::int64_t base = std::min(kBackoffMaxMs, kBackoffFirstMs << shift);
  std::uint16_t r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof r)) r = 0;
  return base + static_cast<std::int64_t>(r % (base / 10 + 1));
}

}  // namespace

Result<NatsConnection> NatsConnection::open(const Url& url, const EndpointOptions& options, std::string_view call) {
  auto state = std::make_unique<State>();
  state->url = url;
  state->counters = options.nats.counters;
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) return fail(nats_error(s, "natsOptions_Create", url));
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw, &natsOptions_Destroy);

  std::vector<std::string> servers;
  for (const auto& hp : url.servers) servers.push_back((url.tls ? "tls://" : "nats://") + hp);
  std::vector<const char*> server_ptrs;
  for (const auto& s : servers) server_ptrs.push_back(s.c_str());

  const std::string token = credential(options.nats.token, "IPCKIT_NATS_TOKEN");
  const std::string user = credential(options.nats.user, "IPCKIT_NATS_USER");
  const std::string password = credential(options.nats.password, "IPCKIT_NATS_PASSWORD");
  const std::string creds = credential(options.nats.creds_file, "IPCKIT_NATS_CREDS");
  const std::string ca = credential(options.nats.ca_file, "IPCKIT_NATS_CA");
  const std::string cert = credential(options.nats.cert_file, "IPCKIT_NATS_CERT");
  const std::string key = credential(options.nats.key_file, "IPCKIT_NATS_KEY");
  if (!password.empty() && user.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, "nats options", url_object(url),
                        "a password (IPCKIT_NATS_PASSWORD) without a user: set IPCKIT_NATS_USER too");
  }
  if (cert.empty() != key.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, "nats options", url_object(url),
                        "a client certificate needs both IPCKIT_NATS_CERT and IPCKIT_NATS_KEY");
  }
  if ((!ca.empty() || !cert.empty()) && !url.tls) {
    return fail_library(LibraryCode::kInvalidArgument, "nats options", url_object(url),
                        "TLS files are set (IPCKIT_NATS_CA/CERT/KEY) but the URL is nats:, not nats+tls:");
  }

  // Each step names itself on failure; the values (credentials) never appear in an error.
  auto check = [&](natsStatus s, const char* what) -> Result<void> {
    if (s == NATS_OK) return {};
    return fail(nats_error(s, what, url));
  };
  const std::int64_t connect_ms =
      std::max<std::int64_t>(1, std::min<std::int64_t>(kConnectTimeoutMs, options.open_timeout.count()));
  if (auto r = check(natsOptions_SetServers(opts.get(), server_ptrs.data(), static_cast<int>(server_ptrs.size())),
                     "natsOptions_SetServers");
      !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetName(opts.get(), "ipckit"), "natsOptions_SetName"); !r) return fail(r.error());
  if (auto r = check(natsOptions_SetTimeout(opts.get(), connect_ms), "natsOptions_SetTimeout"); !r) return fail(r.error());
  if (auto r = check(natsOptions_SetAllowReconnect(opts.get(), true), "natsOptions_SetAllowReconnect"); !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetMaxReconnect(opts.get(), -1), "natsOptions_SetMaxReconnect"); !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetCustomReconnectDelay(opts.get(), &reconnect_delay, nullptr),
                     "natsOptions_SetCustomReconnectDelay");
      !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetReconnectBufSize(opts.get(), kReconnectBuffer), "natsOptions_SetReconnectBufSize");
      !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetDisconnectedCB(opts.get(), &on_disconnected, state.get()),
                     "natsOptions_SetDisconnectedCB");
      !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetReconnectedCB(opts.get(), &on_reconnected, state.get()),
                     "natsOptions_SetReconnectedCB");
      !r) {
    return fail(r.error());
  }
  if (auto r = check(natsOptions_SetClosedCB(opts.get(), &on_closed, state.get()), "natsOptions_SetClosedCB"); !r) {
    return fail(r.error());
  }
  if (!token.empty()) {
    if (auto r = check(natsOptions_SetToken(opts.get(), token.c_str()), "natsOptions_SetToken (IPCKIT_NATS_TOKEN)"); !r) {
      return fail(r.error());
    }
  }
  if (!user.empty()) {
    if (auto r = check(natsOptions_SetUserInfo(opts.get(), user.c_str(), password.empty() ? nullptr : password.c_str()),
                       "natsOptions_SetUserInfo (IPCKIT_NATS_USER)");
        !r) {
      return fail(r.error());
    }
  }
  if (!creds.empty()) {
    if (auto r = check(natsOptions_SetUserCredentialsFromFiles(opts.get(), creds.c_str(), nullptr),
                       "natsOptions_SetUserCredentialsFromFiles (IPCKIT_NATS_CREDS)");
        !r) {
      return fail(r.error());
    }
  }
  if (url.tls) {
    if (auto r = check(natsOptions_SetSecure(opts.get(), true), "natsOptions_SetSecure"); !r) return fail(r.error());
    if (!ca.empty()) {
      if (auto r = check(natsOptions_LoadCATrustedCertificates(opts.get(), ca.c_str()),
                         "natsOptions_LoadCATrustedCertificates (IPCKIT_NATS_CA)");
          !r) {
        return fail(r.error());
      }
    }
    if (!cert.empty()) {
      if (auto r = check(natsOptions_LoadCertificatesChain(opts.get(), cert.c_str(), key.c_str()),
                         "natsOptions_LoadCertificatesChain (IPCKIT_NATS_CERT, IPCKIT_NATS_KEY)");
          !r) {
        return fail(r.error());
      }
    }
  }

  std::optional<Error> last;
  auto connected = retry_until<natsConnection*>(url, options, [&]() -> Result<std::optional<natsConnection*>> {
    natsConnection* nc = nullptr;
    const natsStatus s = natsConnection_Connect(&nc, opts.get());
    if (s == NATS_OK) return std::optional<natsConnection*>(nc);
    // No server reachable (refused, unreachable, timed out): the server may be starting. Anything
    // else (authorization, TLS) would fail the same way again.
    if (s == NATS_NO_SERVER || s == NATS_IO_ERROR || s == NATS_TIMEOUT) {
      last = nats_error(s, "natsConnection_Connect", url);
      return std::optional<natsConnection*>();
    }
    return fail(nats_error(s, "natsConnection_Connect", url));
  });
  if (!connected) return fail(connected.error());
  if (!*connected) {
    return fail_errno(ETIMEDOUT, std::string(call), url_object(url),
                      fmt::format("no NATS server reachable at {} after {} (raise it with --timeout, e.g. --timeout "
                                  "1m or inf){}",
                                  fmt::join(url.servers, ","), format_duration(options.open_timeout),
                                  last ? "; last attempt: " + last->str() : std::string()));
  }
  if (options.verbose) {
    char where[256] = {};
    if (natsConnection_GetConnectedUrl(**connected, where, sizeof where) == NATS_OK) {
      options.verbose(fmt::format("connected to {} (max_payload {})", where,
                                  format_size(static_cast<std::uint64_t>(natsConnection_GetMaxPayload(**connected)))));
    }
  }
  return NatsConnection(std::move(state), opts.release(), **connected);
}

NatsConnection::NatsConnection(std::unique_ptr<State> state, natsOptions* opts, natsConnection* nc) noexcept
    : state_(std::move(state)), opts_(opts), nc_(nc) {}

NatsConnection::NatsConnection(NatsConnection&& other) noexcept
    : state_(std::move(other.state_)), opts_(std::exchange(other.opts_, nullptr)), nc_(std::exchange(other.nc_, nullptr)),
      closing_done_(std::exchange(other.closing_done_, false)),
      closed_callback_seen_(std::exchange(other.closed_callback_seen_, false)) {}

NatsConnection& NatsConnection::operator=(NatsConnection&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    opts_ = std::exchange(other.opts_, nullptr);
    nc_ = std::exchange(other.nc_, nullptr);
    closing_done_ = std::exchange(other.closing_done_, false);
    closed_callback_seen_ = std::exchange(other.closed_callback_seen_, false);
  }
  return *this;
}

NatsConnection::~NatsConnection() { reset(); }

void NatsConnection::close() noexcept {
  if (nc_ == nullptr || closing_done_) return;
  closing_done_ = true;
  natsConnection_Close(nc_);
  // The closed callback comes last and on libnats' dispatcher thread; state_ (its closure) must
  // outlive it. It comes within milliseconds; the bound only keeps a broken library from hanging us
  // (then state_ is left allocated rather than freed under a running callback).
  std::unique_lock<std::mutex> lock(state_->mutex);
  closed_callback_seen_ = state_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return state_->closed; });
}

void NatsConnection::reset() noexcept {
  if (nc_ != nullptr) {
    close();
    natsConnection_Destroy(std::exchange(nc_, nullptr));
    if (!closed_callback_seen_) (void)state_.release();
  }
  if (opts_ != nullptr) natsOptions_Destroy(std::exchange(opts_, nullptr));
  state_.reset();
  closing_done_ = false;
  closed_callback_seen_ = false;
}

std::int64_t NatsConnection::max_payload() const noexcept { return natsConnection_GetMaxPayload(nc_); }

Result<bool> NatsConnection::flush_until(Deadline deadline) const {
  for (;;) {
    const natsStatus s = natsConnection_FlushTimeout(nc_, std::max<std::int64_t>(1, nats_timeout_ms(deadline, 1000)));
    if (s == NATS_OK) return true;
    if (s != NATS_TIMEOUT && s != NATS_CONNECTION_DISCONNECTED) {
      return fail(nats_error(s, "natsConnection_FlushTimeout", state_->url));
    }
    // NATS_CONNECTION_DISCONNECTED: the connection was lost while the PING was out (libnats does
    // not carry it over a reconnect). What was published waits in the reconnect buffer: ask again.
    if (Clock::now() >= deadline) return false;
    if (s == NATS_CONNECTION_DISCONNECTED) {
      std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(5), remaining(deadline)));
    }
  }
}

}  // namespace ipckit::detail
