// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// The nats: URL forms (parse_url only: no server; the endpoint itself is tested in tests/bridge).
#include <string>

#include <gtest/gtest.h>

#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/endpoint/url.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::FailsWith;

TEST(NatsUrl, OneServer) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url u, parse_url("nats:127.0.0.1:4222/ticks.eu"));
  EXPECT_EQ(u.scheme, Scheme::kNats);
  EXPECT_STREQ(to_string(u.scheme), "nats");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 4222);
  EXPECT_EQ(u.subject, "ticks.eu");
  ASSERT_EQ(u.servers.size(), 1U);
  EXPECT_EQ(u.servers[0], "127.0.0.1:4222");
  EXPECT_FALSE(is_byte_stream(u.scheme));
}

TEST(NatsUrl, SeveralServersQueueAndTls) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url u, parse_url("nats+tls:h1:4222,[::1]:4223,h3:4224/jobs?queue=workers"));
  EXPECT_EQ(u.scheme, Scheme::kNats);
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.servers, (std::vector<std::string>{"h1:4222", "[::1]:4223", "h3:4224"}));
  EXPECT_EQ(u.host, "h1");
  EXPECT_EQ(u.port, 4222);
  EXPECT_EQ(u.subject, "jobs");
  EXPECT_EQ(u.option("queue"), "workers");
}

TEST(NatsUrl, WildcardSubjectsParse) {
  // Wildcards are for receivers; the sender refuses them when it opens.
  EXPECT_TRUE(parse_url("nats:h:1/ticks.*").has_value());
  EXPECT_TRUE(parse_url("nats:h:1/ticks.>").has_value());
  EXPECT_TRUE(parse_url("nats:h:1/>").has_value());
}

TEST(NatsUrl, BadForms) {
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222"), {"missing /SUBJECT", "nats:HOST:PORT/SUBJECT"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/"), {"missing SUBJECT"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h/ticks"), {"missing \":PORT\""}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:0/ticks"), {"port 0"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:*:4222/ticks"), {"not *"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222,/ticks"), {"empty server"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:,h:4222/ticks"), {"empty server"}));
  EXPECT_TRUE(FailsWith(parse_url("nats://h:4222/ticks"), {"no \"//\"", "nats:h:4222/ticks"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/a..b"), {"bad subject \"a..b\""}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/a b"), {"bad subject"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/a.>.b"), {"bad subject"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/a*"), {"bad subject"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/t?queue=a.b"), {"queue group name"}));
  EXPECT_TRUE(FailsWith(parse_url("nats:h:4222/t?stream=s"), {"unknown option \"stream\"", "nats accepts queue"}));
  EXPECT_TRUE(FailsWith(parse_url("nats+ssl:h:4222/t"), {"unknown scheme", "nats+tls:"}));
}

TEST(NatsUrl, CredentialsRefusedAndNeverEchoed) {
  for (const char* text : {"nats:alice:s3cret@h:4222/t", "nats+tls:s3cret@h:4222/t", "nats:alice:s3/cr?et@h:4222/t",
                           "nats:h:4222,alice:s3cret@h2:4222/t"}) {
    auto r = parse_url(text);
    ASSERT_FALSE(r) << text;
    const std::string e = r.error().str();
    EXPECT_NE(e.find("credentials in a URL are refused"), std::string::npos) << e;
    EXPECT_NE(e.find("IPCKIT_NATS_TOKEN"), std::string::npos) << e;
    EXPECT_EQ(e.find("s3"), std::string::npos) << "the password is printed: " << e;
    EXPECT_EQ(e.find("alice"), std::string::npos) << "the user is printed: " << e;
  }
}

TEST(NatsUrl, EndMarkerWithLinesAsOnQueues) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Url u, parse_url("nats:h:4222/t"));
  EndpointOptions o;
  EXPECT_TRUE(uses_end_marker(u, o));
  o.framing = Framing::kLines;
  EXPECT_TRUE(uses_end_marker(u, o));  // the markers travel in headers: lines do not change them
  o.framing = Framing::kRaw;
  EXPECT_FALSE(uses_end_marker(u, o));
}

}  // namespace
}  // namespace ipckit
