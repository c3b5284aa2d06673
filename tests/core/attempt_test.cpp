// SPDX-License-Identifier: Apache-2.0
// Attempt<T>: the one form of "nothing happened" for verbs that hand back a value (try_*, *_until):
// a value with kOk, or no value with kWouldBlock / kTimedOut; expect_ok() throws for the latter.
// ipckit-test: tsan
#include "ipckit/core/attempt.hpp"

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "ipckit/core/expect_ok.hpp"

namespace ipckit {
namespace {

TEST(Attempt, AValueIsOkAndConvertsToTrue) {
  Attempt<std::string> a = std::string("hello");
  EXPECT_EQ(a.status, IoStatus::kOk);
  EXPECT_TRUE(a);
  EXPECT_TRUE(a.has_value());
  EXPECT_EQ(*a, "hello");
  EXPECT_EQ(a->size(), 5u);
}

TEST(Attempt, NoValueCarriesTheReasonAndConvertsToFalse) {
  const auto would_block = Attempt<int>::none(IoStatus::kWouldBlock);
  EXPECT_EQ(would_block.status, IoStatus::kWouldBlock);
  EXPECT_FALSE(would_block);
  EXPECT_FALSE(would_block.has_value());
  const auto timed_out = Attempt<int>::none(IoStatus::kTimedOut);
  EXPECT_EQ(timed_out.status, IoStatus::kTimedOut);
  EXPECT_FALSE(timed_out);
}

TEST(Attempt, HoldsMoveOnlyValuesAndMovesThemOut) {
  Attempt<std::unique_ptr<int>> a = std::make_unique<int>(7);
  ASSERT_TRUE(a);
  std::unique_ptr<int> p = *std::move(a);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(Attempt, ExpectOkReturnsTheValueOrThrowsTheStatus) {
  Result<Attempt<int>> ok = Attempt<int>(3);
  EXPECT_EQ(*expect_ok(std::move(ok)), 3);
  Result<Attempt<int>> none = Attempt<int>::none(IoStatus::kWouldBlock);
  try {
    (void)expect_ok(std::move(none));
    FAIL() << "expect_ok accepted a would-block attempt";
  } catch (const UnexpectedStatus& e) {
    EXPECT_EQ(e.status_name(), "would block");
    EXPECT_EQ(e.status_value(), static_cast<int>(IoStatus::kWouldBlock));
  }
}

}  // namespace
}  // namespace ipckit
