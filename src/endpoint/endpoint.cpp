// SPDX-License-Identifier: Apache-2.0
#include "ipckit/endpoint/endpoint.hpp"

#include "adapters.hpp"
#include "session_endpoint.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/core/io.hpp"

namespace ipckit {
namespace detail {

mode_t effective_mode(const Url& url, const EndpointOptions& options) {
  if (auto m = url.option("mode")) return static_cast<mode_t>(std::stoul(*m, nullptr, 8));  // checked by parse_url
  return options.mode;
}

Framing effective_framing(const Url& url, const EndpointOptions& options) noexcept {
  if (options.framing) return *options.framing;
  return url.scheme == Scheme::kPipe ? Framing::kRaw : Framing::kLength;
}

std::size_t effective_max(const EndpointOptions& options) noexcept {
  return options.max_message != 0 ? options.max_message : kDefaultMaxMessage;
}

std::string url_object(const Url& url) { return quoted(url.text); }

std::string arrived_text(std::uint64_t messages, std::uint64_t bytes) {
  return fmt::format("{} message{} ({})", messages, messages == 1 ? "" : "s", format_size(bytes));
}

Error explain_missing(const Url& url, Error error) {
  if (!error.is(ENOENT)) return error;
  return std::move(error).with_hint(fmt::format(
      "{} does not exist; pass --create (EndpointOptions::create) to make it", url.text));
}

Unexpected open_timed_out(const Url& url, const EndpointOptions& options, std::string_view waiting_for,
                          const std::optional<Error>& last) {
  return fail_errno(ETIMEDOUT, "open_sender", url_object(url),
                    fmt::format("no {} after {} (raise it with --timeout, e.g. --timeout 1m or inf){}", waiting_for,
                                format_duration(options.open_timeout),
                                last ? "; last attempt: " + last->str() : std::string()));
}

namespace {

struct Adapter {
  OpenSenderFn sender = nullptr;
  OpenReceiverFn receiver = nullptr;
};

// One row per scheme.
Adapter adapter(Scheme scheme) noexcept {
  switch (scheme) {
    case Scheme::kPipe:
      return {&open_pipe_sender, &open_pipe_receiver};
    case Scheme::kFifo:
      return {&open_fifo_sender, &open_fifo_receiver};
    case Scheme::kUnix:
      return {&open_unix_sender, &open_unix_receiver};
    case Scheme::kTcp:
      return {&open_tcp_sender, &open_tcp_receiver};
    case Scheme::kMq:
      return {&open_mq_sender, &open_mq_receiver};
    case Scheme::kSysvMq:
      return {&open_sysvmq_sender, &open_sysvmq_receiver};
    case Scheme::kUnixDgram:
      return {&open_unix_dgram_sender, &open_unix_dgram_receiver};
    case Scheme::kUnixSeqpacket:
      return {&open_unix_seqpacket_sender, &open_unix_seqpacket_receiver};
    case Scheme::kUdp:
      return {&open_udp_sender, &open_udp_receiver};
    case Scheme::kChan:
      return {&open_chan_sender, &open_chan_receiver};
    case Scheme::kNats:
      return {&open_nats_sender, &open_nats_receiver};
  }
  return {};
}

// Only a Url built by hand with an out-of-range scheme gets here (parse_url never makes one).
Unexpected bad_scheme(const Url& url, std::string_view call) {
  return fail_library(LibraryCode::kInvalidArgument, std::string(call), detail::url_object(url),
                      fmt::format("unknown scheme {}", static_cast<int>(url.scheme)));
}

Result<void> check_command(const Url& url, const EndpointOptions& options, std::string_view call) {
  const bool has = !url.command.empty() || !options.command.empty();
  if (url.scheme == Scheme::kPipe && !has) {
    return fail_library(LibraryCode::kInvalidArgument, std::string(call), detail::url_object(url),
                        fmt::format("pipe: needs a command; expected {}", expected_form(Scheme::kPipe)));
  }
  if (url.scheme != Scheme::kPipe && has) {
    return fail_library(LibraryCode::kInvalidArgument, std::string(call), detail::url_object(url),
                        "a command (-- CMD ARGS) is only for pipe:");
  }
  return {};
}

}  // namespace
}  // namespace detail

const char* to_string(SendStatus status) noexcept {
  switch (status) {
    case SendStatus::kOk:
      return "ok";
    case SendStatus::kPeerClosed:
      return "peer closed";
    case SendStatus::kTimedOut:
      return "timed out";
  }
  return "unknown";
}

const char* to_string(ReceiveStatus status) noexcept {
  switch (status) {
    case ReceiveStatus::kOk:
      return "ok";
    case ReceiveStatus::kEndOfStream:
      return "end of stream";
    case ReceiveStatus::kTimedOut:
      return "timed out";
    case ReceiveStatus::kPeerDied:
      return "peer died";
  }
  return "unknown";
}

bool uses_end_marker(const Url& url, const EndpointOptions& options) noexcept {
  if (!options.end_marker) return false;
  switch (url.scheme) {
    case Scheme::kChan:
      return false;
    case Scheme::kMq:
    case Scheme::kSysvMq:
    case Scheme::kNats:  // its markers travel in message headers (nats_endpoint.cpp)
      // --lines only splits stdin there: the messages on the wire are the same, markers included.
      return options.framing != Framing::kRaw;
    default:
      // Byte streams carry the end frame only in length framing; on datagram sockets --lines is the
      // convention of nc and socat (a newline per datagram), which know no markers.
      return detail::effective_framing(url, options) == Framing::kLength;
  }
}

Sender::~Sender() = default;
Receiver::~Receiver() = default;

Result<SendStatus> Sender::send(std::string_view message) { return send(ipckit::as_bytes(message)); }

Result<std::unique_ptr<Sender>> open_sender(std::string_view url, const EndpointOptions& options) {
  auto u = parse_url(url);
  if (!u) return fail(u.error());
  return open_sender(*u, options);
}

Result<std::unique_ptr<Sender>> open_sender(const Url& url, const EndpointOptions& options) {
  if (auto r = detail::check_command(url, options, "open_sender"); !r) return fail(r.error());
  const auto a = detail::adapter(url.scheme);
  if (a.sender == nullptr) return detail::bad_scheme(url, "open_sender");
  auto sender = a.sender(url, options);
  // nats: carries its session in message headers, not as in-band marker messages.
  if (!sender || is_byte_stream(url.scheme) || url.scheme == Scheme::kNats || !uses_end_marker(url, options)) {
    return sender;
  }
  return detail::with_session_markers(std::move(*sender), options);
}

Result<std::unique_ptr<Receiver>> open_receiver(std::string_view url, const EndpointOptions& options) {
  auto u = parse_url(url);
  if (!u) return fail(u.error());
  return open_receiver(*u, options);
}

Result<std::unique_ptr<Receiver>> open_receiver(const Url& url, const EndpointOptions& options) {
  if (auto r = detail::check_command(url, options, "open_receiver"); !r) return fail(r.error());
  const auto a = detail::adapter(url.scheme);
  if (a.receiver == nullptr) return detail::bad_scheme(url, "open_receiver");
  auto receiver = a.receiver(url, options);
  if (!receiver || is_byte_stream(url.scheme) || url.scheme == Scheme::kNats || !uses_end_marker(url, options)) {
    return receiver;
  }
  return detail::with_session_markers(std::move(*receiver));
}

}  // namespace ipckit
