// SPDX-License-Identifier: Apache-2.0
// The tutorials' producer/consumer: POSIX shared memory holding a ring of sensor readings, and two
// named POSIX semaphores counting the free and the filled slots (a single semaphore used as a lock,
// as in the tutorial, gives exclusion but not order: the consumer could read before anything was
// produced). The producer is a separate process that opens everything by name.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/sync/semaphore.hpp"

using namespace std::chrono_literals;

struct Reading {
  float temperature;
  float humidity;
  std::uint32_t sequence;
};
constexpr std::uint32_t kSlots = 4;
struct Ring {  // standard layout, no pointers: the same bytes mean the same in both processes
  Reading slot[kSlots];
};
constexpr int kReadings = 8;

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string base = "/ipckit.demo.shmsem." + std::to_string(::getpid());
  const std::string shm_name = base, free_name = base + ".free", full_name = base + ".full";
  ipckit::UnlinkGuard shm_guard(shm_name);
  auto shm = ipckit::PosixShm::create(shm_name, sizeof(Ring));
  auto free_slots = ipckit::NamedSemaphore::open(free_name, ipckit::OpenMode::kCreateExclusive, kSlots);
  auto full_slots = ipckit::NamedSemaphore::open(full_name, ipckit::OpenMode::kCreateExclusive, 0);
  int rc = 1;
  if (!shm || !free_slots || !full_slots) {
    const auto& err = !shm ? shm.error() : !free_slots ? free_slots.error() : full_slots.error();
    std::fprintf(stderr, "%s\n", err.str().c_str());
  } else if (auto map = shm->map(); map) {
    std::printf("[consumer] shm_open(%s): a ring of %u readings; sem_open(%s, %u) counts free slots, "
                "sem_open(%s, 0) counts filled ones\n",
                shm_name.c_str(), kSlots, free_name.c_str(), kSlots, full_name.c_str());
    const pid_t pid = ::fork();
    if (pid == 0) {
      // The producer opens everything by name, as an unrelated process would.
      auto pshm = ipckit::PosixShm::open(shm_name, ipckit::ShmOpenOptions{ipckit::Access::kReadWrite, sizeof(Ring)});
      auto pfree = ipckit::NamedSemaphore::open(free_name, ipckit::OpenMode::kOpenExisting);
      auto pfull = ipckit::NamedSemaphore::open(full_name, ipckit::OpenMode::kOpenExisting);
      if (!pshm || !pfree || !pfull) ::_exit(2);
      auto pmap = pshm->map();
      if (!pmap) ::_exit(3);
      auto* ring = static_cast<Ring*>(pmap->data());
      for (int i = 0; i < kReadings; ++i) {
        auto got = pfree->wait_for(5s);  // a free slot (blocks while the ring is full)
        if (!got || *got != ipckit::IoStatus::kOk) ::_exit(4);
        ring->slot[i % kSlots] = Reading{20.0f + static_cast<float>(i) * 0.5f, 60.0f + static_cast<float>(i),
                                         static_cast<std::uint32_t>(i)};
        std::printf("[producer %d] sem_wait(free), wrote reading #%d into slot %u, sem_post(full)\n",
                    static_cast<int>(::getpid()), i, static_cast<unsigned>(i % kSlots));
        if (!pfull->post()) ::_exit(5);  // sem_post is a full barrier: the slot is written before the count rises
      }
      ::_exit(0);
    }
    auto* ring = static_cast<Ring*>(map->data());
    int in_order = 0;
    for (int i = 0; i < kReadings; ++i) {
      auto got = full_slots->wait_for(5s);  // a deadline: a dead producer could never post
      if (!got || *got != ipckit::IoStatus::kOk) break;
      const Reading r = ring->slot[i % kSlots];
      std::printf("[consumer] sem_wait(full), read #%u: %.1f C, %.1f %%, sem_post(free)\n", r.sequence,
                  static_cast<double>(r.temperature), static_cast<double>(r.humidity));
      in_order += r.sequence == static_cast<std::uint32_t>(i) ? 1 : 0;
      if (!free_slots->post()) break;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    rc = in_order == kReadings && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
  }
  if (free_slots) (void)ipckit::NamedSemaphore::unlink(free_name);
  if (full_slots) (void)ipckit::NamedSemaphore::unlink(full_name);
  std::printf("[consumer] removed the shm object and both semaphores (shm_unlink, sem_unlink)\n");
  return rc;
}
