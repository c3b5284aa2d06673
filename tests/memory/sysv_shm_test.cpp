// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/sysv_shm.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// A fresh key from ftok() on a new file: unique while the file exists.
struct KeyFile {
  test::TempDir dir;
  std::string path = dir.file("key");
  KeyFile() {
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
};

TEST(SysvShm, ProducerAndConsumerMeetByFtokKey) {
  KeyFile kf;
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, sysv_key_from_path(kf.path, 'm'));
  test::ReadyPipe written;
  const pid_t producer = test::spawn_child([&] {
    auto shm = SysvShm::create(key, 10'000);
    if (!shm) return 2;
    auto at = shm->attach();
    if (!at) return 3;
    for (std::size_t i = 0; i < at->size(); ++i) at->bytes()[i] = static_cast<std::byte>(i % 251);
    written.signal();
    return 0;  // exit detaches; the segment stays until IPC_RMID
  });
  ASSERT_TRUE(written.wait(deadline_after(10s)));
  const auto r = test::wait_child(producer);
  ASSERT_TRUE(r.ok()) << r.describe();

  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm shm, SysvShm::open(key));
  SysvShmRemoveGuard guard(shm.id());
  EXPECT_EQ(shm.size(), 10'000u);
  EXPECT_FALSE(shm.created());
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmAttachment at, shm.attach(Access::kReadOnly));
  for (std::size_t i = 0; i < at.size(); ++i) {
    ASSERT_EQ(at.bytes()[i], static_cast<std::byte>(i % 251)) << i;
  }
}

TEST(SysvShm, PrivateSegmentStatsCountAttachmentsAndPids) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm shm, SysvShm::create_private(4096));
  SysvShmRemoveGuard guard(shm.id());
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmAttachment mine, shm.attach());
  const int id = shm.id();

  test::ReadyPipe attached;
  test::ReadyPipe release;
  const pid_t child = test::spawn_child([&] {
    // fork() inherited the parent's attachment (nattch counts it too); drop it so the count below
    // is parent + this child's own attach.
    mine.reset();
    auto seg = SysvShm::from_id(id);
    if (!seg || seg->size() != 4096) return 2;
    auto at = seg->attach();
    if (!at) return 3;
    static_cast<char*>(at->data())[0] = 'c';
    attached.signal();
    return release.wait(deadline_after(10s)) ? 0 : 4;
  });
  ASSERT_TRUE(attached.wait(deadline_after(10s)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmInfo during, shm.info());
  release.signal();
  const auto r = test::wait_child(child);
  ASSERT_TRUE(r.ok()) << r.describe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmInfo after, shm.info());

  EXPECT_EQ(during.attach_count, 2u);
  EXPECT_EQ(during.creator_pid, ::getpid());
  EXPECT_EQ(during.last_pid, child);  // the child's shmat
  EXPECT_EQ(during.size, 4096u);
  EXPECT_EQ(during.mode, 0600u);
  EXPECT_EQ(during.key, IPC_PRIVATE);
  EXPECT_FALSE(during.marked_for_removal);
  EXPECT_EQ(after.attach_count, 1u);
  EXPECT_EQ(after.last_pid, child);  // its detach at exit
  EXPECT_EQ(static_cast<char*>(mine.data())[0], 'c');
}

TEST(SysvShm, ReadOnlyAttachIsEnforced) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm shm, SysvShm::create_private(4096));
  SysvShmRemoveGuard guard(shm.id());
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmAttachment ro, shm.attach(Access::kReadOnly));
  auto child = test::run_in_child_expecting_crash([&] {
    static_cast<volatile char*>(ro.data())[0] = 1;  // SHM_RDONLY: must die of SIGSEGV
    return 0;
  });
  EXPECT_FALSE(child.exited) << child.describe();
  EXPECT_EQ(child.signal, SIGSEGV) << child.describe();
}

TEST(SysvShm, OpenModesAndSizeChecks) {
  KeyFile kf;
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, sysv_key_from_path(kf.path));
  const std::string k = sysv_key_text(key);
  EXPECT_TRUE(test::FailsWith(SysvShm::open(key), {"shmget(" + k + "): ENOENT: no segment has this key"}));
  EXPECT_TRUE(test::FailsWith(SysvShm::create(key, 4096, OpenMode::kOpenExisting), {"ENOENT"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm first, SysvShm::create(key, 4096));
  SysvShmRemoveGuard guard(first.id());
  EXPECT_TRUE(first.created());
  EXPECT_TRUE(test::FailsWith(SysvShm::create(key, 4096), {"shmget(" + k + "): EEXIST"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm again, SysvShm::create(key, 100, OpenMode::kOpenOrCreate));
  EXPECT_FALSE(again.created());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(again.size(), 4096u);
  EXPECT_TRUE(test::FailsWith(
      SysvShm::create(key, 8192, OpenMode::kOpenOrCreate),
      {"shmget(" + k + "): EINVAL: the existing segment (sysv-shm:" + std::to_string(first.id()) +
       ") has 4096 bytes, fewer than the 8192 asked for"}));
  EXPECT_TRUE(test::FailsWith(SysvShm::create(key, 0), {"size must be > 0"}));
  EXPECT_TRUE(test::FailsWith(SysvShm::create(IPC_PRIVATE, 4096), {"use SysvShm::create_private"}));
}

TEST(SysvShm, RemovedSegmentLivesUntilLastDetach) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm shm, SysvShm::create_private(4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmAttachment at, shm.attach());
  static_cast<char*>(at.data())[0] = 'x';
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool removed, shm.remove());
  EXPECT_TRUE(removed);
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmInfo info, shm.info());
  EXPECT_TRUE(info.marked_for_removal);
  EXPECT_EQ(static_cast<char*>(at.data())[0], 'x');
  IPCKIT_ASSERT_OK(at.detach());
  EXPECT_FALSE(at.valid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(removed, shm.remove());
  EXPECT_FALSE(removed);  // already gone: a value, not an error
  EXPECT_TRUE(test::FailsWith(shm.info(), {"shmctl(IPC_STAT)(sysv-shm:" + std::to_string(shm.id()) + "): EINVAL"}));
  EXPECT_TRUE(test::FailsWith(SysvShm::from_id(shm.id()), {"no such segment"}));
}

TEST(SysvShm, FtokAndLimitsReadBack) {
  EXPECT_TRUE(test::FailsWith(sysv_key_from_path("/nonexistent/ipckit", 1), {"ftok(\"/nonexistent/ipckit\"): ENOENT"}));
  EXPECT_TRUE(test::FailsWith(sysv_key_from_path("/tmp", 0x100), {"ftok(\"/tmp\"): invalid argument: proj 256"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShmLimits limits, sysv_shm_limits());
  EXPECT_GT(limits.shmmax, 0u);
  EXPECT_GT(limits.shmall, 0u);
  EXPECT_GT(limits.shmmni, 0u);
  EXPECT_EQ(sysv_key_text(0x1234), "0x00001234");
}

bool write_file(const char* path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// Golden limit errors. The limits are per IPC namespace: a child in a new one lowers them without
// touching the host, and every segment it creates dies with the namespace.
TEST(SysvShm, LimitErrorsNameTheLimitItsValueAndTheFix) {
  if (!test::is_root()) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN) for a private IPC namespace";
  auto r = test::run_in_child([]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return 2;
    if (!write_file("/proc/sys/kernel/shmmax", "1048576") || !write_file("/proc/sys/kernel/shmmni", "1") ||
        !write_file("/proc/sys/kernel/shmall", "64")) {
      return 3;
    }
    // Root with CAP_SYS_RESOURCE bypasses some IPC limits; these checks must see the limits.
    (void)test::drop_capability(CAP_SYS_RESOURCE);
    auto limits = sysv_shm_limits();
    EXPECT_TRUE(limits && limits->shmmax == 1048576 && limits->shmmni == 1 && limits->shmall == 64);

    EXPECT_TRUE(test::FailsWith(SysvShm::create_private(2 * 1048576),
                                {"shmget(IPC_PRIVATE): EINVAL: size 2097152 > /proc/sys/kernel/shmmax (1048576); "
                                 "raise it with `sysctl kernel.shmmax=BYTES`"}));
    // 128 pages > shmall's 64.
    EXPECT_TRUE(test::FailsWith(SysvShm::create_private(128 * 4096),
                                {"shmget(IPC_PRIVATE): ENOSPC: 128 more pages would exceed the total of all "
                                 "segments, /proc/sys/kernel/shmall (64 pages of 4096 bytes)",
                                 "sysctl kernel.shmall=PAGES"}));
    auto one = SysvShm::create_private(4096);
    EXPECT_TRUE(one.has_value());
    EXPECT_TRUE(test::FailsWith(SysvShm::create_private(4096),
                                {"shmget(IPC_PRIVATE): ENOSPC: 1 segments exist, the limit "
                                 "/proc/sys/kernel/shmmni is 1; raise it with `sysctl kernel.shmmni=N`"}));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}


TEST(SysvShm, SegmentWithAWiderModeThanAskedIsRefused) {
  KeyFile kf;
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, sysv_key_from_path(kf.path, 'w'));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm shm, SysvShm::create(key, 4096, OpenMode::kCreateExclusive, 0640));
  SysvShmRemoveGuard guard(shm.id());
  EXPECT_TRUE(test::FailsWith(SysvShm::open(key), {"shmget(" + sysv_key_text(key) + "): untrusted",
                                                   "mode 0640 is wider than the 0600"}));
  EXPECT_TRUE(test::FailsWith(SysvShm::create(key, 4096, OpenMode::kOpenOrCreate), {"mode 0640 is wider"}));
  IPCKIT_EXPECT_OK(SysvShm::open(key, 0, 0640));
}

TEST(SysvShm, SegmentOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a segment as another user (setresuid)";
  KeyFile kf;
  IPCKIT_ASSERT_OK_AND_ASSIGN(key_t key, sysv_key_from_path(kf.path, 'u'));
  auto made = test::run_as_nobody([&] { return SysvShm::create(key, 4096, OpenMode::kCreateExclusive, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  SysvShmRemoveGuard guard(::shmget(key, 0, 0));
  auto refused = SysvShm::open(key, 0, 0666);
  EXPECT_TRUE(test::FailsWith(refused, {"untrusted", "owned by uid 65534", "mode 0666"}));
  TrustPolicy trust;
  trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(SysvShm opened, SysvShm::create(key, 4096, OpenMode::kOpenOrCreate, 0666, trust));
  EXPECT_FALSE(opened.created());
}

}  // namespace
}  // namespace ipckit
