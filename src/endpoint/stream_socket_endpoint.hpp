// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: the Sender and Receiver for connected stream sockets (unix:, tcp:), over
// the stream layer's StreamSocket and StreamListener. The receiver accepts one connection, on its
// first receive; the sender shuts down its write side at finish, so the receiver sees end of stream.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "framed_stream.hpp"
#include "ipckit/stream/stream_socket.hpp"

namespace ipckit::detail {

class StreamSocketSender final : public FramedStreamSender<StreamSocket> {
 public:
  StreamSocketSender(Url url, const EndpointOptions& options, StreamSocket socket)
      : FramedStreamSender(std::move(url), options, std::move(socket)) {}

 protected:
  [[nodiscard]] Result<SendStatus> end_stream(Deadline /*deadline*/) override {
    auto r = stream().shutdown(ShutdownHow::kWrite);
    if (!r) {
      if (r.error().is(ENOTCONN)) return SendStatus::kPeerClosed;  // the receiver already reset it
      return fail(r.error());
    }
    return SendStatus::kOk;
  }
};

// `RemoveFn` removes the bound address (a UNIX socket path); nullptr for TCP.
class StreamSocketReceiver final : public FramedStreamReceiver<StreamSocket> {
 public:
  using RemoveFn = Result<void> (*)(const Url&);
  StreamSocketReceiver(Url url, const EndpointOptions& options, StreamListener listener, RemoveFn remove)
      : FramedStreamReceiver(std::move(url), options), listener_(std::move(listener)), remove_(remove) {}

  [[nodiscard]] Result<void> remove_object() override { return remove_ != nullptr ? remove_(url()) : Result<void>(); }
  [[nodiscard]] std::string listening_address() const override {
    if (url().scheme != Scheme::kTcp) return {};
    auto a = listener_.local_address();
    return a ? a->to_string() : std::string();
  }

 protected:
  [[nodiscard]] Result<bool> ensure_stream(Deadline deadline) override {
    if (stream_) return true;
    auto s = listener_.accept_until(deadline);
    if (!s) return fail(s.error());
    if (!*s) return false;
    stream_ = std::move(**s);
    return true;
  }

 private:
  StreamListener listener_;
  RemoveFn remove_;
};

}  // namespace ipckit::detail
