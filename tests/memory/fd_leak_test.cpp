// SPDX-License-Identifier: Apache-2.0
// Every descriptor the memory layer opens is O_CLOEXEC: an exec'd child inherits none of them
// (leveldb's fork+exec leak test).
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/memory/mapped_file.hpp"
#include "ipckit/memory/memfd.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

// Exits with the number of the given descriptors that are open in this exec'd process (0: none
// leaked). The test's environment may pass other descriptors down; only ours are checked.
IPCKIT_TEST_HELPER(count_inherited_fds) {
  int leaked = 0;
  for (const auto& a : args) {
    const std::string path = "/proc/self/fd/" + a;
    if (::access(path.c_str(), F_OK) == 0) ++leaked;
  }
  return leaked;
}

TEST(MemoryFds, NoDescriptorLeaksIntoExecdChild) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm created, PosixShm::create(name, 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm opened, PosixShm::open(name, Access::kReadOnly));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("leak-test", 4096));
  test::TempDir dir;
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile file, MappedFile::create(dir.file("f"), 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile reopened, MappedFile::open(dir.file("f"), FileMapOptions{Access::kReadOnly}));

  const std::vector<std::string> ours = {
      std::to_string(created.native_handle()), std::to_string(opened.native_handle()),
      std::to_string(memfd.native_handle()), std::to_string(file.native_handle()),
      std::to_string(reopened.native_handle())};
  const pid_t pid = test::spawn_helper("count_inherited_fds", ours);
  ASSERT_GT(pid, 0);
  const auto r = test::wait_child(pid);
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.code, 0) << r.code << " descriptors leaked into the exec'd child";
}

}  // namespace
}  // namespace ipckit
