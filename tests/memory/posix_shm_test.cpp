// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/posix_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Fills `n` bytes with a pattern that depends on the offset and a seed, so a reader can check every
// byte came from the writer.
void fill_pattern(std::byte* p, std::size_t n, unsigned seed) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
}
bool check_pattern(const std::byte* p, std::size_t n, unsigned seed) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != static_cast<std::byte>((i * 31 + seed) & 0xff)) return false;
  }
  return true;
}

// Producer in a freshly exec'd process: creates the object, writes the pattern, exits.
IPCKIT_TEST_HELPER(shm_producer) {
  auto shm = PosixShm::create(args.at(0), std::stoul(args.at(1)));
  if (!shm) {
    std::fprintf(stderr, "%s\n", shm.error().str().c_str());
    return 2;
  }
  auto map = shm->map();
  if (!map) return 3;
  fill_pattern(map->bytes().data(), map->size(), 7);
  return 0;
}

TEST(PosixShm, ExecdProducerAndForkedConsumerShareBytes) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  const std::size_t size = 3 * 4096 + 100;  // not a page multiple
  const pid_t producer = test::spawn_helper("shm_producer", {name, std::to_string(size)});
  ASSERT_GT(producer, 0);
  const auto produced = test::wait_child(producer);
  ASSERT_TRUE(produced.ok()) << produced.describe();

  auto consumer = test::run_in_child([&] {
    auto shm = PosixShm::open(name, Access::kReadOnly);
    if (!shm || shm->size() != size || shm->created()) return 2;
    auto map = shm->map(MapOptions{Access::kReadOnly});
    if (!map) return 3;
    return check_pattern(map->bytes().data(), size, 7) ? 0 : 4;
  });
  EXPECT_TRUE(consumer.ok()) << consumer.describe();
}

TEST(PosixShm, WritesAreSeenLiveAcrossProcesses) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
  EXPECT_TRUE(shm.created());
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping map, shm.map());
  auto* flag = static_cast<std::uint32_t*>(map.data());
  static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

  test::ReadyPipe ready;
  const pid_t child = test::spawn_child([&] {
    auto opened = PosixShm::open(name);
    if (!opened) return 2;
    auto m = opened->map();
    if (!m) return 3;
    auto* word = static_cast<std::uint32_t*>(m->data());
    ready.signal();
    // Acquire pairs with the parent's release store: once 1 is seen, the payload is visible.
    while (std::atomic_ref<std::uint32_t>(word[0]).load(std::memory_order_acquire) != 1) {
    }
    return word[1] == 0xfeedu ? 0 : 4;
  });
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  flag[1] = 0xfeed;
  std::atomic_ref<std::uint32_t>(flag[0]).store(1, std::memory_order_release);  // pairs with the child's acquire
  const auto r = test::wait_child(child);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(PosixShm, CreateExclusiveRefusesExistingName) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm first, PosixShm::create(name, 4096));
  EXPECT_TRUE(test::FailsWith(PosixShm::create(name, 4096),
                              {"shm_open(\"" + name + "\"): EEXIST: it already exists"}));
}

TEST(PosixShm, OpenOrCreateFromManyProcessesCreatesExactlyOnce) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping results, Mapping::anonymous(4096));
  auto* created = static_cast<std::uint32_t*>(results.data());
  const int kProcs = 8;
  test::ReadyPipe go;
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcs; ++i) {
    pids.push_back(test::spawn_child([&] {
      go.close_write();
      char byte;
      while (::read(go.read_fd(), &byte, 1) < 0 && errno == EINTR) {
      }
      auto shm = PosixShm::create(name, 8192, OpenMode::kOpenOrCreate);
      if (!shm) {
        std::fprintf(stderr, "%s\n", shm.error().str().c_str());
        return 2;
      }
      if (shm->size() != 8192) return 3;
      if (shm->created()) std::atomic_ref<std::uint32_t>(*created).fetch_add(1);
      return 0;
    }));
  }
  go.close_write();  // EOF releases every child at once
  for (pid_t pid : pids) {
    const auto r = test::wait_child(pid);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  EXPECT_EQ(std::atomic_ref<std::uint32_t>(*created).load(), 1u);
}

TEST(PosixShm, OpenOrCreateRejectsExistingObjectThatIsTooSmall) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm small, PosixShm::create(name, 4096));
  EXPECT_TRUE(test::FailsWith(PosixShm::create(name, 8192, OpenMode::kOpenOrCreate),
                              {"shm_open(\"" + name + "\"): invalid argument: the object has 4096 bytes, "
                               "fewer than the 8192 needed"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm same, PosixShm::create(name, 1000, OpenMode::kOpenOrCreate));
  EXPECT_FALSE(same.created());
  EXPECT_EQ(same.size(), 4096u);  // the existing object's size
  EXPECT_TRUE(test::FailsWith(PosixShm::create(test::unique_name(), 4096, OpenMode::kOpenExisting),
                              {"ENOENT"}));
}

TEST(PosixShm, ModeIsExactDespiteUmask) {
  auto r = test::run_in_child([] {
    ::umask(0077);  // would strip the group bit from shm_open's mode
    const std::string name = test::unique_name();
    UnlinkGuard guard(name);
    auto shm = PosixShm::create(name, 4096, OpenMode::kCreateExclusive, 0640);
    if (!shm) return 2;
    struct stat st {};
    if (::fstat(shm->native_handle(), &st) != 0) return 3;
    if ((st.st_mode & 07777) != 0640) return 4;
    // The default is owner read/write only.
    const std::string other = test::unique_name();
    UnlinkGuard other_guard(other);
    ::umask(0);
    auto def = PosixShm::create(other, 4096);
    if (!def || ::fstat(def->native_handle(), &st) != 0) return 5;
    return (st.st_mode & 07777) == 0600 ? 0 : 6;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(PosixShm, DescriptorIsCloseOnExec) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
  EXPECT_NE(::fcntl(shm.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm opened, PosixShm::open(name));
  EXPECT_NE(::fcntl(opened.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(PosixShm, OpenerWaitsForCreatorToSizeTheObject) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  // A creator that has created the name but not sized it yet (what PosixShm::create looks like to
  // an opener between shm_open and posix_fallocate).
  const int raw = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(raw, 0);
  UniqueFd raw_fd(raw);

  test::ReadyPipe opening;
  const pid_t creator = test::spawn_child([&] {
    // Size it only once the parent is about to open, so the parent's open() must wait.
    if (!opening.wait(deadline_after(10s))) return 2;
    return ::ftruncate(raw_fd.get(), 12288) == 0 ? 0 : 3;
  });
  opening.signal();
  auto shm = PosixShm::open(name, ShmOpenOptions{Access::kReadWrite, 0, std::chrono::milliseconds(10'000)});
  const auto r = test::wait_child(creator);
  ASSERT_TRUE(r.ok()) << r.describe();
  IPCKIT_ASSERT_OK(shm);
  EXPECT_EQ(shm->size(), 12288u);
}

TEST(PosixShm, UnsizedObjectIsNotReadyAfterTimeout) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  const int raw = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(raw, 0);
  UniqueFd raw_fd(raw);
  const auto start = Clock::now();
  auto shm = PosixShm::open(name, ShmOpenOptions{Access::kReadOnly, 0, std::chrono::milliseconds(50)});
  EXPECT_GE(Clock::now() - start, 50ms);  // lower bound only
  EXPECT_TRUE(test::FailsWith(shm, {"shm_open(\"" + name + "\"): not ready: its size is still 0 after 50 ms"}));
  EXPECT_TRUE(shm.error().is(LibraryCode::kNotReady));
}

TEST(PosixShm, OpenRejectsObjectSmallerThanNeeded) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
  EXPECT_TRUE(test::FailsWith(PosixShm::open(name, ShmOpenOptions{Access::kReadOnly, 4097}),
                              {"fewer than the 4097 needed"}));
}

TEST(PosixShm, ReadOnlyMappingIsEnforced) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm creator, PosixShm::create(name, 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm reader, PosixShm::open(name, Access::kReadOnly));
  // A read-write mapping of a read-only descriptor is refused by the kernel.
  EXPECT_TRUE(test::FailsWith(reader.map(), {"mmap(\"" + name + "\"): EACCES", "map it read-only"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping ro, reader.map(MapOptions{Access::kReadOnly}));
  auto child = test::run_in_child_expecting_crash([&] {
    static_cast<volatile char*>(ro.data())[0] = 1;  // must die of SIGSEGV
    return 0;
  });
  EXPECT_FALSE(child.exited) << child.describe();
  EXPECT_EQ(child.signal, SIGSEGV) << child.describe();
}

TEST(PosixShm, MapRefusesObjectShrunkByPeer) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 8192));
  ASSERT_EQ(::ftruncate(shm.native_handle(), 4096), 0);  // what a hostile peer can do
  EXPECT_TRUE(test::FailsWith(shm.map(), {"mmap(\"" + name + "\"): corrupt: the object shrank from 8192 to 4096"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t now, shm.current_size());
  EXPECT_EQ(now, 4096u);
}

TEST(PosixShm, UnlinkReportsMissingNameAsValueAndPeersKeepWorking) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping map, shm.map());
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool exists, PosixShm::exists(name));
  EXPECT_TRUE(exists);
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool removed, PosixShm::unlink(name));
  EXPECT_TRUE(removed);
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool again, PosixShm::unlink(name));
  EXPECT_FALSE(again);
  IPCKIT_ASSERT_OK_AND_ASSIGN(exists, PosixShm::exists(name));
  EXPECT_FALSE(exists);
  // The mapping outlives the name.
  static_cast<char*>(map.data())[0] = 'x';
  auto child = test::run_in_child([&] { return static_cast<char*>(map.data())[0] == 'x' ? 0 : 1; });
  EXPECT_TRUE(child.ok());
}

TEST(PosixShm, UnlinkGuardRemovesNameAndCanBeDismissed) {
  const std::string name = test::unique_name();
  {
    UnlinkGuard guard(name);
    IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
    UnlinkGuard moved(std::move(guard));
    EXPECT_FALSE(guard.armed());  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(moved.armed());
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool exists, PosixShm::exists(name));
  EXPECT_FALSE(exists);
  {
    UnlinkGuard guard(name);
    IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
    guard.dismiss();
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(exists, PosixShm::exists(name));
  EXPECT_TRUE(exists);
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool removed, PosixShm::unlink(name));
  EXPECT_TRUE(removed);
}

TEST(PosixShm, InvalidNamesAndSizesAreClearErrors) {
  EXPECT_TRUE(test::FailsWith(PosixShm::create("jobs", 4096),
                              {"shm_open(\"jobs\"): invalid argument", "must start with '/'"}));
  EXPECT_TRUE(test::FailsWith(PosixShm::open("/a/b"), {"shm_open(\"/a/b\")", "only one '/'"}));
  EXPECT_TRUE(test::FailsWith(PosixShm::unlink("x"), {"shm_unlink(\"x\"): invalid argument"}));
  EXPECT_TRUE(test::FailsWith(PosixShm::create(test::unique_name(), 0), {"size must be > 0"}));
}

TEST(PosixShm, FullDevShmFailsAtCreationWithEnospc) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to mount a tmpfs over /dev/shm";
  auto r = test::run_in_private_mount_ns([] {
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0) return 2;
    const std::string name = test::unique_name();
    auto shm = PosixShm::create(name, 2 * 1024 * 1024);
    if (shm) return 3;
    const std::string text = shm.error().str();
    std::fprintf(stderr, "%s\n", text.c_str());
    if (text.find("posix_fallocate(\"" + name + "\"): ENOSPC") == std::string::npos) return 4;
    if (text.find("df /dev/shm") == std::string::npos) return 5;
    // The hint compares what was asked with what the mount has (statvfs), not just "full".
    if (text.find("needs 2 MiB, /dev/shm has 1 MiB free") == std::string::npos) return 10;
    if (text.find("--shm-size") == std::string::npos) return 6;
    // The failed creation removed its name again.
    auto exists = PosixShm::exists(name);
    if (!exists || *exists) return 7;
    // And what fits still works.
    auto small = PosixShm::create(name, 512 * 1024);
    if (!small) return 8;
    return PosixShm::unlink(name).value_or(false) ? 0 : 9;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}


TEST(PosixShm, ObjectWithAWiderModeThanAskedIsRefused) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm wide, PosixShm::create(name, 4096, OpenMode::kCreateExclusive, 0644));
  EXPECT_TRUE(test::FailsWith(PosixShm::open(name),
                              {"shm_open(\"" + name + "\"): untrusted", "mode 0644 is wider than the 0600"}));
  EXPECT_TRUE(test::FailsWith(PosixShm::create(name, 4096, OpenMode::kOpenOrCreate), {"mode 0644 is wider"}));
  ShmOpenOptions o;
  o.mode = 0644;
  IPCKIT_EXPECT_OK(PosixShm::open(name, o));
}

TEST(PosixShm, ObjectOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create an object as another user (setresuid)";
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  auto made = test::run_as_nobody(
      [&] { return PosixShm::create(name, 4096, OpenMode::kCreateExclusive, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  ShmOpenOptions o;
  o.mode = 0666;  // the mode is fine: the owner is the reason
  auto refused = PosixShm::open(name, o);
  EXPECT_TRUE(test::FailsWith(refused, {"shm_open(\"" + name + "\"): untrusted", "owned by uid 65534", "mode 0666"}));
  EXPECT_TRUE(test::FailsWith(PosixShm::create(name, 4096, OpenMode::kOpenOrCreate, 0666), {"owned by uid 65534"}));
  o.trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm opened, PosixShm::open(name, o));
  EXPECT_FALSE(opened.created());
  TrustPolicy by_group;
  by_group.allowed_gids = {test::kNobodyGid};
  IPCKIT_EXPECT_OK(PosixShm::create(name, 4096, OpenMode::kOpenOrCreate, 0666, by_group));
}

}  // namespace
}  // namespace ipckit
