// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/mapping.hpp"

#include <sys/wait.h>

#include <cstring>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(Mapping, AnonymousSharedIsSeenByForkedChild) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  auto* word = static_cast<volatile int*>(m.data());
  *word = 1;
  auto child = test::run_in_child([&] {
    *word = 42;
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.describe();
  EXPECT_EQ(*word, 42);
}

TEST(Mapping, MoveTransfersOwnership) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping a, Mapping::anonymous(8192));
  void* addr = a.data();
  Mapping b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.data(), addr);
  EXPECT_EQ(b.size(), 8192u);
  std::memset(b.data(), 7, b.size());
  IPCKIT_EXPECT_OK(b.sync());
  b.reset();
  EXPECT_FALSE(b.valid());
}

TEST(Mapping, ZeroSizeAndBadFdAreClearErrors) {
  EXPECT_TRUE(test::FailsWith(Mapping::anonymous(0), {"mmap(anonymous): invalid argument: cannot map 0 bytes"}));
  EXPECT_TRUE(test::FailsWith(Mapping::map(1'000'000, 4096), {"mmap(fd 1000000): EBADF"}));
}

TEST(Mapping, ReadOnlyMappingFaultsOnWrite) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096, MapOptions{Access::kReadOnly}));
  auto child = test::run_in_child_expecting_crash([&] {
    *static_cast<volatile char*>(m.data()) = 1;  // must die with SIGSEGV
    return 0;
  });
  EXPECT_FALSE(child.exited);
  EXPECT_EQ(child.signal, SIGSEGV) << child.describe();
}

}  // namespace
}  // namespace ipckit
