// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/semaphore.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

#include <gtest/gtest.h>

#include "ipckit/core/mapping.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Removes a named semaphore at scope exit, so a failing ASSERT leaks nothing.
struct SemUnlinker {
  std::string name;
  ~SemUnlinker() { (void)NamedSemaphore::unlink(name); }
};

TEST(NamedSemaphore, CreateExclusiveOpenExistingAndUnlink) {
  const std::string name = test::unique_name();
  SemUnlinker cleanup{name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore a, NamedSemaphore::open(name, OpenMode::kCreateExclusive, 2));
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open(name, OpenMode::kCreateExclusive), {"sem_open(\"", "EEXIST"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore b, NamedSemaphore::open(name, OpenMode::kOpenOrCreate, 99));
  IPCKIT_ASSERT_OK_AND_ASSIGN(int v, b.value());
  EXPECT_EQ(v, 2) << "kOpenOrCreate on an existing semaphore must not reset its count";

  // 0600 regardless of the umask.
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/sem." + name.substr(1)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus got, a.try_wait());
  EXPECT_EQ(got, IoStatus::kOk);
  IPCKIT_ASSERT_OK(b.wait());
  IPCKIT_ASSERT_OK_AND_ASSIGN(got, a.try_wait());
  EXPECT_EQ(got, IoStatus::kWouldBlock) << "count 0: try_wait must not block and must say no";

  IPCKIT_ASSERT_OK(NamedSemaphore::unlink(name));
  // Attached users keep working after the unlink.
  IPCKIT_ASSERT_OK(a.post());
  IPCKIT_ASSERT_OK_AND_ASSIGN(got, b.try_wait());
  EXPECT_EQ(got, IoStatus::kOk);
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open(name, OpenMode::kOpenExisting), {"ENOENT", name}));
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::unlink(name), {"sem_unlink(\"" + name + "\"): ENOENT"}));
}

TEST(NamedSemaphore, BadNamesAndValuesAreClearErrors) {
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open("jobs", OpenMode::kOpenOrCreate), {"sem_open(\"jobs\")", "'/'"}));
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open(test::unique_name(), OpenMode::kCreateExclusive,
                                                   static_cast<unsigned>(SEM_VALUE_MAX) + 1u),
                              {"EINVAL", "SEM_VALUE_MAX"}));
}

TEST(NamedSemaphore, DeadlineIsALowerBound) {
  const std::string name = test::unique_name();
  SemUnlinker cleanup{name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore s, NamedSemaphore::open(name, OpenMode::kCreateExclusive, 0));
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus got, s.wait_for(30ms));
  EXPECT_EQ(got, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK(s.post());
  IPCKIT_ASSERT_OK_AND_ASSIGN(got, s.wait_until(Clock::now() - 1s));  // past deadline, count available
  EXPECT_EQ(got, IoStatus::kOk);
}

TEST(NamedSemaphore, WakesAWaiterInAnotherProcess) {
  const std::string name = test::unique_name();
  SemUnlinker cleanup{name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore ping, NamedSemaphore::open(name, OpenMode::kCreateExclusive, 0));
  const std::string pong_name = test::unique_name();
  SemUnlinker cleanup2{pong_name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore pong, NamedSemaphore::open(pong_name, OpenMode::kCreateExclusive, 0));
  const std::size_t rounds = test::scaled(500);
  const pid_t pid = test::spawn_child([&] {
    // A fresh open by name, as an unrelated process would.
    auto p = NamedSemaphore::open(name, OpenMode::kOpenExisting);
    auto q = NamedSemaphore::open(pong_name, OpenMode::kOpenExisting);
    if (!p || !q) return 2;
    for (std::size_t i = 0; i < rounds; ++i) {
      auto got = p->wait_for(10s);
      if (!got || *got != IoStatus::kOk) return 3;
      if (!q->post()) return 4;
    }
    return 0;
  });
  for (std::size_t i = 0; i < rounds; ++i) {
    ASSERT_TRUE(ping.post());
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus got, pong.wait_for(10s));
    ASSERT_EQ(got, IoStatus::kOk) << "round " << i;
  }
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(SharedSemaphore, PingPongAcrossFork) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping m, Mapping::anonymous(4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SharedSemaphore * ping, SharedSemaphore::create_at(m.data(), 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SharedSemaphore * pong,
                              SharedSemaphore::create_at(static_cast<std::byte*>(m.data()) + 64, 0));
  auto* counter = reinterpret_cast<std::uint64_t*>(static_cast<std::byte*>(m.data()) + 128);
  const std::size_t rounds = test::scaled(2000);
  const pid_t pid = test::spawn_child([&] {
    auto p = SharedSemaphore::at(m.data());
    auto q = SharedSemaphore::at(static_cast<std::byte*>(m.data()) + 64);
    if (!p || !q) return 2;
    for (std::size_t i = 0; i < rounds; ++i) {
      auto got = (*p)->wait_for(10s);
      if (!got || *got != IoStatus::kOk) return 3;
      ++*counter;  // ordered by the semaphores: sem_post/sem_wait are full barriers
      if (!(*q)->post()) return 4;
    }
    return 0;
  });
  for (std::size_t i = 0; i < rounds; ++i) {
    ASSERT_TRUE(ping->post());
    IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus got, pong->wait_for(10s));
    ASSERT_EQ(got, IoStatus::kOk) << "round " << i;
    ASSERT_EQ(*counter, i + 1);
  }
  auto r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
  IPCKIT_EXPECT_OK(ping->destroy());
  IPCKIT_EXPECT_OK(pong->destroy());
}

TEST(SharedSemaphore, MisplacedObjectsAreErrors) {
  EXPECT_TRUE(test::FailsWith(SharedSemaphore::create_at(nullptr, 0), {"invalid argument", "null address"}));
  alignas(16) std::byte buf[64];
  EXPECT_TRUE(test::FailsWith(SharedSemaphore::create_at(buf + 1, 0), {"not aligned"}));
  EXPECT_TRUE(test::FailsWith(SharedSemaphore::create_at(buf, static_cast<unsigned>(SEM_VALUE_MAX) + 1u),
                              {"sem_init", "SEM_VALUE_MAX"}));
}


TEST(NamedSemaphore, SemaphoreWithAWiderModeThanAskedIsRefused) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore created, NamedSemaphore::open(name, OpenMode::kCreateExclusive, 0, 0660));
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open(name, OpenMode::kOpenExisting),
                              {"sem_open(\"" + name + "\"): untrusted", "mode 0660 is wider than the 0600"}));
  EXPECT_TRUE(test::FailsWith(NamedSemaphore::open(name, OpenMode::kOpenOrCreate), {"mode 0660 is wider"}));
  IPCKIT_EXPECT_OK(NamedSemaphore::open(name, OpenMode::kOpenExisting, 0, 0660));
  IPCKIT_EXPECT_OK(NamedSemaphore::unlink(name));
}

TEST(NamedSemaphore, SemaphoreOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a semaphore as another user (setresuid)";
  const std::string name = test::unique_name();
  auto made = test::run_as_nobody(
      [&] { return NamedSemaphore::open(name, OpenMode::kCreateExclusive, 1, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  auto refused = NamedSemaphore::open(name, OpenMode::kOpenExisting, 0, 0666);
  EXPECT_TRUE(test::FailsWith(refused, {"sem_open(\"" + name + "\"): untrusted", "owned by uid 65534", "mode 0666"}));
  TrustPolicy trust;
  trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(NamedSemaphore opened, NamedSemaphore::open(name, OpenMode::kOpenOrCreate, 0, 0666, trust));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus got, opened.try_wait());
  EXPECT_EQ(got, IoStatus::kOk);  // the count nobody's creator set: the same semaphore
  IPCKIT_EXPECT_OK(NamedSemaphore::unlink(name));
}

}  // namespace
}  // namespace ipckit
