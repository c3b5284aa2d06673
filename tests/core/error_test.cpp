// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/error.hpp"

#include <fcntl.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "ipckit/core/result.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(Error, SystemErrorCanonicalFormWithHint) {
  const Error e = Error::system(EINVAL, "mq_open", quoted("/jobs"),
                                "msgsize 65536 > /proc/sys/fs/mqueue/msgsize_max (8192)");
  EXPECT_EQ(e.str(), "mq_open(\"/jobs\"): EINVAL: msgsize 65536 > /proc/sys/fs/mqueue/msgsize_max (8192)");
  EXPECT_TRUE(e.is_system());
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_TRUE(e.is(EINVAL));
  EXPECT_FALSE(e.is(ENOENT));
}

TEST(Error, SystemErrorWithoutHintUsesStrerror) {
  const Error e = Error::system(ENOENT, "open", quoted("/tmp/x"));
  EXPECT_EQ(e.str(), "open(\"/tmp/x\"): ENOENT: No such file or directory");
}

TEST(Error, LibraryErrorNamesCodeAndDetail) {
  const Error e = Error::library(LibraryCode::kCorrupt, "channel_open", quoted("/c"), "bad magic 0x0");
  EXPECT_EQ(e.str(), "channel_open(\"/c\"): corrupt: bad magic 0x0");
  EXPECT_FALSE(e.is_system());
  EXPECT_EQ(e.code(), 0);
  EXPECT_TRUE(e.is(LibraryCode::kCorrupt));
  EXPECT_FALSE(e.is(LibraryCode::kNotReady));
}

TEST(Error, NoObjectLeavesOutParentheses) {
  EXPECT_EQ(Error::library(LibraryCode::kUnsupported, "pidfd_open", "", "needs Linux 5.3 or later").str(),
            "pidfd_open: unsupported: needs Linux 5.3 or later");
}

TEST(Error, WithHintReplacesHint) {
  const Error e = Error::system(ENOSPC, "posix_fallocate", quoted("/x")).with_hint("see df /dev/shm");
  EXPECT_EQ(e.str(), "posix_fallocate(\"/x\"): ENOSPC: see df /dev/shm");
}

TEST(Error, FdObjectAndErrnoName) {
  EXPECT_EQ(Error::system(EBADF, "read", fd_object(7)).str(), "read(fd 7): EBADF: Bad file descriptor");
  EXPECT_EQ(errno_name(EAGAIN), "EAGAIN");
  EXPECT_STREQ(to_string(LibraryCode::kVersionMismatch), "version mismatch");
}

Result<int> half(int v) {
  if (v % 2 != 0) return fail_library(LibraryCode::kInvalidArgument, "half", std::to_string(v), "odd");
  return v / 2;
}

TEST(Result, ValueAndErrorPaths) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().str(), "half(3): invalid argument: odd");
}

TEST(Result, OrThrowThrowsWithCanonicalText) {
  EXPECT_EQ(or_throw(half(8)), 4);
  try {
    (void)or_throw(half(5));
    FAIL() << "no exception";
  } catch (const ErrorException& e) {
    EXPECT_STREQ(e.what(), "half(5): invalid argument: odd");
    EXPECT_TRUE(e.error().is(LibraryCode::kInvalidArgument));
  }
  Result<void> v = fail_errno(EPERM, "kill", "pid 1");
  EXPECT_THROW(or_throw(std::move(v)), std::system_error);
}

// The object and hint of last_errno().fail() are built after errno is read, so a name builder that
// changes errno (as an allocation may) cannot replace the failed call's errno in the Error.
std::string object_that_clobbers_errno() {
  errno = ENOMEM;
  return quoted("/name");
}

Result<int> open_missing_file() {
  if (::open("/nonexistent/ipckit-errno-capture", O_RDONLY | O_CLOEXEC) < 0) {
    return last_errno().fail("open", object_that_clobbers_errno(), object_that_clobbers_errno());
  }
  return 0;
}

TEST(Result, LastErrnoIsCapturedBeforeTheObjectIsBuilt) {
  auto r = open_missing_file();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT) << r.error().str();
  EXPECT_EQ(r.error().object(), "\"/name\"");
  errno = EACCES;
  const ErrnoCapture captured = last_errno();
  errno = 0;
  EXPECT_EQ(captured.code(), EACCES);
  EXPECT_EQ(captured.error("open", "x").str(), "open(x): EACCES: Permission denied");
}

}  // namespace
}  // namespace ipckit
