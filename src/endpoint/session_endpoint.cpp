// SPDX-License-Identifier: Apache-2.0
#include "session_endpoint.hpp"

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "ipckit/endpoint/session_marker.hpp"

namespace ipckit::detail {
namespace {

// How often a receiver with an open session looks whether its senders still live, while the
// mechanism has nothing to deliver. A /proc read per open session: cheap, and well inside the
// "within a second" a user expects to hear of a dead peer.
constexpr auto kLivenessInterval = std::chrono::milliseconds(200);

Unexpected too_small_for_markers(const Url& url, std::size_t max) {
  return fail_library(LibraryCode::kInvalidArgument, "open", url_object(url),
                      fmt::format("the largest message here is {} B, below the {} B of the session markers that "
                                  "end a session; raise it (--size, msgsize=) or send plain messages with --raw "
                                  "(Framing::kRaw) on both sides",
                                  max, kSessionMarkerSize));
}

class SessionSender final : public Sender {
 public:
  SessionSender(std::unique_ptr<Sender> inner, std::uint64_t session, ProcessIdentity self)
      : Sender(inner->url()), inner_(std::move(inner)), session_(session), self_(self) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    const std::string_view text(reinterpret_cast<const char*>(message.data()), message.size());
    if (has_session_marker_magic(text)) {
      return fail_library(LibraryCode::kInvalidArgument, "send", url_object(url()),
                          "the message begins with the 16 bytes of ipckit's session marker, so the receiver would "
                          "misread it; send such data with --raw (Framing::kRaw) on both sides");
    }
    if (auto r = send_marker(SessionMarkerKind::kBegin, began_, deadline); !r || *r != SendStatus::kOk) return r;
    return inner_->send_until(message, deadline);
  }

  [[nodiscard]] Result<SendStatus> finish_until(Deadline deadline) override {
    if (auto r = send_marker(SessionMarkerKind::kBegin, began_, deadline); !r || *r != SendStatus::kOk) return r;
    auto r = send_marker(SessionMarkerKind::kEnd, ended_, deadline);
    if (!r || *r == SendStatus::kTimedOut) return r;
    // kPeerClosed: every message went and the receiver left before the end marker (a `recv --count
    // N` stops there); that loses nothing, so the session still ends cleanly.
    return inner_->finish_until(deadline);
  }

  [[nodiscard]] std::optional<int> exit_status() const override { return inner_->exit_status(); }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return inner_->max_message_size(); }
  [[nodiscard]] Result<void> remove_object() override { return inner_->remove_object(); }

  // At open: the session begins now, so a sender that opened and then died is seen by its receiver
  // (a --ready-fd byte after open means the begin marker is queued). A begin that cannot go yet (a
  // full queue past the deadline, no receiver yet) is sent by the first send instead.
  [[nodiscard]] Result<void> begin_now(Deadline deadline) {
    auto r = send_marker(SessionMarkerKind::kBegin, began_, deadline);
    if (!r) return fail(r.error());
    return {};
  }

 private:
  // Sends the marker once: `sent` records that it went (a timed-out attempt is repeated next call).
  Result<SendStatus> send_marker(SessionMarkerKind kind, bool& sent, Deadline deadline) {
    if (sent) return SendStatus::kOk;
    const std::string wire = encode_session_marker({kind, session_, self_});
    auto r = inner_->send_until(as_bytes(wire), deadline);
    if (r && *r == SendStatus::kOk) sent = true;
    return r;
  }

  std::unique_ptr<Sender> inner_;
  std::uint64_t session_;
  ProcessIdentity self_;
  bool began_ = false;
  bool ended_ = false;
};

class SessionReceiver final : public Receiver {
 public:
  explicit SessionReceiver(std::unique_ptr<Receiver> inner)
      : Receiver(inner->url()), inner_(std::move(inner)), check_liveness_(url().scheme != Scheme::kUdp) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    for (;;) {
      // While a session is open, wake up at least every kLivenessInterval to look at its senders.
      const bool watch = check_liveness_ && !open_.empty();
      const Deadline slice = watch ? std::min(deadline, deadline_after(kLivenessInterval)) : deadline;
      auto r = inner_->receive_until(out, slice);
      if (!r) return r;
      switch (*r) {
        case ReceiveStatus::kOk:
          if (auto m = decode_session_marker(out)) {
            if (on_marker(*m)) return ReceiveStatus::kEndOfStream;
            continue;
          }
          ++messages_;
          bytes_ += out.size();
          return ReceiveStatus::kOk;
        case ReceiveStatus::kEndOfStream:
          // A connection (unix-seqpacket) closed: fine once a session ended on it, else cut short.
          if (open_.empty() && ended_sessions_ > 0) return ReceiveStatus::kEndOfStream;
          return fail_library(LibraryCode::kProtocol, "receive", url_object(url()),
                              fmt::format("the connection closed without the sender's end marker, after {}: the "
                                          "sender stopped before it finished (was it killed?), or it does not "
                                          "send one (then pass --no-end-marker on both sides)",
                                          arrived_text(messages_, bytes_)));
        case ReceiveStatus::kTimedOut:
          if (watch && all_open_senders_dead()) return ReceiveStatus::kPeerDied;
          if (!watch || Clock::now() >= deadline) return ReceiveStatus::kTimedOut;
          continue;
        case ReceiveStatus::kPeerDied:
          return ReceiveStatus::kPeerDied;
      }
      return *r;
    }
  }

  [[nodiscard]] Result<ReceiveStatus> finish_until(Deadline deadline) override { return inner_->finish_until(deadline); }
  [[nodiscard]] std::optional<int> exit_status() const override { return inner_->exit_status(); }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return inner_->max_message_size(); }
  [[nodiscard]] Result<void> remove_object() override { return inner_->remove_object(); }
  [[nodiscard]] std::string listening_address() const override { return inner_->listening_address(); }
  [[nodiscard]] std::optional<unsigned> last_priority() const noexcept override { return inner_->last_priority(); }

 private:
  // True when the marker ended the last open session.
  bool on_marker(const SessionMarker& m) {
    if (m.kind == SessionMarkerKind::kBegin) {
      open_[m.session] = m.sender;
      return false;
    }
    // An end whose begin this receiver never saw belongs to a session it had no part in (one a
    // `--count` receiver left behind): it ends nothing.
    if (open_.erase(m.session) == 0) return false;
    ++ended_sessions_;
    return open_.empty();
  }

  // The senders of the open sessions are all provably dead (a pid of 0, another pid namespace or an
  // unreadable /proc entry is not proof). Their sessions are dropped, so a later call goes on.
  bool all_open_senders_dead() {
    for (const auto& [id, who] : open_) {
      if (who.pid == 0 || liveness(who) != Liveness::kDead) return false;
    }
    open_.clear();
    return true;
  }

  std::unique_ptr<Receiver> inner_;
  bool check_liveness_;
  std::map<std::uint64_t, ProcessIdentity> open_;  // sessions begun and not yet ended
  std::uint64_t ended_sessions_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<Sender>> with_session_markers(std::unique_ptr<Sender> inner, const EndpointOptions& options) {
  if (inner->max_message_size() < kSessionMarkerSize) return too_small_for_markers(inner->url(), inner->max_message_size());
  auto id = new_session_id();
  if (!id) return fail(id.error());
  // Without an identity the receiver cannot check liveness, but the session still ends cleanly.
  ProcessIdentity self;
  if (auto me = self_identity()) self = *me;
  auto sender = std::make_unique<SessionSender>(std::move(inner), *id, self);
  if (auto r = sender->begin_now(deadline_after(options.open_timeout)); !r) return fail(r.error());
  return std::unique_ptr<Sender>(std::move(sender));
}

Result<std::unique_ptr<Receiver>> with_session_markers(std::unique_ptr<Receiver> inner) {
  if (inner->max_message_size() < kSessionMarkerSize) return too_small_for_markers(inner->url(), inner->max_message_size());
  return std::unique_ptr<Receiver>(new SessionReceiver(std::move(inner)));
}

}  // namespace ipckit::detail
