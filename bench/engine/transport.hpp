// SPDX-License-Identifier: Apache-2.0
// TransportSession: the throughput and round-trip bodies shared by every mechanism that moves
// messages through send/receive calls (kernel mechanisms, and peer libraries later).
//
// A driver supplies the per-side operations; the loops here do the framing, verification, timing
// and end-of-run handshake the same way for all of them:
//  - stream mechanisms: one write() per framed message; the reader reads up to 64 KiB at a time and
//    parses frames out of its buffer; the sender ends the run by closing its end (EOF).
//  - message mechanisms: one message per frame; the sender ends the run with an end frame.
//  - lossy mechanisms (udp): receives time out so a lost end frame cannot hang the receiver; gaps in
//    the sequence are counted (lost = sent - received), and a round trip whose reply does not come
//    back in time is given up and counted as lost.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include "engine/mechanism.hpp"

namespace ipckit::bench {

class TransportSession : public Session {
 public:
  enum class Kind { kStream, kMessage };
  TransportSession(Kind kind, bool lossy) noexcept : kind_(kind), lossy_(lossy) {}

  [[nodiscard]] Result<void> run(Role role, const RunContext& ctx, SideStats& stats) final;
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  // Lossy mechanisms: how long a receive waits before reporting a time-out.
  static constexpr std::chrono::milliseconds kLossyTimeout{50};

 protected:
  // Child: sends one whole frame to the peer (stream: one write() finished by write_full; message:
  // one message). Returns false when the peer is gone (EPIPE, ECONNRESET).
  [[nodiscard]] virtual Result<bool> send(std::span<const std::byte> frame) = 0;
  // Child: stream: one read of up to buf.size() bytes, 0 at end of stream; message: one message
  // (its length; buf is one byte larger than a frame so truncation shows). nullopt: timed out
  // (lossy mechanisms only).
  [[nodiscard]] virtual Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) = 0;
  // Child: the sender's end of the run (stream: close or shut down its writing end).
  [[nodiscard]] virtual Result<void> finish_sending() { return {}; }


 private:
  Result<void> stream_receiver(const RunContext& ctx, SideStats& stats);
  Result<void> message_receiver(const RunContext& ctx, SideStats& stats);
  Result<void> throughput_sender(const RunContext& ctx, SideStats& stats);
  Result<void> rtt_client(const RunContext& ctx, SideStats& stats);
  Result<void> rtt_server(const RunContext& ctx, SideStats& stats);
  // Receives one frame (stream: exactly `size` bytes) into buf; returns its length, 0 at end of
  // stream or when the peer left; a lossy receive that timed out sets `timed_out`.
  Result<std::size_t> receive_frame(std::span<std::byte> buf, std::size_t size, bool& timed_out);

  Kind kind_;
  bool lossy_;
};

}  // namespace ipckit::bench
