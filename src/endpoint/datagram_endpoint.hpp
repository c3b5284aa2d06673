// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: Sender and Receiver over the message layer's DatagramSocket, shared by
// unix-dgram:, unix-seqpacket: and udp:. One send is one message, one receive one message.
//
// --lines (Framing::kLines) on datagram sockets: each message travels as one datagram *with* its
// newline, the way nc and socat send lines, and one trailing newline is stripped on receipt, so ipckit
// talks to those tools line for line. --raw and the default send the message as it is.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "adapters.hpp"
#include "ipckit/message/datagram_socket.hpp"
#include "ipckit/message/unix_datagram.hpp"

namespace ipckit::detail {

class DatagramSender final : public Sender {
 public:
  // `empty_ok`: false for seqpacket, where a 0-byte message reads as the end of the connection.
  DatagramSender(Url url, const EndpointOptions& options, DatagramSocket socket, std::size_t limit, bool empty_ok)
      : Sender(std::move(url)), socket_(std::move(socket)), lines_(effective_framing(this->url(), options) == Framing::kLines),
        max_(std::min(effective_max(options), limit)), empty_ok_(empty_ok) {}

  [[nodiscard]] Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) override {
    if (message.size() > max_) {
      return fail_library(LibraryCode::kTooLarge, "send", url_object(url()),
                          fmt::format("message of {} bytes > max message size {} (raise it with --size, up to the "
                                      "mechanism's limit)",
                                      message.size(), max_));
    }
    if (message.empty() && !empty_ok_ && !lines_) {
      return fail_library(LibraryCode::kInvalidArgument, "send", url_object(url()),
                          "unix-seqpacket cannot carry an empty message: the receiver reads 0 bytes as the end of "
                          "the connection");
    }
    std::span<const std::byte> wire = message;
    if (lines_) {
      line_.assign(reinterpret_cast<const char*>(message.data()), message.size());
      line_.push_back('\n');
      wire = as_bytes(line_);
    }
    auto r = socket_.send_until(wire, deadline);
    if (!r) return fail(r.error());
    switch (*r) {
      case IoStatus::kOk:
        return SendStatus::kOk;
      case IoStatus::kTimedOut:
      case IoStatus::kWouldBlock:
        return SendStatus::kTimedOut;
      default:
        return SendStatus::kPeerClosed;
    }
  }

  // Nothing buffered: each message was one datagram. A seqpacket peer sees end of stream on close.
  [[nodiscard]] Result<SendStatus> finish_until(Deadline /*deadline*/) override {
    if (auto r = socket_.close(); !r) return fail(r.error());
    return SendStatus::kOk;
  }
  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }

 private:
  DatagramSocket socket_;
  bool lines_;
  std::size_t max_;
  bool empty_ok_;
  std::string line_;
};

class DatagramReceiver final : public Receiver {
 public:
  // `accept`: for seqpacket, gives the connected socket on the first receive (nullopt: deadline).
  using AcceptFn = std::function<Result<std::optional<DatagramSocket>>(Deadline)>;
  using RemoveFn = std::function<Result<void>()>;

  DatagramReceiver(Url url, const EndpointOptions& options, std::optional<DatagramSocket> socket, AcceptFn accept,
                   RemoveFn remove)
      : Receiver(std::move(url)), lines_(effective_framing(this->url(), options) == Framing::kLines),
        max_(effective_max(options)), socket_(std::move(socket)), accept_(std::move(accept)),
        remove_(std::move(remove)) {
    // One byte more than the max (and the newline of --lines), so an oversize message is detected
    // without relying on MSG_TRUNC alone.
    buf_.resize(max_ + 2);
  }

  [[nodiscard]] Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) override {
    if (!socket_) {
      auto s = accept_(deadline);
      if (!s) return fail(s.error());
      if (!*s) return ReceiveStatus::kTimedOut;
      socket_ = std::move(**s);
    }
    auto d = socket_->receive_until(std::span<std::byte>(buf_), deadline);
    if (!d) return fail(d.error());
    if (d->status == IoStatus::kTimedOut || d->status == IoStatus::kWouldBlock) return ReceiveStatus::kTimedOut;
    if (d->status != IoStatus::kOk) return ReceiveStatus::kEndOfStream;
    std::size_t n = d->bytes;
    const auto* p = reinterpret_cast<const char*>(buf_.data());
    if (lines_ && n > 0 && p[n - 1] == '\n') --n;
    if (d->truncated || n > max_) {
      return fail_library(LibraryCode::kTooLarge, "receive", url_object(url()),
                          fmt::format("message of {} bytes > max message size {} (raise it with --size)",
                                      std::max(d->full_size, d->bytes), max_));
    }
    out.assign(p, n);
    return ReceiveStatus::kOk;
  }

  [[nodiscard]] std::size_t max_message_size() const noexcept override { return max_; }
  [[nodiscard]] Result<void> remove_object() override { return remove_ ? remove_() : Result<void>(); }
  [[nodiscard]] std::string listening_address() const override {
    if (url().scheme != Scheme::kUdp || !socket_) return {};
    auto a = socket_->local_address();
    return a ? a->to_string() : std::string();
  }

 private:
  bool lines_;
  std::size_t max_;
  std::optional<DatagramSocket> socket_;
  AcceptFn accept_;
  RemoveFn remove_;
  std::vector<std::byte> buf_;
};

// Removes a UNIX socket path the receiver bound (nothing for @abstract; a missing file is fine).
inline Result<void> remove_unix_socket_path(const Url& url) {
  if (url.address.front() == '@') return {};
  auto r = unlink_socket(url.address);
  if (!r && r.error().is(ENOENT)) return {};
  return r;
}

inline Result<void> chmod_unix_socket_path(const Url& url, const EndpointOptions& options) {
  // The message layer binds with the umask's permission; narrow it to the endpoint's mode (0600 by
  // default) right away. (A bind-time mode, as UnixStream::listen has, would close the short window.)
  if (url.address.front() == '@') return {};
  if (::chmod(url.address.c_str(), effective_mode(url, options)) != 0) {
    return last_errno().fail("chmod", quoted(url.address));
  }
  return {};
}

}  // namespace ipckit::detail
