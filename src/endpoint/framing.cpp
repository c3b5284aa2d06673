// SPDX-License-Identifier: Apache-2.0
#include "ipckit/endpoint/framing.hpp"

#include <cstring>

#include <fmt/format.h>

namespace ipckit {
namespace {

std::string object_text(std::string_view object) { return object.empty() ? std::string() : quoted(object); }

}  // namespace

const char* to_string(Framing framing) noexcept {
  switch (framing) {
    case Framing::kLength:
      return "length";
    case Framing::kLines:
      return "lines";
    case Framing::kRaw:
      return "raw";
  }
  return "unknown";
}

Result<void> encode_frame(Framing framing, std::span<const std::byte> message, std::size_t max_message,
                          std::string& out, std::string_view object) {
  if (message.size() > max_message) {
    return fail_library(LibraryCode::kTooLarge, "send", object_text(object),
                        fmt::format("message of {} bytes > max message size {} (raise it with --size)",
                                    message.size(), max_message));
  }
  const auto* p = reinterpret_cast<const char*>(message.data());
  switch (framing) {
    case Framing::kLength: {
      // The length fits: max_message is checked against u32 by callers that accept > 4 GiB sizes.
      // 0xFFFFFFFF itself is the end-of-stream frame, never a message length.
      if (message.size() >= kEndOfStreamLength) {
        return fail_library(LibraryCode::kTooLarge, "send", object_text(object),
                            fmt::format("message of {} bytes does not fit a u32 length header", message.size()));
      }
      const auto n = static_cast<std::uint32_t>(message.size());
      const char header[kLengthHeaderSize] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                                              static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
      out.append(header, kLengthHeaderSize);
      out.append(p, message.size());
      return {};
    }
    case Framing::kLines:
      if (std::memchr(p, '\n', message.size()) != nullptr) {
        return fail_library(LibraryCode::kInvalidArgument, "send", object_text(object),
                            "a message containing a newline cannot be sent with line framing (--lines)");
      }
      out.append(p, message.size());
      out.push_back('\n');
      return {};
    case Framing::kRaw:
      out.append(p, message.size());
      return {};
  }
  return {};
}

void encode_end_frame(std::string& out) { out.append(kLengthHeaderSize, static_cast<char>(0xff)); }

FrameDecoder::FrameDecoder(Framing framing, std::size_t max_message, std::string object)
    : framing_(framing), max_(max_message), object_(std::move(object)) {}

void FrameDecoder::feed(std::span<const std::byte> bytes) {
  feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void FrameDecoder::feed(std::string_view bytes) {
  // Drop the consumed prefix once it is larger than what is left, so the buffer stays proportional to
  // one frame and the copy is amortised O(1) per byte.
  if (pos_ > 0 && pos_ >= buf_.size() - pos_) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<std::string>> FrameDecoder::next() {
  if (error_) return fail(*error_);
  if (ended_) return std::nullopt;
  const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  switch (framing_) {
    case Framing::kLength: {
      if (rest.size() < kLengthHeaderSize) return std::nullopt;
      const auto* h = reinterpret_cast<const unsigned char*>(rest.data());
      const std::uint64_t n = std::uint64_t{h[0]} | (std::uint64_t{h[1]} << 8) | (std::uint64_t{h[2]} << 16) |
                              (std::uint64_t{h[3]} << 24);
      if (n == kEndOfStreamLength) {
        // The sender finished: what follows (nothing, from ipckit) is not part of the stream.
        ended_ = true;
        buf_.clear();
        pos_ = 0;
        return std::nullopt;
      }
      if (n > max_) {
        error_ = Error::library(LibraryCode::kTooLarge, "receive", object_text(object_),
                                fmt::format("frame length {} > max message size {} (raise it with --size; or the "
                                            "peer does not send length-prefixed frames: try --lines or --raw)",
                                            n, max_));
        return fail(*error_);
      }
      if (rest.size() - kLengthHeaderSize < n) return std::nullopt;
      std::string msg(rest.substr(kLengthHeaderSize, n));
      pos_ += kLengthHeaderSize + n;
      return std::optional<std::string>(std::move(msg));
    }
    case Framing::kLines: {
      const std::size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) {
        if (rest.size() > max_) {
          error_ = Error::library(LibraryCode::kTooLarge, "receive", object_text(object_),
                                  fmt::format("line longer than max message size {} (raise it with --size)", max_));
          return fail(*error_);
        }
        return std::nullopt;
      }
      if (nl > max_) {
        error_ = Error::library(LibraryCode::kTooLarge, "receive", object_text(object_),
                                fmt::format("line of {} bytes > max message size {} (raise it with --size)", nl, max_));
        return fail(*error_);
      }
      std::string msg(rest.substr(0, nl));
      pos_ += nl + 1;
      return std::optional<std::string>(std::move(msg));
    }
    case Framing::kRaw: {
      if (rest.empty()) return std::nullopt;
      std::string msg(rest);
      buf_.clear();
      pos_ = 0;
      return std::optional<std::string>(std::move(msg));
    }
  }
  return std::nullopt;
}

Result<std::optional<std::string>> FrameDecoder::finish() {
  auto r = next();
  if (!r || *r || ended_) return r;
  const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  if (rest.empty()) return std::nullopt;
  switch (framing_) {
    case Framing::kLength: {
      std::size_t expected = kLengthHeaderSize;
      if (rest.size() >= kLengthHeaderSize) {
        const auto* h = reinterpret_cast<const unsigned char*>(rest.data());
        expected += std::size_t{h[0]} | (std::size_t{h[1]} << 8) | (std::size_t{h[2]} << 16) |
                    (std::size_t{h[3]} << 24);
      }
      error_ = Error::library(LibraryCode::kProtocol, "receive", object_text(object_),
                              fmt::format("the stream ended inside a frame ({} of {} bytes received; the sender "
                                          "stopped mid-message)",
                                          rest.size(), expected));
      return fail(*error_);
    }
    case Framing::kLines:
    case Framing::kRaw: {
      std::string msg(rest);
      buf_.clear();
      pos_ = 0;
      return std::optional<std::string>(std::move(msg));
    }
  }
  return std::nullopt;
}

}  // namespace ipckit
