// SPDX-License-Identifier: Apache-2.0
#include "ipckit/endpoint/session_marker.hpp"

#include <sys/random.h>

#include <cstring>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"

namespace ipckit {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kKindAt = 16;
constexpr std::size_t kVersionAt = 17;
constexpr std::size_t kReservedAt = 18;
constexpr std::size_t kSessionAt = 24;
constexpr std::size_t kPidAt = 32;
constexpr std::size_t kStartTimeAt = 40;
constexpr std::size_t kPidNsAt = 48;
static_assert(kPidNsAt + 8 == kSessionMarkerSize);

void put_u64(std::string& out, std::size_t at, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return v;
}

}  // namespace

std::string encode_session_marker(const SessionMarker& marker) {
  std::string out(kSessionMarkerSize, '\0');
  std::memcpy(out.data(), kSessionMarkerMagic.data(), kSessionMarkerMagic.size());
  out[kKindAt] = static_cast<char>(marker.kind);
  out[kVersionAt] = static_cast<char>(kVersion);
  put_u64(out, kSessionAt, marker.session);
  put_u64(out, kPidAt, static_cast<std::uint64_t>(marker.sender.pid));
  put_u64(out, kStartTimeAt, marker.sender.start_time);
  put_u64(out, kPidNsAt, marker.sender.pid_ns);
  return out;
}

bool has_session_marker_magic(std::string_view message) noexcept {
  return message.substr(0, kSessionMarkerMagic.size()) == kSessionMarkerMagic;
}

std::optional<SessionMarker> decode_session_marker(std::string_view message) noexcept {
  if (message.size() != kSessionMarkerSize || !has_session_marker_magic(message)) return std::nullopt;
  const auto kind = static_cast<unsigned char>(message[kKindAt]);
  if (kind != static_cast<unsigned char>(SessionMarkerKind::kBegin) &&
      kind != static_cast<unsigned char>(SessionMarkerKind::kEnd)) {
    return std::nullopt;
  }
  if (static_cast<unsigned char>(message[kVersionAt]) != kVersion) return std::nullopt;
  for (std::size_t i = kReservedAt; i < kSessionAt; ++i) {
    if (message[i] != '\0') return std::nullopt;
  }
  SessionMarker m;
  m.kind = static_cast<SessionMarkerKind>(kind);
  m.session = get_u64(message, kSessionAt);
  m.sender.pid = static_cast<std::int64_t>(get_u64(message, kPidAt));
  m.sender.start_time = get_u64(message, kStartTimeAt);
  m.sender.pid_ns = get_u64(message, kPidNsAt);
  return m;
}

Result<std::uint64_t> new_session_id() {
  std::uint64_t id = 0;
  const ssize_t n = no_eintr(::getrandom, &id, sizeof id, 0U);
  if (n < 0) return last_errno().fail("getrandom", "session id");
  // Requests of up to 256 bytes never come back short once the pool is initialised (getrandom(2)).
  if (n != static_cast<ssize_t>(sizeof id)) {
    return fail_library(LibraryCode::kTruncated, "getrandom", "session id",
                        fmt::format("{} of {} bytes", n, sizeof id));
  }
  return id;
}

}  // namespace ipckit
