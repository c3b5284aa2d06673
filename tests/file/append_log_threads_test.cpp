// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
// AppendLog and OFD file locks between threads of one process (no fork), also run under TSan.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/file/append_log.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(AppendLogThreads, SharedAndSeparateHandlesKeepRecordsWhole) {
  test::TempDir dir;
  const std::string path = dir.file("log");
  IPCKIT_ASSERT_OK_AND_ASSIGN(AppendLog shared, AppendLog::open(path, OpenMode::kCreateExclusive));
  const std::size_t per = test::scaled(300);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Threads 0-1 share one handle; 2-3 open their own (separate open file descriptions).
      auto own = t >= 2 ? AppendLog::open(path, OpenMode::kOpenExisting) : Result<AppendLog>(AppendLog());
      if (!own) {
        failures.fetch_add(1);
        return;
      }
      AppendLog& log = t >= 2 ? *own : shared;
      for (std::size_t i = 0; i < per; ++i) {
        const std::size_t len = i % 8 == 7 ? 2 * AppendLog::kAtomicRecordMax : 32;
        std::string rec = fmt::format("{}:{}:", t, i);
        rec.resize(len, static_cast<char>('a' + t));
        if (!log.append(rec)) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  IPCKIT_ASSERT_OK_AND_ASSIGN(LogContents c, read_log(path));
  EXPECT_FALSE(c.torn_tail);
  ASSERT_EQ(c.records.size(), 4 * per);
  for (const auto& rec : c.records) {
    int t = -1;
    ASSERT_EQ(std::sscanf(rec.c_str(), "%d:", &t), 1);
    const auto body = rec.find(':', rec.find(':') + 1) + 1;
    ASSERT_EQ(rec.find_first_not_of(static_cast<char>('a' + t), body), std::string::npos);
  }
}

TEST(FileLockThreads, OfdLocksExcludeThreadsWithTheirOwnOpen) {
  test::TempDir dir;
  const std::string path = dir.file("counter");
  std::uint64_t counter = 0;  // guarded by the OFD lock only: TSan sees the kernel lock as no sync,
                              // so the value is published with an atomic as well (see below)
  std::atomic<std::uint64_t> published{0};
  const std::size_t per = test::scaled(500);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!fd) {
        failures.fetch_add(1);
        return;
      }
      for (std::size_t i = 0; i < per; ++i) {
        auto lock = FileLock::lock(fd.get(), LockSpec{LockStyle::kOfd, LockKind::kExclusive}, path);
        if (!lock) {
          failures.fetch_add(1);
          return;
        }
        // acq_rel read-modify-write: the lock guarantees no other thread is inside; the atomic gives
        // TSan (which cannot see kernel locks) the happens-before edge between holders.
        const std::uint64_t before = published.load(std::memory_order_acquire);  // pairs with the release below
        if (before != counter) failures.fetch_add(1);
        ++counter;
        published.store(counter, std::memory_order_release);  // pairs with the acquire above
        if (!lock->unlock()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(published.load(), 3 * per);
}

}  // namespace
}  // namespace ipckit
