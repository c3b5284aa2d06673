// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::string read_whole(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(MappedFile, SharedWritesReachTheFileAndAnotherProcess) {
  test::TempDir dir;
  const std::string path = dir.file("data");
  test::ReadyPipe written;
  // Producer in a child: creates, writes, msyncs.
  const pid_t producer = test::spawn_child([&] {
    auto f = MappedFile::create(path, 8192);
    if (!f) return 2;
    std::memcpy(f->data(), "hello", 5);
    std::memcpy(static_cast<char*>(f->data()) + 8191, "!", 1);
    if (!f->sync()) return 3;
    written.signal();
    return 0;
  });
  ASSERT_TRUE(written.wait(deadline_after(10s)));
  const auto r = test::wait_child(producer);
  ASSERT_TRUE(r.ok()) << r.describe();

  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::open(path, FileMapOptions{Access::kReadOnly}));
  ASSERT_EQ(f.size(), 8192u);
  EXPECT_EQ(std::memcmp(f.data(), "hello", 5), 0);
  EXPECT_EQ(static_cast<const char*>(f.data())[8191], '!');
  const std::string contents = read_whole(path);
  ASSERT_EQ(contents.size(), 8192u);
  EXPECT_EQ(contents.substr(0, 5), "hello");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(MappedFile, PrivateMappingIsCopyOnWrite) {
  test::TempDir dir;
  const std::string path = dir.file("data");
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::create(path, 4096));
    std::memcpy(f.data(), "original", 8);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile priv, MappedFile::open(path, FileMapOptions{Access::kReadWrite, false}));
  std::memcpy(priv.data(), "modified", 8);
  IPCKIT_EXPECT_OK(priv.sync());  // nothing to write back
  EXPECT_EQ(read_whole(path).substr(0, 8), "original");
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile shared, MappedFile::open(path, FileMapOptions{Access::kReadOnly}));
  EXPECT_EQ(std::memcmp(shared.data(), "original", 8), 0);
  EXPECT_EQ(std::memcmp(priv.data(), "modified", 8), 0);
  EXPECT_TRUE(test::FailsWith(priv.resize(8192), {"resize(\"" + path + "\"): invalid argument"}));
}

TEST(MappedFile, ResizeGrowsAndShrinksKeepingContent) {
  test::TempDir dir;
  const std::string path = dir.file("data");
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::create(path, 4096));
  std::memcpy(f.data(), "keep", 4);
  IPCKIT_ASSERT_OK(f.resize(1 << 20));
  EXPECT_EQ(f.size(), 1u << 20);
  EXPECT_EQ(std::memcmp(f.data(), "keep", 4), 0);
  static_cast<char*>(f.data())[(1 << 20) - 1] = 'e';  // the new tail is mapped and backed
  struct stat st {};
  ASSERT_EQ(::fstat(f.native_handle(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  IPCKIT_ASSERT_OK(f.resize(100));
  EXPECT_EQ(f.size(), 100u);
  EXPECT_EQ(std::memcmp(f.data(), "keep", 4), 0);
  ASSERT_EQ(::fstat(f.native_handle(), &st), 0);
  EXPECT_EQ(st.st_size, 100);
  IPCKIT_ASSERT_OK(f.resize(0));
  EXPECT_EQ(f.data(), nullptr);
  IPCKIT_ASSERT_OK(f.resize(10));
  EXPECT_EQ(static_cast<char*>(f.data())[0], '\0');  // regrown bytes are zero
}

TEST(MappedFile, EmptyFileOpensEmptyAndCreateModesBehave) {
  test::TempDir dir;
  const std::string path = dir.file("empty");
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile empty, MappedFile::create(path, 0));
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(test::FailsWith(MappedFile::create(path, 10), {"open(\"" + path + "\"): EEXIST"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile grown, MappedFile::create(path, 4096, OpenMode::kOpenOrCreate));
  EXPECT_EQ(grown.size(), 4096u);
  EXPECT_TRUE(test::FailsWith(MappedFile::create(path, 8192, OpenMode::kOpenExisting),
                              {"the file has 4096 bytes, fewer than the 8192 needed"}));
  EXPECT_TRUE(test::FailsWith(MappedFile::open(dir.file("missing")), {"ENOENT"}));
  EXPECT_TRUE(test::FailsWith(MappedFile::open("/dev/null"), {"mmap(\"/dev/null\"): invalid argument: not a regular file"}));
}

TEST(MappedFile, ReadOnlyMappingIsEnforced) {
  test::TempDir dir;
  const std::string path = dir.file("ro");
  { IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile f, MappedFile::create(path, 4096)); }
  IPCKIT_ASSERT_OK_AND_ASSIGN(MappedFile ro, MappedFile::open(path, FileMapOptions{Access::kReadOnly}));
  auto child = test::run_in_child_expecting_crash([&] {
    static_cast<volatile char*>(ro.data())[0] = 1;
    return 0;
  });
  EXPECT_FALSE(child.exited) << child.describe();
  EXPECT_EQ(child.signal, SIGSEGV) << child.describe();
}

TEST(MappedFile, FullFileSystemFailsAtCreationNotWithSigbus) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  test::TempDir dir;
  const std::string mount_point = dir.path();
  auto r = test::run_in_private_mount_ns([&] {
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0) return 2;
    const std::string path = mount_point + "/big";
    auto f = MappedFile::create(path, 4 << 20);
    if (f) return 3;
    if (!test::FailsWith(f, {"posix_fallocate(\"" + path + "\"): ENOSPC", "file system is full"})) return 4;
    if (::access(path.c_str(), F_OK) == 0) return 5;  // the failed creation removed its file
    auto small = MappedFile::create(path, 64 << 10);
    if (!small) return 6;
    if (small->resize(8 << 20)) return 7;  // growing past the space fails now...
    return small->size() == (64u << 10) ? 0 : 8;  // ...and leaves the old mapping intact
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace ipckit
