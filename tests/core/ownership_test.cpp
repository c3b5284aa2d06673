// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/ownership.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

constexpr uid_t kNobody = 65534;

TEST(Ownership, OwnObjectWithinTheModeIsTrusted) {
  const ObjectOwner own{::geteuid(), ::getegid(), 0600};
  IPCKIT_EXPECT_OK(check_owner(own, 0600, {}, "shm_open", "\"/x\""));
  IPCKIT_EXPECT_OK(check_owner(own, 0660, {}, "shm_open", "\"/x\""));  // narrower than asked is fine
}

TEST(Ownership, AnotherUsersObjectIsRefusedNamingTheOwnerAndMode) {
  const uid_t other = ::geteuid() == kNobody ? 0 : kNobody;
  const auto r = check_owner(ObjectOwner{other, 0, 0600}, 0600, {}, "shm_open", "\"/x\"");
  EXPECT_TRUE(test::FailsWith(r, {"shm_open(\"/x\"): untrusted: owned by uid ", "mode 0600", "not by this user"}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(LibraryCode::kUntrusted));
}

TEST(Ownership, AWiderModeThanAskedIsRefused) {
  const auto r = check_owner(ObjectOwner{::geteuid(), ::getegid(), 0666}, 0600, {}, "mq_open", "\"/q\"");
  EXPECT_TRUE(test::FailsWith(r, {"mq_open(\"/q\"): untrusted: mode 0666 is wider than the 0600 asked for"}));
}

TEST(Ownership, AllowListedUidOrGidIsTrusted) {
  const uid_t other = ::geteuid() == kNobody ? 0 : kNobody;
  TrustPolicy by_uid;
  by_uid.allowed_uids = {other};
  IPCKIT_EXPECT_OK(check_owner(ObjectOwner{other, 12345, 0600}, 0600, by_uid, "open", "f"));
  TrustPolicy by_gid;
  by_gid.allowed_gids = {12345};
  IPCKIT_EXPECT_OK(check_owner(ObjectOwner{other, 12345, 0660}, 0660, by_gid, "open", "f"));
  EXPECT_FALSE(check_owner(ObjectOwner{other, 54321, 0600}, 0600, by_gid, "open", "f"));
}

TEST(Ownership, UserNameFallsBackToTheUid) {
  EXPECT_EQ(user_name(0), "root");
  EXPECT_EQ(user_name(4000000000U), "uid 4000000000");
}

// A file chowned to another user (root only): check_fd_owner() reads the owner through fstat.
TEST(Ownership, FdOfAFileAnotherUserOwnsIsRefused) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to chown a file to another user";
  test::TempDir dir;
  const std::string path = dir.file("owned");
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd) << "open: " << errno;
  IPCKIT_EXPECT_OK(check_fd_owner(fd.get(), 0600, {}, "open", ipckit::quoted(path)));
  ASSERT_EQ(::fchown(fd.get(), kNobody, kNobody), 0);
  EXPECT_TRUE(test::FailsWith(check_fd_owner(fd.get(), 0600, {}, "open", ipckit::quoted(path)),
                        {"untrusted: owned by uid 65534 (nobody)"}));
}

}  // namespace
}  // namespace ipckit
