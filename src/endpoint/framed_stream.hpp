// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: a Sender and a Receiver over any byte stream of the stream layer (pipe,
// FIFO, UNIX stream socket, TCP), framing messages with framing.hpp.
//
// `Stream` is a stream-layer type offering write_all_until(span, Deadline) and/or
// read_some_until(span, Deadline), both returning Result<IoResult>.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "adapters.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/endpoint/framing.hpp"

namespace ipckit::detail {

// Writes frames; a frame cut short by a deadline stays in pending_ and is finished first by the next
// call, so a caller's short deadlines never tear or repeat a frame.
template <class Stream>
class FramedStreamSender : public Sender {
 public:
  FramedStreamSender(Url url, const EndpointOptions& options, Stream stream)
      : Sender(std::move(url)), stream_(std::move(stream)), framing_(effective_framing(this->url(), options)),
        max_(effective_max(options)), end_marker_(uses_end_marker(this->url(), options)) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    if (closed_) return SendStatus::kPeerClosed;
    if (auto r = flush_until(deadline); !r || *r != SendStatus::kOk) return r;
    if (auto r = encode_frame(framing_, message, max_, pending_, this->url().text); !r) return fail(r.error());
    auto w = stream_.write_all_until(as_bytes(pending_), deadline);
    if (!w) return fail(w.error());
    if (w->status == IoStatus::kPeerClosed) {
      closed_ = true;
      return SendStatus::kPeerClosed;
    }
    if (w->status == IoStatus::kTimedOut && w->bytes == 0) {
      pending_.clear();  // not accepted: the caller sends the same message again
      return SendStatus::kTimedOut;
    }
    pending_.erase(0, w->bytes);  // all written, or a started frame kept for the next call
    return SendStatus::kOk;
  }

  [[nodiscard]] Result<SendStatus> finish_until(Deadline deadline) override {
    if (closed_) return SendStatus::kPeerClosed;
    if (!end_queued_) {
      // Every message first (a frame a timed-out send left included), then the end frame.
      auto r = flush_until(deadline);
      if (!r || *r != SendStatus::kOk) return r;
      if (end_marker_) encode_end_frame(pending_);
      end_queued_ = true;
    }
    auto r = flush_until(deadline);
    if (!r) return r;
    if (*r == SendStatus::kTimedOut) return r;
    // kPeerClosed here: every message was written and the receiver left before reading the end
    // frame (a `recv --count N` stops there); that loses nothing, so the stream still ends cleanly.
    auto e = end_stream(deadline);
    if (e && *e == SendStatus::kPeerClosed && end_marker_) {
      // A reset at shutdown: the receiver closed with bytes of ours unread. With the end frame that
      // is the common case of a receiver that stopped at its --count (the end frame is unread), and
      // every message had been handed to the kernel: whether it wanted them all is the receiver's
      // to say, not a failure of this sender.
      return SendStatus::kOk;
    }
    return e;
  }

  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }

 protected:
  // After the last frame: let the receiver see end of stream (close, shutdown(SHUT_WR)).
  [[nodiscard]] virtual Result<SendStatus> end_stream(Deadline deadline) = 0;
  Stream& stream() noexcept { return stream_; }

 private:
  [[nodiscard]] Result<SendStatus> flush_until(Deadline deadline) {
    if (pending_.empty()) return SendStatus::kOk;
    auto w = stream_.write_all_until(as_bytes(pending_), deadline);
    if (!w) return fail(w.error());
    pending_.erase(0, w->bytes);
    if (w->status == IoStatus::kPeerClosed) {
      closed_ = true;
      return SendStatus::kPeerClosed;
    }
    return pending_.empty() ? SendStatus::kOk : SendStatus::kTimedOut;
  }

  Stream stream_;
  Framing framing_;
  std::size_t max_;
  std::string pending_;
  bool end_marker_;
  bool end_queued_ = false;  // the end frame is in pending_ (or written): never queued twice
  bool closed_ = false;
};

// Reads frames. ensure_stream() lets socket receivers accept their connection on the first call.
template <class Stream>
class FramedStreamReceiver : public Receiver {
 public:
  FramedStreamReceiver(Url url, const EndpointOptions& options)
      : Receiver(std::move(url)),
        decoder_(effective_framing(this->url(), options), effective_max(options), this->url().text),
        max_(effective_max(options)), expect_end_(uses_end_marker(this->url(), options)) {}

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    for (;;) {
      auto m = eof_ ? decoder_.finish() : decoder_.next();
      if (!m) {
        if (!eof_) return fail(m.error());
        // The decoder's detail ("ended inside a frame (...)") stays; what arrived before it is added.
        return fail(m.error().with_hint(
            fmt::format("{}; {} arrived before it", m.error().hint(), arrived_text(messages_, bytes_))));
      }
      if (*m) {
        ++messages_;
        bytes_ += (*m)->size();
        out = std::move(**m);
        return ReceiveStatus::kOk;
      }
      if (decoder_.ended()) return ReceiveStatus::kEndOfStream;  // the sender finished
      if (eof_) {
        if (!expect_end_) return ReceiveStatus::kEndOfStream;
        return fail_library(LibraryCode::kProtocol, "receive", url_object(this->url()),
                            fmt::format("the stream ended without the sender's end-of-stream frame, after {}: the "
                                        "sender stopped before it finished (was it killed?), or it does not send "
                                        "one (then pass --no-end-marker on both sides)",
                                        arrived_text(messages_, bytes_)));
      }
      auto ready = ensure_stream(deadline);
      if (!ready) return fail(ready.error());
      if (!*ready) return ReceiveStatus::kTimedOut;
      auto r = stream_->read_some_until(std::span<std::byte>(buf_), deadline);
      if (!r) return fail(r.error());
      if (r->status == IoStatus::kTimedOut) return ReceiveStatus::kTimedOut;
      if (r->status == IoStatus::kEndOfStream || r->status == IoStatus::kPeerClosed) {
        eof_ = true;
        on_end_of_stream();
      }
      decoder_.feed(std::span<const std::byte>(buf_.data(), r->bytes));
    }
  }

  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }

 protected:
  // Makes stream_ hold the stream: false when the deadline passed first.
  [[nodiscard]] virtual Result<bool> ensure_stream(Deadline /*deadline*/) { return stream_.has_value(); }
  virtual void on_end_of_stream() {}
  std::optional<Stream> stream_;

 private:
  FrameDecoder decoder_;
  std::size_t max_;
  bool expect_end_;
  std::uint64_t messages_ = 0;
  std::uint64_t bytes_ = 0;
  std::array<std::byte, 64 * 1024> buf_{};
  bool eof_ = false;
};

}  // namespace ipckit::detail
