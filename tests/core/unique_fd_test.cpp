// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnDestruction) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  {
    UniqueFd a(fds[0]), b(fds[1]);
    EXPECT_TRUE(fd_open(fds[0]));
  }
  EXPECT_FALSE(fd_open(fds[0]));
  EXPECT_FALSE(fd_open(fds[1]));
}

TEST(UniqueFd, MoveLeavesSourceEmpty) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd a(fds[0]);
  UniqueFd keep(fds[1]);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.get(), fds[0]);
  UniqueFd c;
  c = std::move(b);
  EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.get(), fds[0]);
  EXPECT_TRUE(fd_open(fds[0]));
}

TEST(UniqueFd, ReleaseDoesNotClose) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd w(fds[1]);
  int raw;
  {
    UniqueFd a(fds[0]);
    raw = a.release();
  }
  EXPECT_TRUE(fd_open(raw));
  ::close(raw);
}

TEST(UniqueFd, CloseReportsBadDescriptor) {
  UniqueFd bogus(1'000'000);
  auto r = bogus.close();
  EXPECT_TRUE(test::FailsWith(r, {"close(fd 1000000)", "EBADF"}));
  EXPECT_FALSE(bogus.valid());
}

TEST(UniqueFd, DuplicateIsCloexec) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, 0), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  IPCKIT_ASSERT_OK_AND_ASSIGN(UniqueFd dup, a.duplicate());
  EXPECT_NE(dup.get(), a.get());
  EXPECT_EQ(::fcntl(dup.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(UniqueFd, NonblockingToggle) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  IPCKIT_ASSERT_OK(set_nonblocking(a.get(), true));
  EXPECT_EQ(is_nonblocking(a.get()).value(), true);
  IPCKIT_ASSERT_OK(set_nonblocking(a.get(), false));
  EXPECT_EQ(is_nonblocking(a.get()).value(), false);
  EXPECT_TRUE(test::FailsWith(set_nonblocking(-1, true), {"fcntl(fd -1, F_GETFL): EBADF"}));
}

}  // namespace
}  // namespace ipckit
