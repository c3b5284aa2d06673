// SPDX-License-Identifier: Apache-2.0
// The session markers of message mechanisms (session_marker.hpp): the wire format, and that no
// ordinary message decodes as one.
#include "ipckit/endpoint/session_marker.hpp"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

SessionMarker sample(SessionMarkerKind kind) {
  SessionMarker m;
  m.kind = kind;
  m.session = 0x0123456789abcdefULL;
  m.sender = {4242, 987654321, 4026531836ULL};
  return m;
}

TEST(SessionMarker, RoundTripsAndHasTheDocumentedLayout) {
  for (auto kind : {SessionMarkerKind::kBegin, SessionMarkerKind::kEnd}) {
    const std::string wire = encode_session_marker(sample(kind));
    ASSERT_EQ(wire.size(), kSessionMarkerSize);
    EXPECT_EQ(wire.substr(0, 16), std::string_view("\0\xffipckit-session", 16));
    EXPECT_EQ(wire[16], kind == SessionMarkerKind::kBegin ? 'B' : 'E');
    EXPECT_EQ(wire[17], '\x01');
    EXPECT_EQ(static_cast<unsigned char>(wire[24]), 0xefU);  // session id, little-endian
    EXPECT_EQ(static_cast<unsigned char>(wire[31]), 0x01U);
    EXPECT_EQ(static_cast<unsigned char>(wire[32]), 4242 & 0xff);  // pid
    auto back = decode_session_marker(wire);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, sample(kind));
  }
}

TEST(SessionMarker, OrdinaryMessagesAreNeverMarkers) {
  const std::string good = encode_session_marker(sample(SessionMarkerKind::kEnd));
  EXPECT_FALSE(decode_session_marker("").has_value());     // an empty message is a message
  EXPECT_FALSE(decode_session_marker("\n").has_value());   // so is an empty line
  EXPECT_FALSE(decode_session_marker(good.substr(0, 55)).has_value());
  EXPECT_FALSE(decode_session_marker(good + "x").has_value());
  std::string kind = good;
  kind[16] = 'X';
  EXPECT_FALSE(decode_session_marker(kind).has_value());
  std::string version = good;
  version[17] = '\x02';
  EXPECT_FALSE(decode_session_marker(version).has_value());
  std::string reserved = good;
  reserved[20] = '\x01';
  EXPECT_FALSE(decode_session_marker(reserved).has_value());
  std::string magic = good;
  magic[3] = 'K';
  EXPECT_FALSE(decode_session_marker(magic).has_value());
  EXPECT_TRUE(has_session_marker_magic(good));
  EXPECT_TRUE(has_session_marker_magic(std::string(kSessionMarkerMagic) + "anything"));
  EXPECT_FALSE(has_session_marker_magic(std::string(kSessionMarkerMagic.substr(0, 15))));
}

TEST(SessionMarker, SessionIdsAreFresh) {
  auto a = new_session_id();
  auto b = new_session_id();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);  // 2^-64 to collide
}

}  // namespace
}  // namespace ipckit
