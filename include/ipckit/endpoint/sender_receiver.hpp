// SPDX-License-Identifier: Apache-2.0
// Endpoints: one message interface over every mechanism, chosen by a URL (see url.hpp).
//
//   auto tx = ipckit::open_sender("unix:/tmp/jobs.sock", {});      // or "tcp:127.0.0.1:9000", "chan:/jobs"
//   if (!tx) { fmt::print(stderr, "{}\n", tx.error().str()); return 1; }
//   (*tx)->send("hello");
//
// Roles: the receiver binds/listens/creates; the sender connects/opens, retrying until
// options.open_timeout passes, so start order does not matter where the mechanism allows it (not for
// udp, whose datagrams to a port nobody has bound are lost, nor for pipe:). Message mechanisms keep
// their boundaries; byte streams (pipe, fifo, unix, tcp) carry frames (framing.hpp): kLength by
// default, kRaw by default for pipe:.
//
// Lifecycle (docs/design.md): nothing is removed implicitly. `create` makes a missing fifo/mq/sysvmq/chan
// object (sockets are always bound by the receiver); remove_object() removes what the URL names.
//
// Thread safety: one Sender or Receiver is used by one thread at a time. Several processes may open
// senders to one receiver where the mechanism allows it (not chan:?pattern=spsc, not pipe:).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/framing.hpp"
#include "ipckit/endpoint/nats_options.hpp"
#include "ipckit/endpoint/url.hpp"

namespace ipckit {

/// The largest message an endpoint handles unless options or the mechanism say otherwise.
inline constexpr std::size_t kDefaultMaxMessage = std::size_t{64} << 10;

/// How open_sender() and open_receiver() open an endpoint; URL options override some fields.
struct EndpointOptions {
  /// Make a missing fifo/mq/sysvmq/chan object (race-free: whoever comes second opens it). Without
  /// it a missing object is an Error (ENOENT). No effect on sockets.
  bool create = false;
  /// Permission of created objects (and of a bound UNIX socket path). URL option mode= overrides.
  mode_t mode = kDefaultMode;
  /// Largest message: the frame limit on byte streams, the receive buffer on message mechanisms, the
  /// message size of a created mq (URL msgsize= overrides) and the max of a created channel (URL max=
  /// overrides). 0 = the default: kDefaultMaxMessage, or what an existing mq/channel says.
  std::size_t max_message = 0;
  /// mq: maxmsg of a created queue; chan: capacity in bytes. 0 = default (msg_default; 1 MiB).
  std::size_t capacity = 0;
  /// mq: the priority messages are sent with (URL priority= overrides).
  unsigned priority = 0;
  /// sysvmq: the type messages are sent with; a receiver takes only this type (0 = any).
  long type = 1;
  /// How long a sender retries connecting/opening before it fails with ETIMEDOUT.
  std::chrono::milliseconds open_timeout{5000};
  /// Byte streams: override the scheme's framing (--lines, --raw). Message mechanisms keep their
  /// boundaries; there kLines adds a newline to each datagram (unix-dgram, unix-seqpacket, udp: the
  /// convention of nc and socat) and kRaw sends no session markers (see end_marker).
  std::optional<Framing> framing;
  /// The end-of-session marker (docs/endpoints.md, "End of stream"), so that a receiver tells a sender
  /// that finished from one that stopped: a length-framed stream ends with the end-of-stream frame
  /// (framing.hpp); a message mechanism's session is bracketed by a begin and an end marker carrying a
  /// session id (session_marker.hpp), so a marker an earlier session left in a queue never ends a
  /// later one. Sent by finish_until(); a receiver that expects it fails with kProtocol when the stream
  /// ends without it. Not with kLines or kRaw framing (they talk to other programs; mq and sysvmq,
  /// whose wire kLines does not change, keep it with kLines), nor by chan: (the channel records its
  /// own end of stream). Set false on both sides to
  /// talk to a program that speaks length frames or plain messages but not the marker (--no-end-marker).
  bool end_marker = true;
  /// pipe: the child command and its arguments (argv[0] searched in PATH).
  std::vector<std::string> command;
  /// Checked between a sender's open retries: when it returns true, opening fails with ECANCELED
  /// (the CLI passes its Ctrl-C flag, so an interrupt does not wait out open_timeout).
  std::function<bool()> should_stop;
  /// When set, told what opening does, one line at a time: each retry of a sender waiting for its
  /// receiver (and why: the last attempt's error) and the address a tcp sender connected to (the
  /// CLI's -v). Called on the opening thread; never while a lock is held.
  std::function<void(const std::string&)> verbose;
  /// nats: credentials (from here or the environment, never the URL), TLS files, counters.
  NatsOptions nats;
};

/// Outcomes of Sender::send_until() and Sender::finish_until() that are not failures.
enum class SendStatus : std::uint8_t {
  kOk,          ///< the message was handed to the mechanism (or, on a byte stream, partly buffered: see Sender::send_until())
  kPeerClosed,  ///< the receiver is gone (EPIPE/ECONNRESET/ECONNREFUSED); nothing more can be sent
  kTimedOut,    ///< the deadline passed and the message was not accepted: call again with the same message
};
/// Outcomes of Receiver::receive_until() and Receiver::finish_until() that are not failures.
enum class ReceiveStatus : std::uint8_t {
  kOk,           ///< one message was received
  kEndOfStream,  ///< the sender closed a stream (or the child of pipe: closed its stdout)
  kTimedOut,     ///< nothing arrived before the deadline (a partly received frame is kept for the next call)
  kPeerDied,     ///< chan:, and message mechanisms with session markers (not udp): the sender was found
                 ///< dead (pid + start time) with nothing left to receive and its session not ended
};
/// "ok", "peer closed", "timed out".
[[nodiscard]] IPCKIT_API const char* to_string(SendStatus status) noexcept;
/// "ok", "end of stream", "timed out", "peer died".
[[nodiscard]] IPCKIT_API const char* to_string(ReceiveStatus status) noexcept;

/// The sending side of an endpoint, made by open_sender(). One Sender is used by one thread at a time.
class IPCKIT_API Sender {
 public:
  /// Closes the sender (see finish_until() for a sender destroyed without it).
  virtual ~Sender();
  /// Not copyable.
  Sender(const Sender&) = delete;
  /// Not copyable.
  Sender& operator=(const Sender&) = delete;

  /// Sends one message, blocking until the mechanism takes it or \p deadline passes. On a byte stream a
  /// frame whose start was written when the deadline passed is kept and finished by the next call or
  /// by finish_until() (kOk), so callers may slice a long wait into short deadlines without losing or
  /// repeating bytes. Errors: kTooLarge naming the mechanism's limit (or --size), system errors.
  [[nodiscard]] virtual Result<SendStatus> send_until(std::span<const std::byte> message, Deadline deadline) = 0;
  /// send_until() without a deadline: blocks until the mechanism takes the message (or the receiver is gone).
  [[nodiscard]] Result<SendStatus> send(std::span<const std::byte> message) { return send_until(message, kNoDeadline); }
  /// send() of the bytes of \p message.
  [[nodiscard]] Result<SendStatus> send(std::string_view message);

  /// Writes what a timed-out send left, then the end marker (EndpointOptions::end_marker), and ends the
  /// stream (shutdown(SHUT_WR) / close), so the receiver sees end of stream. For pipe: closes the
  /// child's stdin and waits for the child (exit_status()). Blocks until \p deadline; kTimedOut: call
  /// again. A sender destroyed without it has not ended its session: a receiver expecting the marker
  /// reports the stream as cut short (or, on a queue, waits for the rest).
  [[nodiscard]] virtual Result<SendStatus> finish_until(Deadline deadline) = 0;

  /// pipe: the child's exit code (128 + signal number when killed) once finish_until() saw it exit;
  /// nullopt otherwise.
  [[nodiscard]] virtual std::optional<int> exit_status() const { return std::nullopt; }
  /// The largest message send_until() accepts.
  [[nodiscard]] virtual std::size_t max_message_size() const noexcept = 0;
  /// Removes the object the URL names (unlink, mq_unlink, IPC_RMID, shm unlink); nothing for sockets
  /// the sender did not bind. Peers that have it open keep working.
  [[nodiscard]] virtual Result<void> remove_object() { return {}; }

  /// The URL this sender was opened with.
  [[nodiscard]] const Url& url() const noexcept { return url_; }

 protected:
  /// For implementations: keeps \p url for url().
  explicit Sender(Url url) : url_(std::move(url)) {}

 private:
  Url url_;
};

/// The receiving side of an endpoint, made by open_receiver(). One Receiver is used by one thread at a
/// time.
class IPCKIT_API Receiver {
 public:
  /// Closes the receiver (nothing is removed: see remove_object()).
  virtual ~Receiver();
  /// Not copyable.
  Receiver(const Receiver&) = delete;
  /// Not copyable.
  Receiver& operator=(const Receiver&) = delete;

  /// Receives one message into \p out (replacing its contents), blocking until one arrives, the
  /// stream ends, or \p deadline passes. Stream sockets accept their one connection on the first call.
  /// Errors: kTooLarge (a frame above the max; a datagram truncated by the buffer), kProtocol (a
  /// stream that ended inside a frame, or without the sender's end marker when one is expected: the
  /// text says how many messages and bytes arrived), system errors.
  [[nodiscard]] virtual Result<ReceiveStatus> receive_until(std::string& out, Deadline deadline) = 0;
  /// receive_until() without a deadline: blocks until a message arrives or the stream ends.
  [[nodiscard]] Result<ReceiveStatus> receive(std::string& out) { return receive_until(out, kNoDeadline); }

  /// pipe: waits for the child until the deadline (then exit_status()); kTimedOut if it is still running.
  /// Nothing to do for other schemes (kOk).
  [[nodiscard]] virtual Result<ReceiveStatus> finish_until(Deadline /*deadline*/) { return ReceiveStatus::kOk; }
  /// pipe: the child's exit code (128 + signal number when killed) once finish_until() saw it exit;
  /// nullopt otherwise.
  [[nodiscard]] virtual std::optional<int> exit_status() const { return std::nullopt; }
  /// The largest message receive_until() accepts.
  [[nodiscard]] virtual std::size_t max_message_size() const noexcept = 0;
  /// Removes the object the URL names, including a bound UNIX socket path.
  [[nodiscard]] virtual Result<void> remove_object() { return {}; }
  /// tcp:/udp: the address senders reach, as bound ("127.0.0.1:41234": for port 0, the port the
  /// kernel chose); "" for other schemes or when getsockname fails. Never blocks.
  [[nodiscard]] virtual std::string listening_address() const { return {}; }
  /// mq: the priority of the message the last receive_until() returned kOk for (POSIX queues deliver
  /// the highest priority first); nullopt for other schemes and before the first message.
  [[nodiscard]] virtual std::optional<unsigned> last_priority() const noexcept { return std::nullopt; }

  /// The URL this receiver was opened with.
  [[nodiscard]] const Url& url() const noexcept { return url_; }

 protected:
  /// For implementations: keeps \p url for url().
  explicit Receiver(Url url) : url_(std::move(url)) {}

 private:
  Url url_;
};

/// Whether a sender with these options sends the end marker and a receiver expects it: options.end_marker,
/// on length-framed byte streams, on mq and sysvmq unless framing is kRaw, on datagram sockets unless it is
/// kRaw or kLines (the line tools' convention); never for chan: (which has its own end of stream).
[[nodiscard]] IPCKIT_API bool uses_end_marker(const Url& url, const EndpointOptions& options) noexcept;

/// Opens the sending side. Returns once connected/opened: retries refused connections, missing
/// socket files and FIFOs without a reader until options.open_timeout, then fails with ETIMEDOUT
/// naming the URL (ECANCELED when options.should_stop says so). A missing fifo/mq/sysvmq/chan object
/// is an error (ENOENT) unless options.create. A malformed \p url fails as parse_url() does.
[[nodiscard]] IPCKIT_API Result<std::unique_ptr<Sender>> open_sender(std::string_view url,
                                                                     const EndpointOptions& options = {});
/// open_sender() of an already parsed URL.
[[nodiscard]] IPCKIT_API Result<std::unique_ptr<Sender>> open_sender(const Url& url, const EndpointOptions& options);

/// Opens the receiving side: binds/listens/creates/opens and returns when a sender can connect (the
/// moment to signal readiness). Does not wait for a sender. A malformed \p url fails as parse_url() does.
[[nodiscard]] IPCKIT_API Result<std::unique_ptr<Receiver>> open_receiver(std::string_view url,
                                                                         const EndpointOptions& options = {});
/// open_receiver() of an already parsed URL.
[[nodiscard]] IPCKIT_API Result<std::unique_ptr<Receiver>> open_receiver(const Url& url,
                                                                         const EndpointOptions& options);

}  // namespace ipckit
