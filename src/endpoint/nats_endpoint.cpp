// SPDX-License-Identifier: Apache-2.0
// nats:HOST:PORT[,HOST:PORT...]/SUBJECT[?queue=NAME] and nats+tls:…: core NATS through libnats
// (docs/bridge.md). Core NATS delivers at most once, so loss must be seen rather than hidden: every
// message of a sender's session carries headers
//   Ipckit-Session: 16 hex digits (a random id, new per sender)
//   Ipckit-Seq:     1, 2, 3, ... (the message's number in the session)
// and the session is bracketed by two empty messages with Ipckit-Kind: begin (sent at open) and
// Ipckit-Kind: end (finish_until, whose Ipckit-Seq is the number of messages sent). A receiver counts
// per session what arrived; at the end, messages missing from the sequence are an error naming how
// many were lost. The payload is never touched, so any bytes (even the 56-byte session markers of
// other schemes) travel as they are, and a NATS program of the user's own reads plain messages.
//
// Markers are published on the subject and again on the control subject "_IPCKIT.CTL.<subject>":
// a queue group (?queue=) shares the subject's messages among its members, so only one of them would
// see the end; every member also subscribes to the control subject (plainly, not in the group). Both
// subscriptions share one connection, and NATS keeps one publisher's order on one connection, so the
// end on the control subject comes after every message that member was given.
//
// With --raw or --no-end-marker (no markers): plain messages, no headers, no end; marker messages
// another ipckit sender publishes are skipped, not handed on as empty messages.
#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "adapters.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/session_marker.hpp"
#include "nats_connection.hpp"

namespace ipckit {

bool nats_built_in() noexcept { return true; }

namespace detail {
namespace {

constexpr const char* kSessionHeader = "Ipckit-Session";
constexpr const char* kSeqHeader = "Ipckit-Seq";
constexpr const char* kKindHeader = "Ipckit-Kind";
constexpr std::string_view kControlPrefix = "_IPCKIT.CTL.";
// What the three headers take of max_payload at most ("NATS/1.0\r\n", the two headers with a 16-digit
// id and a 20-digit number, the final CRLF: about 80 bytes), rounded up.
constexpr std::size_t kHeaderReserve = 128;
// A sender flushes (one PING/PONG round trip) after this many messages or bytes, so it runs at most
// this far ahead of the server: the bounded in-flight window. A receiver's pending limits in libnats:
// beyond them it drops as a slow consumer (counted, and seen as a gap).
constexpr std::uint64_t kWindowMessages = 1024;
constexpr std::uint64_t kWindowBytes = std::uint64_t{1} << 20;
constexpr int kPendingBytes = 256 << 20;
// How often a queue-group receiver looks at its control subscription while the data one is quiet.
constexpr std::int64_t kControlPollMs = 20;
// The longest single libnats wait, so a kNoDeadline receive still loops (and a closed connection is seen).
constexpr std::int64_t kMaxWaitMs = 1000;

std::string control_subject(const std::string& subject) { return std::string(kControlPrefix) + subject; }

// Sessions of the nats: senders in this process (NatsOptions::ignore_own_senders).
std::mutex g_own_mutex;
std::set<std::uint64_t> g_own_sessions;  // guarded by g_own_mutex

bool is_own_session(std::uint64_t id) {
  const std::lock_guard<std::mutex> lock(g_own_mutex);
  return g_own_sessions.count(id) != 0;
}

std::optional<std::string_view> header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == nullptr) return std::nullopt;
  return std::string_view(v);
}

template <class T>
std::optional<T> parse_number(std::optional<std::string_view> text, int base) {
  if (!text || text->empty()) return std::nullopt;
  T v{};
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v, base);
  if (ec != std::errc() || p != text->data() + text->size()) return std::nullopt;
  return v;
}

enum class Kind : std::uint8_t { kData, kBegin, kEnd };

// The session headers of `m`; nullopt for a plain message (no Ipckit-Session), e.g. from another program.
struct Stamp {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Kind kind = Kind::kData;
};
std::optional<Stamp> stamp_of(natsMsg* m) {
  auto session = parse_number<std::uint64_t>(header(m, kSessionHeader), 16);
  auto seq = parse_number<std::uint64_t>(header(m, kSeqHeader), 10);
  if (!session || !seq) return std::nullopt;
  Stamp s{*session, *seq, Kind::kData};
  if (auto k = header(m, kKindHeader)) {
    if (*k == "begin") s.kind = Kind::kBegin;
    if (*k == "end") s.kind = Kind::kEnd;
  }
  return s;
}

Unexpected nats_too_large(const Url& url, std::size_t size, std::int64_t max_payload, bool markers) {
  return fail_library(LibraryCode::kTooLarge, "send", url_object(url),
                      fmt::format("message of {} bytes > the server's max_payload {} ({} B){}: raise max_payload in "
                                  "the nats-server configuration (e.g. max_payload: 8MB; the server allows up to 64 MiB) "
                                  "or send smaller messages",
                                  size, format_size(static_cast<std::uint64_t>(max_payload)), max_payload,
                                  markers ? fmt::format(" less {} B for ipckit's session headers", kHeaderReserve) : ""));
}

class NatsSender final : public Sender {
 public:
  NatsSender(Url url, const EndpointOptions& options, NatsConnection conn, std::uint64_t session)
      : Sender(std::move(url)), conn_(std::move(conn)), markers_(uses_end_marker(this->url(), options)),
        session_(session), session_hex_(fmt::format("{:016x}", session)), control_(control_subject(this->url().subject)) {
    max_payload_ = conn_.max_payload();
    const std::size_t reserve = markers_ ? kHeaderReserve : 0;
    data_limit_ = max_payload_ > static_cast<std::int64_t>(reserve) ? static_cast<std::size_t>(max_payload_) - reserve : 0;
    max_ = options.max_message != 0 ? options.max_message : data_limit_;
    if (markers_) {
      const std::lock_guard<std::mutex> lock(g_own_mutex);
      g_own_sessions.insert(session_);
    }
  }
  ~NatsSender() override {
    const std::lock_guard<std::mutex> lock(g_own_mutex);
    g_own_sessions.erase(session_);
  }
  NatsSender(const NatsSender&) = delete;
  NatsSender& operator=(const NatsSender&) = delete;

  // The begin marker, flushed: once open returns, the server has it (a --ready-fd byte means so).
  [[nodiscard]] Result<void> begin(Deadline deadline) {
    if (!markers_) return {};
    auto r = publish_marker("begin", 0, deadline);
    if (!r) return fail(r.error());
    if (!*r) {
      return fail_errno(ETIMEDOUT, "open_sender", url_object(url()),
                        "the connection to the server was lost and did not come back before the open timeout");
    }
    auto f = conn_.flush_until(deadline);
    if (!f) return fail(f.error());
    return {};  // a begin not yet flushed goes with the next flush
  }

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    if (message.size() > data_limit_) return nats_too_large(url(), message.size(), max_payload_, markers_);
    if (message.size() > max_) {
      return fail_library(LibraryCode::kTooLarge, "send", url_object(url()),
                          fmt::format("message of {} bytes > max message size {} (raise it with --size, up to the "
                                      "server's max_payload {})",
                                      message.size(), max_, format_size(static_cast<std::uint64_t>(max_payload_))));
    }
    // The window: flush before taking more, so a flush that times out leaves this message unsent
    // (kTimedOut: the caller repeats it) rather than sent twice.
    if (window_messages_ >= kWindowMessages || window_bytes_ >= kWindowBytes) {
      auto f = conn_.flush_until(deadline);
      if (!f) return fail(f.error());
      if (!*f) return SendStatus::kTimedOut;
      window_messages_ = 0;
      window_bytes_ = 0;
    }
    for (;;) {
      natsMsg* raw = nullptr;
      natsStatus s = natsMsg_Create(&raw, url().subject.c_str(), nullptr, reinterpret_cast<const char*>(message.data()),
                                    static_cast<int>(message.size()));
      if (s != NATS_OK) return fail(nats_error(s, "natsMsg_Create", url()));
      NatsMsgPtr m(raw);
      if (markers_) {
        const std::string seq = std::to_string(seq_ + 1);
        s = natsMsgHeader_Set(m.get(), kSessionHeader, session_hex_.c_str());
        if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kSeqHeader, seq.c_str());
        if (s != NATS_OK) return fail(nats_error(s, "natsMsgHeader_Set", url()));
      }
      s = natsConnection_PublishMsg(conn_.get(), m.get());
      if (s == NATS_OK) {
        ++seq_;
        ++window_messages_;
        window_bytes_ += message.size();
        return SendStatus::kOk;
      }
      if (s == NATS_MAX_PAYLOAD) return nats_too_large(url(), message.size(), max_payload_, markers_);
      if (!publish_may_succeed_later(s)) return fail(nats_error(s, "natsConnection_PublishMsg", url()));
      // The same message again, with the same Ipckit-Seq: if the failed attempt reached the server
      // after all, the receiver drops the repeat (a sequence number it has seen) and counts it.
      if (Clock::now() >= deadline) return SendStatus::kTimedOut;
      std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(5), remaining(deadline)));
    }
  }

  [[nodiscard]] Result<SendStatus> finish_until(Deadline deadline) override {
    if (markers_ && !ended_) {
      // Ipckit-Seq of the end = how many messages the session sent.
      auto r = publish_marker("end", seq_, deadline);
      if (!r) return fail(r.error());
      if (!*r) return SendStatus::kTimedOut;  // asked again, both copies are published again (a
                                              // receiver ends a session once)
      ended_ = true;
    }
    auto f = conn_.flush_until(deadline);
    if (!f) return fail(f.error());
    if (!*f) return SendStatus::kTimedOut;
    return SendStatus::kOk;
  }

  [[nodiscard]] std::size_t max_message_size() const noexcept override { return std::min(max_, data_limit_); }

 private:
  // A publish that failed this way may succeed once libnats has reconnected: its reconnect buffer
  // was full, or the write met the dead socket before libnats noticed the server was gone
  // (NATS_IO_ERROR "send error: 32", EPIPE, seen when the server was killed mid-stream).
  static bool publish_may_succeed_later(natsStatus s) {
    return s == NATS_INSUFFICIENT_BUFFER || s == NATS_IO_ERROR || s == NATS_CONNECTION_DISCONNECTED;
  }

  // An empty message with the three headers, on the subject and the control subject. false: the
  // deadline passed while the connection was down.
  Result<bool> publish_marker(const char* kind, std::uint64_t seq, Deadline deadline) {
    const std::string seq_text = std::to_string(seq);
    const std::string* const subjects[] = {&url().subject, &control_};
    for (const std::string* subject : subjects) {
      natsMsg* raw = nullptr;
      natsStatus s = natsMsg_Create(&raw, subject->c_str(), nullptr, nullptr, 0);
      if (s != NATS_OK) return fail(nats_error(s, "natsMsg_Create", url()));
      NatsMsgPtr m(raw);
      s = natsMsgHeader_Set(m.get(), kSessionHeader, session_hex_.c_str());
      if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kSeqHeader, seq_text.c_str());
      if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kKindHeader, kind);
      if (s != NATS_OK) return fail(nats_error(s, "natsMsgHeader_Set", url()));
      // A marker waits for the connection like a message would (a repeated marker is harmless:
      // a receiver counts a session's begin and end once).
      for (;;) {
        s = natsConnection_PublishMsg(conn_.get(), m.get());
        if (!publish_may_succeed_later(s)) break;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(5), remaining(deadline)));
      }
      if (s != NATS_OK) return fail(nats_error(s, "natsConnection_PublishMsg", url()));
    }
    return true;
  }

  NatsConnection conn_;
  bool markers_;
  std::uint64_t session_;
  std::string session_hex_;
  std::string control_;
  std::int64_t max_payload_ = 0;
  std::size_t data_limit_ = 0;
  std::size_t max_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t window_messages_ = 0;
  std::uint64_t window_bytes_ = 0;
  bool ended_ = false;
};

class NatsReceiver final : public Receiver {
 public:
  NatsReceiver(Url url, const EndpointOptions& options, NatsConnection conn, NatsSubscriptionPtr data,
               NatsSubscriptionPtr control)
      : Receiver(std::move(url)), conn_(std::move(conn)), data_(std::move(data)), control_(std::move(control)),
        markers_(uses_end_marker(this->url(), options)), queue_(this->url().option("queue").has_value()),
        ignore_own_(options.nats.ignore_own_senders), counters_(options.nats.counters), max_(effective_max(options)) {}
  // The connection is closed before the subscriptions are destroyed (members go in reverse order,
  // so data_ and control_ would go first): see NatsConnection::close().
  ~NatsReceiver() override { conn_.close(); }
  NatsReceiver(const NatsReceiver&) = delete;
  NatsReceiver& operator=(const NatsReceiver&) = delete;

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    for (;;) {
      if (ending_) {
        // A queue member's last session ended on the control subject: hand on what the data
        // subscription still holds (it came first), then end.
        auto m = next(data_.get(), 0);
        if (!m) return fail(m.error());
        if (!*m) return end_of_stream();
        if (auto r = on_data(std::move(**m), out)) return *r;
        continue;
      }
      const std::int64_t wait = nats_timeout_ms(deadline, queue_ && markers_ ? kControlPollMs : kMaxWaitMs);
      auto m = next(data_.get(), wait);
      if (!m) return fail(m.error());
      if (*m) {
        if (auto r = on_data(std::move(**m), out)) return *r;
        continue;
      }
      if (control_) {
        for (;;) {
          auto c = next(control_.get(), 0);
          if (!c) return fail(c.error());
          if (!*c) break;
          if (auto st = stamp_of((*c)->get()); st && st->kind != Kind::kData && !skip(*st)) {
            if (on_marker(*st)) ending_ = true;
          }
        }
        if (ending_) continue;
      }
      if (Clock::now() >= deadline) return ReceiveStatus::kTimedOut;
    }
  }

  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }

 private:
  struct Session {
    std::uint64_t received = 0;
    std::uint64_t last_seq = 0;
    std::uint64_t lost = 0;  // gaps seen so far
  };

  // The next message of `sub` within `wait_ms` (0: only one already there), nullopt if none.
  Result<std::optional<NatsMsgPtr>> next(natsSubscription* sub, std::int64_t wait_ms) {
    for (;;) {
      natsMsg* raw = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&raw, sub, wait_ms);
      if (s == NATS_OK) return std::optional<NatsMsgPtr>(NatsMsgPtr(raw));
      if (s == NATS_TIMEOUT) return std::optional<NatsMsgPtr>();
      if (s == NATS_SLOW_CONSUMER) {
        // libnats dropped messages beyond the pending limits; they show as gaps in the sequence.
        note_dropped();
        continue;
      }
      return fail(nats_error(s, "natsSubscription_NextMsg", url()));
    }
  }

  void note_dropped() {
    int64_t dropped = 0;
    if (natsSubscription_GetDropped(data_.get(), &dropped) == NATS_OK && dropped > 0) {
      const auto d = static_cast<std::uint64_t>(dropped);
      if (counters_ && d > dropped_) counters_->dropped.fetch_add(d - dropped_, std::memory_order_relaxed);  // a count only
      dropped_ = std::max(dropped_, d);
    }
  }

  bool skip(const Stamp& st) const { return ignore_own_ && is_own_session(st.session); }

  // A message of the data subscription: a result to return, or nullopt to read on (a marker, a
  // skipped or a repeated message).
  std::optional<Result<ReceiveStatus>> on_data(NatsMsgPtr m, std::string& out) {
    const std::string_view subject = natsMsg_GetSubject(m.get());
    if (subject.substr(0, kControlPrefix.size()) == kControlPrefix) return std::nullopt;  // a `>` subscriber
    const auto st = stamp_of(m.get());
    if (st && skip(*st)) return std::nullopt;
    if (st && st->kind != Kind::kData) {
      // Markers of the data subject count for a plain subscriber; a queue member uses the control
      // subject's (it would see only some of the data subject's).
      if (markers_ && !queue_ && on_marker(*st)) return end_of_stream();
      return std::nullopt;
    }
    const int len = natsMsg_GetDataLength(m.get());
    if (static_cast<std::size_t>(len) > max_) {
      return Result<ReceiveStatus>(fail_library(LibraryCode::kTooLarge, "receive", url_object(url()),
                                                fmt::format("message of {} bytes > max message size {} (raise it with "
                                                            "--size)",
                                                            len, max_)));
    }
    if (st && markers_) {
      Session& s = sessions_[st->session];
      if (st->seq <= s.last_seq) {
        // Core NATS does not redeliver, and session ids are random, so this does not happen today;
        // a redelivering mode (JetStream) would. Never hand the same message on twice; count it.
        if (counters_) counters_->duplicates.fetch_add(1, std::memory_order_relaxed);  // a count only
        return std::nullopt;
      }
      if (!queue_ && st->seq > s.last_seq + 1) {
        const std::uint64_t gap = st->seq - s.last_seq - 1;
        s.lost += gap;
        if (counters_) counters_->lost.fetch_add(gap, std::memory_order_relaxed);  // a count only
      }
      s.last_seq = st->seq;
      ++s.received;
    }
    out.assign(natsMsg_GetData(m.get()), static_cast<std::size_t>(len));
    ++messages_;
    bytes_ += out.size();
    return Result<ReceiveStatus>(ReceiveStatus::kOk);
  }

  // True when the marker ended the last open session.
  bool on_marker(const Stamp& st) {
    if (ended_.count(st.session) != 0) return false;  // seen twice (a `>` subscriber)
    if (st.kind == Kind::kBegin) {
      (void)sessions_[st.session];
      return false;
    }
    Session s = sessions_[st.session];
    sessions_.erase(st.session);
    ended_.insert(st.session);
    if (!queue_ && st.seq > s.last_seq) {
      // The tail of the session that never came (and the whole of a session whose begin was lost).
      const std::uint64_t tail = st.seq - s.last_seq;
      s.lost += tail;
      if (counters_) counters_->lost.fetch_add(tail, std::memory_order_relaxed);  // a count only
    }
    lost_ += s.lost;
    sent_ += queue_ ? s.received : st.seq;
    return sessions_.empty();
  }

  Result<ReceiveStatus> end_of_stream() {
    ending_ = false;
    note_dropped();
    const std::uint64_t lost = std::exchange(lost_, 0);
    const std::uint64_t sent = std::exchange(sent_, 0);
    const std::uint64_t dropped = dropped_ - std::exchange(dropped_reported_, dropped_);
    if (lost == 0 && dropped == 0) return ReceiveStatus::kEndOfStream;
    if (queue_) {
      return fail_library(LibraryCode::kTruncated, "receive", url_object(url()),
                          fmt::format("{} message{} dropped by this receiver as a slow consumer (libnats' pending "
                                      "limit); {} arrived",
                                      dropped, dropped == 1 ? "" : "s", arrived_text(messages_, bytes_)));
    }
    return fail_library(LibraryCode::kTruncated, "receive", url_object(url()),
                        fmt::format("{} of {} message{} lost in transit, {} arrived: core NATS delivers at most once, "
                                    "and drops messages when a server restarts or a receiver falls behind "
                                    "(docs/bridge.md, \"Delivery\")",
                                    lost, sent, sent == 1 ? "" : "s", arrived_text(messages_, bytes_)));
  }

  NatsConnection conn_;
  NatsSubscriptionPtr data_;
  NatsSubscriptionPtr control_;  // queue members with markers only
  bool markers_;
  bool queue_;
  bool ignore_own_;
  std::shared_ptr<NatsCounters> counters_;
  std::size_t max_;
  std::map<std::uint64_t, Session> sessions_;  // begun (or first seen) and not yet ended
  std::set<std::uint64_t> ended_;
  bool ending_ = false;
  std::uint64_t lost_ = 0;  // of the sessions ended since the last end of stream
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_reported_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t bytes_ = 0;
};

bool has_wildcard(const std::string& subject) {
  return subject == "*" || subject == ">" || subject.find(".*") != std::string::npos ||
         subject.find("*.") != std::string::npos || subject.find(".>") != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<Sender>> open_nats_sender(const Url& url, const EndpointOptions& options) {
  if (has_wildcard(url.subject)) {
    return fail_library(LibraryCode::kInvalidArgument, "open_sender", url_object(url),
                        fmt::format("cannot publish to the wildcard subject \"{}\": a sender needs a plain subject "
                                    "(wildcards * and > are for receivers)",
                                    url.subject));
  }
  if (url.option("queue")) {
    return fail_library(LibraryCode::kInvalidArgument, "open_sender", url_object(url),
                        "?queue= is for receivers (a queue group shares what senders publish on the subject); "
                        "drop it from the sender's URL");
  }
  auto conn = NatsConnection::open(url, options, "open_sender");
  if (!conn) return fail(conn.error());
  auto id = new_session_id();
  if (!id) return fail(id.error());
  auto sender = std::make_unique<NatsSender>(url, options, std::move(*conn), *id);
  if (auto r = sender->begin(deadline_after(options.open_timeout)); !r) return fail(r.error());
  return std::unique_ptr<Sender>(std::move(sender));
}

Result<std::unique_ptr<Receiver>> open_nats_receiver(const Url& url, const EndpointOptions& options) {
  auto conn = NatsConnection::open(url, options, "open_receiver");
  if (!conn) return fail(conn.error());
  const auto queue = url.option("queue");
  natsSubscription* raw = nullptr;
  natsStatus s = queue ? natsConnection_QueueSubscribeSync(&raw, conn->get(), url.subject.c_str(), queue->c_str())
                       : natsConnection_SubscribeSync(&raw, conn->get(), url.subject.c_str());
  if (s != NATS_OK) return fail(nats_error(s, queue ? "natsConnection_QueueSubscribeSync" : "natsConnection_SubscribeSync", url));
  NatsSubscriptionPtr data(raw);
  NatsSubscriptionPtr control;  // queue members with markers: the control subject
  // On the failures below the subscriptions go before the connection: close it first (see
  // NatsConnection::close()).
  struct CloseFirst {
    NatsConnection& conn;
    bool armed = true;
    ~CloseFirst() {
      if (armed) conn.close();
    }
  } close_first{*conn};
  // No limit on the count of pending messages, a bound on their bytes: memory stays bounded however
  // small the messages, and a burst of small ones is not dropped at libnats' default of 65536.
  if (s = natsSubscription_SetPendingLimits(data.get(), -1, kPendingBytes); s != NATS_OK) {
    return fail(nats_error(s, "natsSubscription_SetPendingLimits", url));
  }
  if (queue && uses_end_marker(url, options)) {
    raw = nullptr;
    s = natsConnection_SubscribeSync(&raw, conn->get(), control_subject(url.subject).c_str());
    if (s != NATS_OK) return fail(nats_error(s, "natsConnection_SubscribeSync", url));
    control.reset(raw);
  }
  // The server has the subscription once its PONG is back: from then on nothing published is missed,
  // which is what --ready-fd promises.
  auto f = conn->flush_until(deadline_after(options.open_timeout));
  if (!f) return fail(f.error());
  if (!*f) {
    return fail_errno(ETIMEDOUT, "open_receiver", url_object(url),
                      fmt::format("the server did not confirm the subscription within {}",
                                  format_duration(options.open_timeout)));
  }
  close_first.armed = false;
  return std::unique_ptr<Receiver>(
      new NatsReceiver(url, options, std::move(*conn), std::move(data), std::move(control)));
}

}  // namespace detail
}  // namespace ipckit
