// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/file_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

UniqueFd open_rw(const std::string& path) { return UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)); }

// Several processes each do read-modify-write of a counter stored in the file, under an exclusive
// lock taken on their OWN open() of it. Without mutual exclusion updates are lost.
void contention_for(LockStyle style) {
  test::TempDir dir;
  const std::string path = dir.file("counter");
  {
    UniqueFd fd = open_rw(path);
    ASSERT_TRUE(fd.valid());
    const std::uint64_t zero = 0;
    ASSERT_EQ(::pwrite(fd.get(), &zero, sizeof zero, 0), static_cast<ssize_t>(sizeof zero));
  }
  constexpr int kProcs = 4;
  const std::size_t per = test::scaled(300);
  pid_t pids[kProcs];
  for (auto& pid : pids) {
    pid = test::spawn_child([&] {
      UniqueFd fd = open_rw(path);
      if (!fd) return 2;
      for (std::size_t i = 0; i < per; ++i) {
        auto lock = FileLock::lock(fd.get(), LockSpec{style, LockKind::kExclusive, 0, 8}, path);
        if (!lock) return 3;
        std::uint64_t v = 0;
        if (::pread(fd.get(), &v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) return 4;
        ++v;
        if (::pwrite(fd.get(), &v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) return 5;
        if (!lock->unlock()) return 6;
      }
      return 0;
    });
  }
  for (pid_t pid : pids) {
    auto r = test::wait_child(pid);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  UniqueFd fd = open_rw(path);
  std::uint64_t v = 0;
  ASSERT_EQ(::pread(fd.get(), &v, sizeof v, 0), static_cast<ssize_t>(sizeof v));
  EXPECT_EQ(v, kProcs * per);
}

TEST(FileLock, FlockExcludesProcesses) { contention_for(LockStyle::kFlock); }
TEST(FileLock, RecordLockExcludesProcesses) { contention_for(LockStyle::kRecord); }
TEST(FileLock, OfdLockExcludesProcesses) { contention_for(LockStyle::kOfd); }

TEST(FileLock, SharedLocksCoexistAndExcludeWriters) {
  test::TempDir dir;
  const std::string path = dir.file("f");
  for (LockStyle style : {LockStyle::kFlock, LockStyle::kOfd}) {
    // Two open file descriptions: flock and OFD locks conflict between them even in one process.
    UniqueFd a = open_rw(path), b = open_rw(path);
    ASSERT_TRUE(a && b);
    IPCKIT_ASSERT_OK_AND_ASSIGN(FileLock sa, FileLock::lock(a.get(), LockSpec{style, LockKind::kShared}, path));
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto sb, FileLock::try_lock(b.get(), LockSpec{style, LockKind::kShared}, path));
    ASSERT_TRUE(sb.has_value()) << "shared + shared";
    IPCKIT_ASSERT_OK(sb->unlock());
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto xb, FileLock::try_lock(b.get(), LockSpec{style, LockKind::kExclusive}, path));
    EXPECT_FALSE(xb.has_value()) << "exclusive while shared is held";
    const auto start = Clock::now();
    IPCKIT_ASSERT_OK_AND_ASSIGN(xb, FileLock::lock_for(b.get(), LockSpec{style, LockKind::kExclusive}, 30ms, path));
    EXPECT_FALSE(xb.has_value());
    EXPECT_GE(Clock::now() - start, 30ms) << "the deadline is a lower bound";
    IPCKIT_ASSERT_OK(sa.unlock());
    IPCKIT_ASSERT_OK_AND_ASSIGN(xb, FileLock::try_lock(b.get(), LockSpec{style, LockKind::kExclusive}, path));
    EXPECT_TRUE(xb.has_value()) << "exclusive after the shared lock is released";
  }
}

TEST(FileLock, ByteRangesAreIndependentAndHoldersAreReported) {
  test::TempDir dir;
  const std::string path = dir.file("ranges");
  UniqueFd fd = open_rw(path);
  ASSERT_TRUE(fd.valid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(FileLock head, FileLock::lock(fd.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 0, 10}));
  const pid_t self = ::getpid();
  auto child = test::run_in_child([&] {
    UniqueFd own = open_rw(path);
    // Bytes 10.. are free; bytes 0..9 are held by the parent, whose pid F_GETLK reports.
    auto tail = FileLock::try_lock(own.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 10, 10});
    if (!tail || !tail->has_value()) return 2;
    auto overlap = FileLock::try_lock(own.get(), LockSpec{LockStyle::kRecord, LockKind::kShared, 5, 10});
    if (!overlap || overlap->has_value()) return 3;
    auto who = FileLock::holder(own.get(), LockSpec{LockStyle::kRecord, LockKind::kShared, 0, 1});
    if (!who || !who->has_value() || (*who)->pid != self || (*who)->kind != LockKind::kExclusive) return 4;
    if ((*who)->start != 0 || (*who)->length != 10) return 5;
    return 0;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
  EXPECT_TRUE(test::FailsWith(FileLock::holder(fd.get(), LockSpec{LockStyle::kFlock}), {"cannot be queried"}));
  // A record lock needs the right access mode: exclusive on a read-only descriptor is EBADF.
  UniqueFd ro(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(test::FailsWith(FileLock::try_lock(ro.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive}, path),
                              {"fcntl(F_SETLK)(\"" + path + "\"): EBADF", "open for writing"}));
}

TEST(FileLock, RecordLockDeadlockIsReportedAsEdeadlk) {
  test::TempDir dir;
  const std::string path = dir.file("deadlock");
  UniqueFd fd = open_rw(path);
  ASSERT_TRUE(fd.valid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(FileLock byte0, FileLock::lock(fd.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 0, 1}));
  test::ReadyPipe child_holds, go;
  const pid_t pid = test::spawn_child([&] {
    UniqueFd own = open_rw(path);
    auto byte1 = FileLock::lock(own.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 1, 1}, path);
    if (!byte1) return 2;
    child_holds.signal();
    if (!go.wait(deadline_after(10s))) return 3;
    // Each side now asks for the other's byte. The kernel refuses whichever request closes the
    // cycle with EDEADLK; the other is granted once the refused side gives up its lock.
    auto want0 = FileLock::lock(own.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 0, 1}, path);
    if (want0) return 0;
    return want0.error().is(EDEADLK) ? 10 : 4;  // exiting releases byte 1
  });
  ASSERT_TRUE(child_holds.wait(deadline_after(10s)));
  go.signal();
  auto want1 = FileLock::lock(fd.get(), LockSpec{LockStyle::kRecord, LockKind::kExclusive, 1, 1}, path);
  if (!want1) {
    EXPECT_TRUE(test::FailsWith(want1, {"fcntl(F_SETLKW)(\"" + path + "\"): EDEADLK", "deadlock"}));
    byte0.reset();  // let the child through
  }
  auto r = test::wait_child(pid);
  ASSERT_TRUE(r.exited) << r.describe();
  if (want1) {
    EXPECT_EQ(r.code, 10) << "neither side was told EDEADLK";
  } else {
    EXPECT_EQ(r.code, 0) << "both sides were refused";
  }
}

}  // namespace
}  // namespace ipckit
