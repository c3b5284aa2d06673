// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// PosixShm from many threads of one process (no fork, so it also runs under TSan): OpenOrCreate
// races, concurrent map/unmap, and atomics through two mappings of the same object.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/memory/posix_shm.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(PosixShmThreads, OpenOrCreateFromManyThreadsCreatesOnce) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  std::atomic<int> created{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto shm = PosixShm::create(name, 65536, OpenMode::kOpenOrCreate);
      if (!shm || shm->size() != 65536) {
        failures.fetch_add(1);
        return;
      }
      if (shm->created()) created.fetch_add(1);
      auto map = shm->map();
      if (!map) failures.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created.load(), 1);
}

TEST(PosixShmThreads, TwoMappingsOfOneObjectShareAtomics) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm shm, PosixShm::create(name, 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping a, shm.map());
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixShm other, PosixShm::open(name));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping b, other.map());
  ASSERT_NE(a.data(), b.data());  // two virtual addresses, one page of memory
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
  const std::size_t rounds = test::scaled(100'000);
  auto work = [rounds](void* base) {
    std::atomic_ref<std::uint64_t> counter(*static_cast<std::uint64_t*>(base));
    for (std::size_t i = 0; i < rounds; ++i) counter.fetch_add(1, std::memory_order_relaxed);  // total only; join orders it
  };
  std::thread t1(work, a.data());
  std::thread t2(work, b.data());
  t1.join();
  t2.join();
  EXPECT_EQ(std::atomic_ref<std::uint64_t>(*static_cast<std::uint64_t*>(a.data())).load(), 2 * rounds);
}

}  // namespace
}  // namespace ipckit
