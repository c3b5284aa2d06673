// SPDX-License-Identifier: Apache-2.0
// Bridge: moves messages from one endpoint to another (docs/bridge.md), e.g. a local channel to NATS
// on one host and NATS back to a channel on another:
//
//   host A:  ipckit bridge chan:/ticks nats:hub:4222/ticks --create
//   host B:  ipckit bridge nats:hub:4222/ticks chan:/ticks --create
//
// Any two endpoint URLs work (chan -> tcp, mq -> chan, ...). The receiving side of FROM is opened
// first (it binds, creates or subscribes), then the sending side of TO (which waits for its receiver up
// to the open timeout). Messages go in batches of at most `window_messages` / `window_bytes`: that is
// all the bridge holds, so a slow TO slows FROM down (backpressure) and memory stays bounded.
// The end of FROM's stream (its end marker, docs/endpoints.md "End of stream") ends TO's stream
// with TO's own marker, so `send | bridge | bridge | recv` ends cleanly; a FROM stream that failed
// (cut short, messages lost in transit on nats:) is an error and TO is left *without* its end marker,
// so the receiver downstream reports the stream as cut short rather than complete. For that, on an
// error the sending sides are abandoned rather than destroyed (destroying a chan: sender would end
// its stream as cleanly as finish_until()): they stay open until the process exits. A program that
// runs many bridges and survives their failures loses one Sender's memory and descriptors per failure.
//
// Blocking: run_bridge() returns when the stream(s) ended, `count` messages went, should_stop()
// said so, or an error. Thread safety: run_bridge may be called from any thread; callbacks run on
// the calling thread (on_ready, on_progress).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/sender_receiver.hpp"

namespace ipckit {

/// What one direction of a bridge moved and saw.
struct BridgeCounters {
  std::string from;  ///< the FROM URL as given
  std::string to;  ///< the TO URL as given
  std::uint64_t messages = 0;   ///< messages handed to TO
  std::uint64_t bytes = 0;  ///< message bytes handed to TO
  std::uint64_t drops = 0;      ///< nats: FROM: messages missing from the sequence (lost) + dropped as slow consumer
  std::uint64_t reconnects = 0; ///< nats: connections re-established (FROM and TO)
  std::uint64_t in_flight = 0;  ///< read from FROM and not (yet) accepted by TO; after a stop: not delivered
};

/// Why run_bridge() returned successfully.
enum class BridgeEnd : std::uint8_t {
  kEndOfStream,  ///< FROM's stream ended (every direction's, with both_ways) and TO's was ended the same way
  kCount,        ///< `count` messages went (TO ended with its end marker)
  kStopped,      ///< should_stop() returned true; what was in flight was delivered or is counted in in_flight
};

/// What a bridge that ended without error did.
struct BridgeResult {
  BridgeEnd end = BridgeEnd::kEndOfStream;  ///< why it ended
  std::vector<BridgeCounters> directions;  ///< `[0]` FROM -> TO, `[1]` TO -> FROM with both_ways
};

/// How run_bridge() opens its ends, how far it goes and what it reports.
struct BridgeOptions {
  /// Applied to both ends (create: FROM and TO; framing; end_marker; open_timeout; should_stop; nats
  /// credentials). Each end gets its own NatsCounters (the counters field is ignored).
  EndpointOptions endpoint;
  /// Also move messages from TO to FROM (a second direction, its own thread): FROM's and TO's
  /// receiving sides are opened first, then both sending sides. A nats: receiver skips what this
  /// process's own nats: senders published, so a NATS side does not feed itself.
  bool both_ways = false;
  /// Stop after this many messages (per direction; 0: until the stream ends), then end TO's stream.
  std::uint64_t count = 0;
  /// Fail (ETIMEDOUT) when no message arrives for this long, or when TO takes none for this long
  /// (nullopt: wait as long as it takes; a NATS server that restarts then costs no message).
  std::optional<std::chrono::milliseconds> timeout;
  /// The in-flight window: a batch is at most this many messages and window_bytes bytes (plus one message).
  std::size_t window_messages = 1024;
  std::size_t window_bytes = std::size_t{4} << 20;  ///< the in-flight window in bytes (see window_messages)
  /// Called once every end is open (core NATS drops what is published before a subscription exists, so
  /// this is the moment a producer may start). Runs on the calling thread.
  std::function<void()> on_ready;
  /// Called every progress_interval while running, with the counters so far. Runs on the calling thread.
  std::function<void(const std::vector<BridgeCounters>&)> on_progress;
  std::chrono::milliseconds progress_interval{1000};  ///< how often on_progress is called
};

/// Runs the bridge from URL \p from to URL \p to. Blocks until the stream(s) ended, `count` messages
/// went, should_stop() said so, or an error. May be called from any thread; the callbacks run on the
/// calling thread. Errors: opening either end (the URL's error), a FROM stream that failed (its
/// error: kProtocol cut short, kTruncated messages lost on nats:), TO gone (EPIPE: its receiver went
/// away after N messages), a timeout (ETIMEDOUT). On an error the sending sides are abandoned, not
/// destroyed, so TO's stream is left without its end marker (see the file comment).
/// \p counters, when given, receives the counters also on error (for the "on exit" line).
[[nodiscard]] IPCKIT_API Result<BridgeResult> run_bridge(std::string_view from, std::string_view to,
                                                        const BridgeOptions& options,
                                                        std::vector<BridgeCounters>* counters = nullptr);

}  // namespace ipckit
