// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/endpoint/framing.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::FailsWith;

std::vector<std::string> random_messages(std::size_t n, std::size_t max, bool no_newline, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string m(rng() % (max + 1), '\0');
    for (auto& c : m) {
      c = static_cast<char>(rng());
      if (no_newline && c == '\n') c = 'n';
    }
    out.push_back(std::move(m));
  }
  return out;
}

// Encodes, then feeds the stream back in pieces of random sizes: the decoder must not care where
// reads split the stream.
void round_trip(Framing framing, bool no_newline) {
  const auto msgs = random_messages(test::scaled(500), 2000, no_newline, 42);
  std::string wire;
  for (const auto& m : msgs) IPCKIT_ASSERT_OK(encode_frame(framing, as_bytes(m), 2000, wire));
  FrameDecoder dec(framing, 2000);
  std::mt19937_64 rng(7);
  std::vector<std::string> got;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const std::size_t n = std::min<std::size_t>(wire.size() - pos, 1 + rng() % 700);
    dec.feed(std::string_view(wire).substr(pos, n));
    pos += n;
    for (;;) {
      auto m = dec.next();
      ASSERT_TRUE(m.has_value()) << m.error().str();
      if (!*m) break;
      got.push_back(std::move(**m));
    }
  }
  auto last = dec.finish();
  ASSERT_TRUE(last.has_value()) << last.error().str();
  EXPECT_FALSE(last->has_value());
  ASSERT_EQ(got.size(), msgs.size());
  for (std::size_t i = 0; i < msgs.size(); ++i) ASSERT_EQ(got[i], msgs[i]) << "message " << i;
}

TEST(Framing, LengthRoundTripAnyBytesAnySplit) { round_trip(Framing::kLength, false); }
TEST(Framing, LinesRoundTripAnySplit) { round_trip(Framing::kLines, true); }

TEST(Framing, LengthHeaderIsLittleEndianU32) {
  std::string wire;
  IPCKIT_ASSERT_OK(encode_frame(Framing::kLength, as_bytes(std::string(0x0102, 'x')), 1 << 20, wire));
  ASSERT_EQ(wire.size(), 4u + 0x0102);
  EXPECT_EQ(static_cast<unsigned char>(wire[0]), 0x02);
  EXPECT_EQ(static_cast<unsigned char>(wire[1]), 0x01);
  EXPECT_EQ(wire[2], '\0');
  EXPECT_EQ(wire[3], '\0');
  std::string empty;
  IPCKIT_ASSERT_OK(encode_frame(Framing::kLength, {}, 10, empty));
  EXPECT_EQ(empty, std::string(4, '\0'));
}

TEST(Framing, EncodeOversizeNamesSize) {
  std::string wire;
  EXPECT_TRUE(FailsWith(encode_frame(Framing::kLength, as_bytes(std::string(11, 'x')), 10, wire, "tcp:h:1"),
                        {"send(\"tcp:h:1\"): too large", "message of 11 bytes > max message size 10", "--size"}));
  EXPECT_TRUE(wire.empty());
  EXPECT_TRUE(FailsWith(encode_frame(Framing::kLines, as_bytes(std::string_view("a\nb")), 10, wire),
                        {"newline", "--lines"}));
  EXPECT_TRUE(wire.empty());
}

TEST(Framing, DecodeOversizeLengthIsAnErrorWithoutAllocating) {
  FrameDecoder dec(Framing::kLength, 1024, "unix:/s");
  dec.feed(std::string_view("\xff\xff\xff\x7f", 4));  // claims ~2 GiB
  EXPECT_TRUE(FailsWith(dec.next(), {"receive(\"unix:/s\"): too large", "frame length 2147483647 > max message size 1024",
                                     "--size", "--lines or --raw"}));
  dec.feed(std::string_view("\0\0\0\0", 4));
  EXPECT_TRUE(FailsWith(dec.next(), {"too large"})) << "a failed decoder stays failed";
}

TEST(Framing, DecodeLongLineIsAnError) {
  FrameDecoder dec(Framing::kLines, 8);
  dec.feed(std::string_view("123456789"));
  EXPECT_TRUE(FailsWith(dec.next(), {"line longer than max message size 8", "--size"}));
  FrameDecoder dec2(Framing::kLines, 8);
  dec2.feed(std::string_view("12345678\n123456789\n"));
  auto first = dec2.next();
  ASSERT_TRUE(first.has_value() && first->has_value());
  EXPECT_EQ(**first, "12345678");
  EXPECT_TRUE(FailsWith(dec2.next(), {"line of 9 bytes > max message size 8"}));
}

TEST(Framing, TruncatedFrameAtEndOfStream) {
  FrameDecoder dec(Framing::kLength, 100);
  dec.feed(std::string_view("\x05\0\0\0ab", 6));
  auto m = dec.next();
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->has_value());
  EXPECT_EQ(dec.buffered(), 6u);
  EXPECT_TRUE(FailsWith(dec.finish(), {"protocol", "ended inside a frame (6 of 9 bytes received"}));
  FrameDecoder hdr(Framing::kLength, 100);
  hdr.feed(std::string_view("\x05\0", 2));
  EXPECT_TRUE(FailsWith(hdr.finish(), {"2 of 4 bytes"}));
}

TEST(Framing, UnterminatedLastLineAndRawRest) {
  FrameDecoder lines(Framing::kLines, 100);
  lines.feed(std::string_view("a\n\nlast"));
  EXPECT_EQ(lines.next().value().value(), "a");
  EXPECT_EQ(lines.next().value().value(), "");
  EXPECT_FALSE(lines.next().value().has_value());
  EXPECT_EQ(lines.finish().value().value(), "last");
  EXPECT_FALSE(lines.finish().value().has_value());

  FrameDecoder raw(Framing::kRaw, 4);
  raw.feed(std::string_view("0123456789"));  // raw has no maximum per read: it is not a message format
  EXPECT_EQ(raw.next().value().value(), "0123456789");
  EXPECT_FALSE(raw.next().value().has_value());
  EXPECT_FALSE(raw.finish().value().has_value());
  std::string wire;
  IPCKIT_ASSERT_OK(encode_frame(Framing::kRaw, as_bytes(std::string_view("a\nb")), 10, wire));
  EXPECT_EQ(wire, "a\nb");
  EXPECT_STREQ(to_string(Framing::kLines), "lines");
}

TEST(Framing, EndFrameEndsTheStreamAndWhatFollowsIsIgnored) {
  std::string wire;
  ASSERT_TRUE(encode_frame(Framing::kLength, as_bytes(std::string_view("ab")), 100, wire).has_value());
  encode_end_frame(wire);
  EXPECT_EQ(wire.substr(wire.size() - 4), std::string(4, '\xff'));
  wire += "garbage after the end";
  FrameDecoder dec(Framing::kLength, 100);
  // Byte by byte, so the end frame is also found when its header arrives in pieces.
  std::vector<std::string> got;
  for (char c : wire) {
    dec.feed(std::string_view(&c, 1));
    for (;;) {
      auto m = dec.next();
      ASSERT_TRUE(m.has_value()) << m.error().str();
      if (!*m) break;
      got.push_back(**m);
    }
  }
  EXPECT_EQ(got, std::vector<std::string>{"ab"});
  EXPECT_TRUE(dec.ended());
  auto last = dec.finish();
  ASSERT_TRUE(last.has_value()) << last.error().str();  // not "ended inside a frame"
  EXPECT_FALSE(last->has_value());
  // A plain end of stream after whole frames is not an end frame: the receiver decides what it means.
  FrameDecoder plain(Framing::kLength, 100);
  plain.feed(std::string_view("\x01\0\0\0z", 5));
  EXPECT_EQ(plain.next().value().value(), "z");
  EXPECT_FALSE(plain.finish().value().has_value());
  EXPECT_FALSE(plain.ended());
}

}  // namespace
}  // namespace ipckit
