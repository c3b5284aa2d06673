// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/socket_address.hpp"

#include <netinet/in.h>

#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(SocketAddress, UnixPathAndAbstract) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress p, SocketAddress::unix_socket("/tmp/s.sock"));
  EXPECT_TRUE(p.is_unix());
  EXPECT_FALSE(p.is_abstract());
  EXPECT_EQ(p.unix_path(), "/tmp/s.sock");
  EXPECT_EQ(p.to_string(), "/tmp/s.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, SocketAddress::unix_socket("@ipckit.demo"));
  EXPECT_TRUE(a.is_abstract());
  EXPECT_EQ(a.to_string(), "@ipckit.demo");
  EXPECT_EQ(a.unix_path(), "");
}

TEST(SocketAddress, UnixPathTooLongNamesTheLimit) {
  EXPECT_TRUE(test::FailsWith(SocketAddress::unix_socket("/" + std::string(120, 'p')),
                              {"sockaddr_un(", "invalid argument", "at most 107", "@abstract"}));
  EXPECT_TRUE(test::FailsWith(SocketAddress::unix_socket(""), {"expected /path or @abstract-name"}));
  EXPECT_TRUE(test::FailsWith(SocketAddress::unix_socket("@"), {"1..107 characters"}));
}

TEST(SocketAddress, ResolveLoopbackBothFamilies) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v4, SocketAddress::resolve("127.0.0.1", 8080, AF_INET, SOCK_STREAM));
  ASSERT_FALSE(v4.empty());
  EXPECT_EQ(v4[0].to_string(), "127.0.0.1:8080");
  EXPECT_EQ(v4[0].port(), 8080);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto v6, SocketAddress::resolve("::1", 9, AF_INET6, SOCK_DGRAM));
  EXPECT_EQ(v6[0].to_string(), "[::1]:9");
  EXPECT_TRUE(test::FailsWith(SocketAddress::resolve("not an address!", 1, AF_INET, SOCK_STREAM, false),
                              {"getaddrinfo(\"not an address!:1\")"}));
}

TEST(SocketAddress, LocalOfBoundSocket) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(UniqueFd s, make_socket(AF_INET, SOCK_DGRAM));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto any, SocketAddress::resolve("127.0.0.1", 0, AF_INET, SOCK_DGRAM, true));
  ASSERT_EQ(::bind(s.get(), any[0].get(), any[0].size()), 0);
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress local, SocketAddress::local_of(s.get()));
  EXPECT_NE(local.port(), 0);
  EXPECT_TRUE(test::FailsWith(SocketAddress::peer_of(s.get()), {"getpeername(fd", "ENOTCONN"}));
}

}  // namespace
}  // namespace ipckit
