// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// mq: priorities through the endpoint layer: EndpointOptions::priority (or ?priority=) on the sender,
// Receiver::last_priority() on the receiver, highest priority first, with and without session markers.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/endpoint/endpoint.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

// One sender per priority, in this order; returns nothing, the queue holds what they sent.
void send_with_priorities(const std::string& url, const std::vector<unsigned>& priorities, bool end_marker) {
  for (unsigned p : priorities) {
    EndpointOptions o;
    o.create = true;
    o.priority = p;
    o.end_marker = end_marker;
    auto tx = open_sender(*parse_url(url), o);
    ASSERT_TRUE(tx) << tx.error().str();
    ASSERT_EQ(*(*tx)->send("p" + std::to_string(p)), SendStatus::kOk);
    ASSERT_EQ(*(*tx)->finish_until(kNoDeadline), SendStatus::kOk);
  }
}

TEST(MqPriority, ReceivedHighestFirstWithTheirPriority) {
  const std::string url = "mq:" + test::unique_name();
  send_with_priorities(url, {1, 7, 3}, false);
  EndpointOptions o;
  o.end_marker = false;
  auto rx = open_receiver(*parse_url(url), o);
  ASSERT_TRUE(rx) << rx.error().str();
  EXPECT_EQ((*rx)->last_priority(), std::nullopt);  // nothing received yet
  std::string msg;
  for (unsigned want : {7u, 3u, 1u}) {
    ASSERT_EQ(*(*rx)->receive(msg), ReceiveStatus::kOk);
    EXPECT_EQ(msg, "p" + std::to_string(want));
    EXPECT_EQ((*rx)->last_priority(), want);
  }
  ASSERT_TRUE((*rx)->remove_object());
}

TEST(MqPriority, SessionMarkersCarryTheSendersPriority) {
  // With end markers, one session per sender: the markers go at the sender's priority, so the
  // highest-priority session is delivered whole (begin, message, end) before the others.
  const std::string url = "mq:" + test::unique_name();
  send_with_priorities(url, {2, 9}, true);
  auto rx = open_receiver(*parse_url(url), {});
  ASSERT_TRUE(rx) << rx.error().str();
  std::string msg;
  ASSERT_EQ(*(*rx)->receive(msg), ReceiveStatus::kOk);
  EXPECT_EQ(msg, "p9");
  EXPECT_EQ((*rx)->last_priority(), 9u);
  EXPECT_EQ(*(*rx)->receive(msg), ReceiveStatus::kEndOfStream);
  ASSERT_TRUE((*rx)->remove_object());
}

TEST(MqPriority, UrlPriorityIsUsedWhenNoOptionIsGiven) {
  const std::string url = "mq:" + test::unique_name();
  {
    EndpointOptions o;
    o.create = true;
    o.end_marker = false;
    auto tx = open_sender(*parse_url(url + "?priority=12"), o);
    ASSERT_TRUE(tx) << tx.error().str();
    ASSERT_EQ(*(*tx)->send("x"), SendStatus::kOk);
  }
  EndpointOptions o;
  o.end_marker = false;
  auto rx = open_receiver(*parse_url(url), o);
  ASSERT_TRUE(rx) << rx.error().str();
  std::string msg;
  ASSERT_EQ(*(*rx)->receive(msg), ReceiveStatus::kOk);
  EXPECT_EQ((*rx)->last_priority(), 12u);
  ASSERT_TRUE((*rx)->remove_object());
}

TEST(MqPriority, OtherSchemesHaveNone) {
  const std::string path = test::unique_path();
  auto rx = open_receiver(*parse_url("unix-dgram:" + path), {});
  ASSERT_TRUE(rx) << rx.error().str();
  EXPECT_EQ((*rx)->last_priority(), std::nullopt);
  ASSERT_TRUE((*rx)->remove_object());
}

}  // namespace
}  // namespace ipckit
