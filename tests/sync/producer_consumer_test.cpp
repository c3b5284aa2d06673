// SPDX-License-Identifier: Apache-2.0
// The tutorials' classic: a producer and a consumer process sharing a POSIX shared-memory buffer,
// synchronised by two named semaphores ("empty slots" and "full slots"). The consumer is a fresh
// exec of this test binary that finds everything by name, as an unrelated process would.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/sync/semaphore.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kSlots = 8;
constexpr std::size_t kPayload = 120;

// The shared buffer: standard layout, fixed-width fields, no pointers.
struct Slot {
  std::uint64_t seq;
  std::uint32_t len;
  std::uint32_t sum;  // byte sum of the payload, checked by the consumer
  char payload[kPayload];
};
struct Ring {
  Slot slots[kSlots];
};
static_assert(std::is_standard_layout_v<Ring>);
static_assert(sizeof(Slot) == 136);

std::uint32_t byte_sum(const char* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<unsigned char>(p[i]);
  return s;
}

// The ring lives in a POSIX shm object: PosixShm sizes it with posix_fallocate at creation and checks
// the size on open, so neither side can SIGBUS on it.
Result<Mapping> map_ring(const std::string& name, bool create) {
  auto shm = create ? PosixShm::create(name, sizeof(Ring))
                    : PosixShm::open(name, ShmOpenOptions{Access::kReadWrite, sizeof(Ring)});
  if (!shm) return fail(shm.error());
  return shm->map();
}

IPCKIT_TEST_HELPER(consumer) {
  // args: shm name, "empty" semaphore, "full" semaphore, message count
  if (args.size() != 4) return 2;
  auto ring_map = map_ring(args[0], false);
  auto empty = NamedSemaphore::open(args[1], OpenMode::kOpenExisting);
  auto full = NamedSemaphore::open(args[2], OpenMode::kOpenExisting);
  if (!ring_map || !empty || !full) return 3;
  auto* ring = static_cast<Ring*>(ring_map->data());
  const std::uint64_t n = std::stoull(args[3]);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto got = full->wait_for(10s);  // the producer may die: never wait without a deadline
    if (!got || *got != IoStatus::kOk) return 4;
    const Slot& s = ring->slots[i % kSlots];  // sem_wait is a full barrier: the slot is complete
    if (s.seq != i || s.len > kPayload || byte_sum(s.payload, s.len) != s.sum) return 5;
    if (!empty->post()) return 6;
  }
  return 0;
}

TEST(ProducerConsumer, SharedMemoryAndNamedSemaphoresAcrossProcesses) {
  const std::string shm = test::unique_name(), empty_name = test::unique_name(), full_name = test::unique_name();
  UnlinkGuard shm_guard(shm);
  struct SemCleanup {
    std::string a, b;
    ~SemCleanup() {
      (void)NamedSemaphore::unlink(a);
      (void)NamedSemaphore::unlink(b);
    }
  } sem_cleanup{empty_name, full_name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping ring_map, map_ring(shm, true));
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore empty, NamedSemaphore::open(empty_name, OpenMode::kCreateExclusive, kSlots));
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore full, NamedSemaphore::open(full_name, OpenMode::kCreateExclusive, 0));
  auto* ring = static_cast<Ring*>(ring_map.data());

  const std::uint64_t n = test::scaled(5000);
  const pid_t consumer = test::spawn_helper("consumer", {shm, empty_name, full_name, std::to_string(n)});
  ASSERT_GT(consumer, 0);
  for (std::uint64_t i = 0; i < n; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus room, empty.wait_for(10s));
    ASSERT_EQ(room, IoStatus::kOk) << "the consumer stopped at message " << i;
    Slot& s = ring->slots[i % kSlots];
    s.seq = i;
    s.len = static_cast<std::uint32_t>(i % (kPayload + 1));
    for (std::uint32_t k = 0; k < s.len; ++k) s.payload[k] = static_cast<char>('a' + (i + k) % 26);
    s.sum = byte_sum(s.payload, s.len);
    IPCKIT_ASSERT_OK(full.post());  // publishes the slot (sem_post is a full barrier)
  }
  auto r = test::wait_child(consumer);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace ipckit
