// SPDX-License-Identifier: Apache-2.0
// Mapping options: MAP_POPULATE, mlock (RLIMIT_MEMLOCK), huge pages.
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/memory/huge_pages.hpp"
#include "ipckit/memory/memfd.hpp"
#include "ipckit/memory/memory_lock.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

std::size_t resident_pages(const Mapping& m) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((m.size() + page - 1) / page);
  if (::mincore(m.data(), m.size(), vec.data()) != 0) return 0;
  std::size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

TEST(MemoryOptions, PopulateFaultsEveryPageInAtMapTime) {
  const std::size_t pages = 64;
  const std::size_t size = pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Private anonymous memory has no page cache behind it: untouched pages are not resident.
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping lazy, Mapping::anonymous(size, MapOptions{Access::kReadWrite, false, false}));
  EXPECT_EQ(resident_pages(lazy), 0u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping eager, Mapping::anonymous(size, MapOptions{Access::kReadWrite, false, true}));
  EXPECT_EQ(resident_pages(eager), pages);

  // The same option through a POSIX shm object.
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, size));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping shared, shm.map(MapOptions{Access::kReadWrite, true, true}));
  EXPECT_EQ(resident_pages(shared), pages);
}

TEST(MemoryOptions, MlockLocksAndUnlocks) {
  auto r = test::run_in_child([] {
    auto map = Mapping::anonymous(16 * 4096);
    if (!map) return 2;
    auto before = memlock_limit();
    if (!before) return 3;
    {
      auto lock = MemoryLock::lock(*map);
      if (!lock) {
        std::fprintf(stderr, "%s\n", lock.error().str().c_str());
        return 4;
      }
      auto during = memlock_limit();
      if (!during || during->locked_now < before->locked_now + 16 * 4096) return 5;
    }
    auto after = memlock_limit();
    return after && after->locked_now == before->locked_now ? 0 : 6;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Without CAP_IPC_LOCK, RLIMIT_MEMLOCK bounds what a process may lock; the error must name it.
TEST(MemoryOptions, MlockBeyondRlimitMemlockNamesTheLimit) {
  auto r = test::run_in_child([] {
    if (!test::drop_capability(CAP_IPC_LOCK)) return 2;
    const rlimit small{65536, 65536};
    if (::setrlimit(RLIMIT_MEMLOCK, &small) != 0) return 3;
    auto map = Mapping::anonymous(1 << 20);
    if (!map) return 4;
    auto ok = MemoryLock::lock(map->bytes().first(4096));
    EXPECT_TRUE(ok.has_value()) << ok.error().str();
    auto big = MemoryLock::lock(*map);
    EXPECT_TRUE(test::FailsWith(big, {"mlock(1048576 bytes at ", "): ENOMEM: locking 1048576 bytes exceeds "
                                      "RLIMIT_MEMLOCK (soft limit 65536 bytes, 4096 bytes already locked",
                                      "`ulimit -l`", "CAP_IPC_LOCK"}));
    // A limit of 0 makes the kernel say EPERM; the hint is the same.
    ok->reset();
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_MEMLOCK, &none) != 0) return 5;
    EXPECT_TRUE(test::FailsWith(MemoryLock::lock(map->bytes().first(4096)),
                                {"EPERM: locking 4096 bytes exceeds RLIMIT_MEMLOCK (soft limit 0 bytes"}));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(MemoryOptions, HugePagesMapOrExplainWhyNot) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(HugePageInfo info, huge_page_info());
  ASSERT_GT(info.page_size, 0u);
  EXPECT_TRUE(test::FailsWith(map_huge_pages(info.page_size + 4096),
                              {"mmap(MAP_HUGETLB)(anonymous): invalid argument: size", "is not a positive multiple"}));
  auto map = map_huge_pages(info.page_size);
  if (info.free == 0) {
    // This is the common case (no pool configured, e.g. these CI machines): a clear error.
    ASSERT_FALSE(map.has_value());
    EXPECT_TRUE(test::FailsWith(map, {"mmap(MAP_HUGETLB)(" + std::to_string(info.page_size) + " bytes): ENOMEM",
                                      "vm.nr_hugepages"}));
  } else {
    IPCKIT_ASSERT_OK(map);
    static_cast<volatile char*>(map->data())[0] = 1;
  }
}

TEST(MemoryOptions, HugePageMemfdWithoutPoolIsClearError) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(HugePageInfo info, huge_page_info());
  if (info.free != 0) GTEST_SKIP() << "this machine has free huge pages; the error path is not reachable";
  auto memfd = Memfd::create("huge", info.page_size, MemfdOptions{true, true});
  ASSERT_FALSE(memfd.has_value());
  EXPECT_TRUE(test::FailsWith(memfd, {"memfd:huge", "no huge pages available", "vm.nr_hugepages"}));
}

}  // namespace
}  // namespace ipckit
