// SPDX-License-Identifier: Apache-2.0
// Outcomes that cannot be lost: or_throw()'s value is [[nodiscard]] (a status alone warns, checked by
// compiling a statement with only -Iinclude), and expect_ok() turns every status but kOk into an
// exception, so its value can be used without looking at the status.
#include "ipckit/core/expect_ok.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "ipckit/channel/spsc.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::TempDir;

// Compiles `body` inside a function of a translation unit that includes spsc.hpp, with only
// -Iinclude (the headers as a user gets them) and the default warnings plus -Wall; what the
// compiler said, and whether it succeeded.
struct Compiled {
  bool ok = false;
  std::string said;
};
Compiled compile_statement(const std::string& body) {
  TempDir dir;
  const std::string src = dir.file("t.cpp");
  std::ofstream(src) << "#include <span>\n#include \"ipckit/channel/spsc.hpp\"\n"
                        "void f(ipckit::SpscProducer& tx) {\n  "
                     << body << "\n}\n";
  const std::string log = dir.file("log");
  const std::string cmd = std::string(IPCKIT_TEST_CXX) + " -std=c++20 -fsyntax-only -Wall -I'" IPCKIT_SOURCE_DIR
                          "/include' '" + src + "' > '" + log + "' 2>&1";
  Compiled c;
  c.ok = std::system(cmd.c_str()) == 0;
  std::ifstream f(log);
  std::ostringstream text;
  text << f.rdbuf();
  c.said = text.str();
  return c;
}

TEST(OutcomesCannotBeLost, OrThrowOfAStatusAloneWarns) {
  const Compiled alone = compile_statement("ipckit::or_throw(tx.try_send(std::span<const std::byte>{}));");
  EXPECT_TRUE(alone.ok) << alone.said;  // a warning, not an error (no -Werror)
  EXPECT_NE(alone.said.find("nodiscard"), std::string::npos) << "no warning for a discarded status:\n" << alone.said;
  // The same call with its status used (or explicitly dropped) is quiet: the warning is the discard's.
  const Compiled kept = compile_statement(
      "if (ipckit::or_throw(tx.try_send(std::span<const std::byte>{})) != ipckit::ChannelStatus::kOk) return;\n"
      "  (void)ipckit::expect_ok(tx.try_send(std::span<const std::byte>{}));\n"
      "  ipckit::or_throw(tx.commit());");
  EXPECT_TRUE(kept.ok) << kept.said;
  EXPECT_EQ(kept.said.find("warning"), std::string::npos) << kept.said;
  const Compiled view = compile_statement("ipckit::expect_ok(tx.try_reserve(8));");
  EXPECT_NE(view.said.find("nodiscard"), std::string::npos) << view.said;
}

TEST(OutcomesCannotBeLost, ExpectOkThrowsForEveryStatusButOk) {
  const std::string name = test::unique_name();
  auto tx = or_throw(SpscProducer::open(name, OpenMode::kCreateExclusive));
  auto rx = or_throw(SpscConsumer::open(name, OpenMode::kOpenExisting));
  // Empty ring: kWouldBlock is an exception, with the status named.
  try {
    (void)expect_ok(rx.try_receive());
    ADD_FAILURE() << "no exception for kWouldBlock";
  } catch (const UnexpectedStatus& e) {
    EXPECT_EQ(e.status_name(), to_string(ChannelStatus::kWouldBlock));
    EXPECT_EQ(static_cast<ChannelStatus>(e.status_value()), ChannelStatus::kWouldBlock);
    EXPECT_NE(std::string(e.what()).find(to_string(ChannelStatus::kWouldBlock)), std::string::npos) << e.what();
  }
  // kOk: the value, usable as it is.
  auto slot = expect_ok(tx.try_reserve(5));
  ASSERT_EQ(slot.data.size(), 5U);
  slot.data[0] = std::byte{'h'};
  or_throw(tx.commit());
  auto msg = expect_ok(rx.try_receive());
  ASSERT_EQ(msg.data.size(), 5U);
  EXPECT_EQ(msg.data[0], std::byte{'h'});
  or_throw(rx.release());
  // The ring full and the consumer gone: the reservation that or_throw would hand out with an
  // empty span is an exception instead (kPeerClosed).
  const std::array<std::byte, 3> bytes{};
  while (or_throw(tx.try_send(bytes)) == ChannelStatus::kOk) {
  }
  (void)rx.close();
  try {
    auto refused = expect_ok(tx.try_reserve(5));
    ADD_FAILURE() << "no exception for " << to_string(refused.status) << " (" << refused.data.size() << " bytes)";
  } catch (const UnexpectedStatus& e) {
    EXPECT_EQ(static_cast<ChannelStatus>(e.status_value()), ChannelStatus::kPeerClosed) << e.what();
  }
  EXPECT_THROW((void)expect_ok(tx.try_send(bytes)), UnexpectedStatus);
  (void)tx.close();
  // An error is still ErrorException.
  Result<ChannelStatus> failed = fail_errno(EINVAL, "send", "x");
  EXPECT_THROW((void)expect_ok(std::move(failed)), ErrorException);
  or_throw(SpscChannel::unlink(name));
}

}  // namespace
}  // namespace ipckit
