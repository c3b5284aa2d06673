// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/endpoint/url.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::FailsWith;

TEST(Url, PathSchemes) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url f, parse_url("fifo:/tmp/x.fifo?mode=0660"));
  EXPECT_EQ(f.scheme, Scheme::kFifo);
  EXPECT_EQ(f.address, "/tmp/x.fifo");
  EXPECT_EQ(f.option("mode"), "0660");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url u, parse_url("unix:@jobs"));
  EXPECT_EQ(u.scheme, Scheme::kUnix);
  EXPECT_EQ(u.address, "@jobs");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url d, parse_url("unix-dgram:/tmp/d.sock"));
  EXPECT_EQ(d.scheme, Scheme::kUnixDgram);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url s, parse_url("unix-seqpacket:@x"));
  EXPECT_EQ(s.scheme, Scheme::kUnixSeqpacket);
  EXPECT_STREQ(to_string(s.scheme), "unix-seqpacket");
}

TEST(Url, NamedObjectsAndOptions) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url m, parse_url("mq:/jobs?maxmsg=10&msgsize=8KiB&priority=3"));
  EXPECT_EQ(m.scheme, Scheme::kMq);
  EXPECT_EQ(m.address, "/jobs");
  EXPECT_EQ(m.option("maxmsg"), "10");
  EXPECT_EQ(m.option("msgsize"), "8KiB");
  EXPECT_EQ(m.option("nope"), std::nullopt);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url c, parse_url("chan:/c?pattern=mpmc&capacity=1MiB&max=64KiB"));
  EXPECT_EQ(c.scheme, Scheme::kChan);
  EXPECT_EQ(c.option("pattern"), "mpmc");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url k, parse_url("sysvmq:0x1234?type=2"));
  ASSERT_TRUE(k.sysv_key.has_value());
  EXPECT_EQ(*k.sysv_key, 0x1234u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url kd, parse_url("sysvmq:4660"));
  EXPECT_EQ(*kd.sysv_key, 4660u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url p, parse_url("sysvmq:/tmp"));
  EXPECT_FALSE(p.sysv_key.has_value());
  EXPECT_EQ(p.proj, 1);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url p7, parse_url("sysvmq:/tmp?proj=7"));
  EXPECT_EQ(p7.proj, 7);
}

TEST(Url, HostPort) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url t, parse_url("tcp:127.0.0.1:9000"));
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 9000);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url v6, parse_url("udp:[::1]:53"));
  EXPECT_EQ(v6.scheme, Scheme::kUdp);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 53);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url any, parse_url("tcp:*:0"));
  EXPECT_EQ(any.host, "*");
  EXPECT_EQ(any.port, 0);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url name, parse_url("tcp:localhost:65535"));
  EXPECT_EQ(name.host, "localhost");
  EXPECT_EQ(name.port, 65535);
}

TEST(Url, PipeCommand) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url bare, parse_url("pipe:"));
  EXPECT_TRUE(bare.command.empty());
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url p, parse_url("pipe: -- sort  -n"));
  EXPECT_EQ(p.command, (std::vector<std::string>{"sort", "-n"}));
  EXPECT_TRUE(FailsWith(parse_url("pipe:sort"), {"url(\"pipe:sort\")", "unexpected \"sort\"", "pipe: -- CMD ARGS"}));
}

TEST(Url, BadSchemeShowsTheList) {
  EXPECT_TRUE(FailsWith(parse_url("/tmp/x"), {"url(\"/tmp/x\"): invalid argument", "missing scheme", "fifo:",
                                              "unix-seqpacket:", "chan:"}));
  EXPECT_TRUE(FailsWith(parse_url("tpc:1.2.3.4:5"), {"unknown scheme \"tpc:\"", "expected one of pipe: fifo:"}));
  EXPECT_TRUE(FailsWith(parse_url(""), {"missing scheme"}));
}

TEST(Url, BadHostPortNamesThePartAndTheForm) {
  EXPECT_TRUE(FailsWith(parse_url("tcp:localhost"),
                        {"missing \":PORT\" after \"localhost\"", "expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:9000"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:1.2.3.4:http"), {"bad port \"http\"", "0..65535"}));
  EXPECT_TRUE(FailsWith(parse_url("udp:1.2.3.4:70000"), {"bad port \"70000\"", "expected udp:HOST:PORT"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:::1:80"), {"must be written in brackets", "[::1]:PORT"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:[::1:80"), {"unterminated IPv6 address", "missing ']'"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:[::1]80"), {"missing \":PORT\" after \"[::1]\""}));
  EXPECT_TRUE(FailsWith(parse_url("tcp::80"), {"missing HOST", "use * for any"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:"), {"missing HOST:PORT"}));
}

TEST(Url, BadNamesAndKeys) {
  EXPECT_TRUE(FailsWith(parse_url("mq:jobs"), {"bad name \"jobs\"", "must start with '/'", "expected mq:/name"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/a/b"), {"only one '/'"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:"), {"missing /name", "expected chan:/name"}));
  EXPECT_TRUE(FailsWith(parse_url("sysvmq:0xZZ"), {"bad key \"0xZZ\"", "sysvmq:0xKEY or sysvmq:/path?proj=N"}));
  EXPECT_TRUE(FailsWith(parse_url("sysvmq:0"), {"IPC_PRIVATE"}));
  EXPECT_TRUE(FailsWith(parse_url("unix:"), {"missing /path or @abstract name", "expected unix:/path or unix:@abstract"}));
  EXPECT_TRUE(FailsWith(parse_url("unix:@"), {"missing name after '@'"}));
  EXPECT_TRUE(FailsWith(parse_url("unix:/" + std::string(200, 'x')), {"sun_path holds at most 107"}));
  EXPECT_TRUE(FailsWith(parse_url("fifo:"), {"missing path", "expected fifo:/path"}));
}

TEST(Url, BadOptions) {
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?color=red"),
                        {"unknown option \"color\" for mq", "mq accepts maxmsg, msgsize, priority, mode"}));
  EXPECT_TRUE(FailsWith(parse_url("tcp:h:1?mode=0600"), {"unknown option \"mode\"", "tcp accepts no options"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/c?pattern=lifo"), {"bad value \"lifo\" for option \"pattern\"", "spsc, mpmc or broadcast"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/c?capacity=lots"), {"bad value \"lots\"", "64KiB"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?maxmsg=0"), {"bad value \"0\" for option \"maxmsg\""}));
  EXPECT_TRUE(FailsWith(parse_url("fifo:/x?mode=999"), {"octal permission"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?priority=40000"), {"0..32767"}));
  EXPECT_TRUE(FailsWith(parse_url("sysvmq:0x1?proj=2"), {"sysvmq:/path only"}));
  EXPECT_TRUE(FailsWith(parse_url("sysvmq:/tmp?proj=300"), {"1..255"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?maxmsg"), {"bad option \"maxmsg\"", "?key=value"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?maxmsg=1&maxmsg=2"), {"given twice"}));
}

TEST(Url, SchemeTable) {
  for (Scheme s : kAllSchemes) {
    EXPECT_FALSE(std::string_view(to_string(s)).empty());
    EXPECT_NE(expected_form(s).find(std::string(to_string(s)) + ":"), std::string_view::npos) << to_string(s);
  }
  EXPECT_TRUE(is_byte_stream(Scheme::kTcp));
  EXPECT_TRUE(is_byte_stream(Scheme::kFifo));
  EXPECT_FALSE(is_byte_stream(Scheme::kUnixSeqpacket));
  EXPECT_FALSE(is_byte_stream(Scheme::kChan));
}

// Sizes in URL options go through the one size parser (core/units.hpp; its own tests are
// tests/core/units_test.cpp): binary suffixes, SI spellings rejected, 1 TiB parses.
TEST(Url, SizeOptionsUseTheOneSizeParser) {
  EXPECT_TRUE(parse_url("chan:/j?capacity=4GiB&max=64KiB"));
  EXPECT_TRUE(parse_url("chan:/j?capacity=1G"));
  EXPECT_TRUE(parse_url("mq:/j?msgsize=8192"));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?capacity=1MB"), {"capacity", "ambiguous", "1MiB"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?capacity=8GiB"), {"8 GiB is out of range", "1 B..4 GiB"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?max=2GiB"), {"out of range", "1 GiB"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?msgsize=0"), {"msgsize", "out of range"}));
  EXPECT_TRUE(FailsWith(parse_url("mq:/j?msgsize=lots"), {"msgsize", "not a size"}));
}

// One rule for every path scheme: absolute, ./ or ../ (relative to the current directory).
TEST(Url, PathSchemesTakeAbsoluteOrDotPaths) {
  EXPECT_TRUE(parse_url("unix:./s.sock"));
  EXPECT_TRUE(parse_url("unix-seqpacket:../s.sock"));
  EXPECT_TRUE(parse_url("fifo:./f"));
  auto k = parse_url("sysvmq:./dir");
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->sysv_key.has_value());
  EXPECT_TRUE(FailsWith(parse_url("unix:s.sock"), {"\"s.sock\" is not a path", "unix:./s.sock", "unix:@s.sock"}));
  EXPECT_TRUE(FailsWith(parse_url("fifo:f"), {"fifo:./f"}));
}

// A channel that cannot be created is refused by parse_url (a usage error), not at creation.
TEST(Url, ChanOptionsAreCheckedTogether) {
  EXPECT_TRUE(parse_url("chan:/j?pattern=broadcast&policy=lapse"));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?policy=lapse"), {"policy", "pattern=broadcast only", "pattern=spsc"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?pattern=mpmc&policy=block"), {"pattern=broadcast only"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?capacity=100"), {"not a power of two", "try capacity=128"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?capacity=4KiB&max=64KiB"),
                        {"capacity 4 KiB is below two records of max 64 KiB", "raise capacity= to 256KiB"}));
  EXPECT_TRUE(FailsWith(parse_url("chan:/j?capacity=64KiB"), {"below two records of max 64 KiB"}));
}

}  // namespace
}  // namespace ipckit
