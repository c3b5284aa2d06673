// SPDX-License-Identifier: Apache-2.0
// Session markers: how an endpoint sender on a message mechanism (mq, sysvmq, unix-dgram,
// unix-seqpacket, udp) tells its receiver where its session begins and where it ends.
//
// A queue keeps messages after their sender and receiver are gone, so "end of stream" on a queue
// has to be a message; and since a `--count` receiver may stop before the end, an end marker can be
// left behind for a later receiver. Each marker therefore carries a random 64-bit session id: a
// receiver ends on an end marker only when it saw the same session's begin marker, and ignores any
// other. The begin marker also carries the sender's ProcessIdentity, so a receiver whose sender died
// mid-session can say so instead of waiting forever (not for udp, whose sender may be on another host).
//
// Wire format (kSessionMarkerSize = 56 bytes, integers little-endian):
//   [0, 16)   kSessionMarkerMagic: "\0\xff" "ipckit-session"
//   [16]      kind: 'B' begin, 'E' end
//   [17]      version: 1
//   [18, 24)  zero
//   [24, 32)  session id
//   [32, 56)  sender pid (i64), start time (u64), pid-namespace inode (u64); zero when unknown
// A message is a marker only when it has exactly this size, magic, kind, version and zeros; an
// endpoint sender in marker mode refuses a user message that begins with the magic, so a message
// ipckit sent can never be taken for a marker (an empty message or an empty line is a message).
// The markers travel like the session's messages (same mq priority, same sysvmq type), so they take
// no value away from the user. Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipckit/core/liveness.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// Bytes in an encoded session marker.
inline constexpr std::size_t kSessionMarkerSize = 56;
/// The 16 bytes every session marker begins with: a zero byte, a 0xFF byte, then "ipckit-session".
inline constexpr std::string_view kSessionMarkerMagic{"\0\xffipckit-session", 16};

/// Which end of a session a marker marks: kBegin ('B') or kEnd ('E'), the marker's kind byte.
enum class SessionMarkerKind : std::uint8_t { kBegin = 'B', kEnd = 'E' };

/// One decoded session marker (the wire format is in the file comment).
struct SessionMarker {
  SessionMarkerKind kind = SessionMarkerKind::kBegin;  ///< begin or end
  std::uint64_t session = 0;  ///< the random session id
  ProcessIdentity sender;  ///< pid 0: unknown (no liveness check)

  /// Equal when every field is.
  friend bool operator==(const SessionMarker&, const SessionMarker&) = default;
};

/// The 56 bytes of \p marker.
[[nodiscard]] IPCKIT_API std::string encode_session_marker(const SessionMarker& marker);
/// The marker \p message is, or nullopt when it is an ordinary message.
[[nodiscard]] IPCKIT_API std::optional<SessionMarker> decode_session_marker(std::string_view message) noexcept;
/// True when \p message begins with kSessionMarkerMagic (such a message cannot be sent in marker mode).
[[nodiscard]] IPCKIT_API bool has_session_marker_magic(std::string_view message) noexcept;
/// A fresh random session id (getrandom). Errors: the getrandom failure.
[[nodiscard]] IPCKIT_API Result<std::uint64_t> new_session_id();

}  // namespace ipckit
