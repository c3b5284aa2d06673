// SPDX-License-Identifier: Apache-2.0
// Framing: how messages travel over a byte stream (pipe, FIFO, UNIX stream socket, TCP).
//
// Message mechanisms (mq, sysvmq, datagram and seqpacket sockets, the channel) keep message
// boundaries themselves; byte streams need one of these:
//   kLength  a u32 little-endian length, then that many payload bytes (the default; any bytes, 0..max).
//            The length 0xFFFFFFFF is reserved: alone it is the end-of-stream frame, which a sender
//            writes after its last message so that the receiver can tell a finished stream from one
//            whose sender stopped (docs/endpoints.md, "End of stream").
//   kLines   each message is one line ending in '\n' (talks to socat, nc, cat, shells; the message may
//            not contain '\n')
//   kRaw     plain bytes, no boundaries: each read returns whatever arrived (talks to anything)
//
// The decoder treats its input as untrusted: a length above the configured maximum is an Error
// (never an allocation of that size), and it is fuzzed (fuzz/framing_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// How messages travel over a byte stream: kLength (a u32 little-endian length, then the payload; the
/// default), kLines (one line ending in a newline each) or kRaw (plain bytes, no boundaries).
enum class Framing : std::uint8_t { kLength, kLines, kRaw };

/// "length", "lines", "raw".
[[nodiscard]] IPCKIT_API const char* to_string(Framing framing) noexcept;

/// Bytes in the header of a kLength frame.
inline constexpr std::size_t kLengthHeaderSize = 4;
/// The kLength header value that marks the end of the stream (no payload follows). No message can
/// have this length: encode_frame refuses messages of 0xFFFFFFFF bytes or more.
inline constexpr std::uint32_t kEndOfStreamLength = 0xFFFFFFFFU;

/// Appends one encoded message to \p out. Errors (nothing appended): kTooLarge when message.size() >
/// max_message (the text names --size), kInvalidArgument when a kLines message contains `'\n'`.
/// \p object names the endpoint in errors. Pure; thread-safe.
[[nodiscard]] IPCKIT_API Result<void> encode_frame(Framing framing, std::span<const std::byte> message,
                                                   std::size_t max_message, std::string& out,
                                                   std::string_view object = {});

/// Appends the kLength end-of-stream frame (four 0xFF bytes) to \p out.
IPCKIT_API void encode_end_frame(std::string& out);

/// Splits a byte stream back into messages. Feed it what each read returned, then take messages with
/// next() until it returns nullopt; at end of stream call finish(). Never blocks (it does no I/O).
/// Not thread-safe (one per stream).
class IPCKIT_API FrameDecoder {
 public:
  /// A decoder for \p framing. \p max_message: the largest message accepted (a kLength header above
  /// it, or a kLines line longer than it, is an Error). \p object names the endpoint in errors.
  FrameDecoder(Framing framing, std::size_t max_message, std::string object = {});

  /// Appends bytes read from the stream.
  void feed(std::span<const std::byte> bytes);
  /// Appends bytes read from the stream.
  void feed(std::string_view bytes);

  /// The next complete message, or nullopt when more bytes are needed or the end-of-stream frame was
  /// read (then ended() is true and nothing after it is decoded). Errors: kTooLarge for a length
  /// header or line above max_message (the text names --size); after an error the decoder stays failed.
  [[nodiscard]] Result<std::optional<std::string>> next();

  /// At end of stream: the last message if the stream ended without a final delimiter (kLines: an
  /// unterminated last line; kRaw: any rest), nullopt when nothing is left. Errors: kProtocol when a
  /// kLength frame was cut short (the text gives how many bytes were expected and received).
  [[nodiscard]] Result<std::optional<std::string>> finish();

  /// kLength: the end-of-stream frame was decoded.
  [[nodiscard]] bool ended() const noexcept { return ended_; }

  /// Bytes held that do not yet form a message.
  [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size() - pos_; }
  /// The framing this decoder was made for.
  [[nodiscard]] Framing framing() const noexcept { return framing_; }

 private:
  Framing framing_;
  std::size_t max_;
  std::string object_;
  std::string buf_;
  std::size_t pos_ = 0;  // consumed prefix of buf_, dropped when it outgrows the rest
  std::optional<Error> error_;
  bool ended_ = false;
};

}  // namespace ipckit
