// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/name.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(PosixName, AcceptsWellFormedNames) {
  IPCKIT_EXPECT_OK(validate_posix_name("/jobs", NameKind::kShm, "shm_open"));
  IPCKIT_EXPECT_OK(validate_posix_name("/a.b-c_d", NameKind::kMessageQueue, "mq_open"));
  IPCKIT_EXPECT_OK(validate_posix_name("/" + std::string(255, 'x'), NameKind::kShm, "shm_open"));
  IPCKIT_EXPECT_OK(validate_posix_name("/" + std::string(251, 'x'), NameKind::kSemaphore, "sem_open"));
}

TEST(PosixName, RejectsMissingSlashWithSuggestion) {
  EXPECT_TRUE(test::FailsWith(validate_posix_name("jobs", NameKind::kShm, "shm_open"),
                              {"shm_open(\"jobs\"): invalid argument", "must start with '/'", "try \"/jobs\""}));
}

TEST(PosixName, RejectsEmptySlashOnlyAndInnerSlash) {
  EXPECT_TRUE(test::FailsWith(validate_posix_name("", NameKind::kShm, "shm_open"), {"must not be empty"}));
  EXPECT_TRUE(test::FailsWith(validate_posix_name("/", NameKind::kShm, "shm_open"), {"nothing after '/'"}));
  EXPECT_TRUE(test::FailsWith(validate_posix_name("/a/b", NameKind::kMessageQueue, "mq_open"),
                              {"mq_open(\"/a/b\")", "only one '/'"}));
  EXPECT_TRUE(test::FailsWith(validate_posix_name("/..", NameKind::kShm, "shm_open"), {"\"..\""}));
}

TEST(PosixName, RejectsTooLongNamingTheLimit) {
  EXPECT_TRUE(test::FailsWith(validate_posix_name("/" + std::string(256, 'x'), NameKind::kShm, "shm_open"),
                              {"256 characters", "limit is 255", "NAME_MAX"}));
  EXPECT_TRUE(test::FailsWith(validate_posix_name("/" + std::string(252, 'x'), NameKind::kSemaphore, "sem_open"),
                              {"limit is 251", "\"sem.\" prefix"}));
}

}  // namespace
}  // namespace ipckit
