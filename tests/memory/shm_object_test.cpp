// SPDX-License-Identifier: Apache-2.0
// create_or_open_shm(): racing creators end with one initialised object, the init callback and the
// ready check, "not ready" naming what was awaited, owner and mode checks of what it opens.
#include "ipckit/memory/shm_object.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/memory/posix_shm.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kMagic = 0x1badcafe;

// The test's header: a magic written by init(), a ready flag stored last, a counter every process
// that ends up with the object increments.
struct Header {
  std::uint32_t magic;
  std::uint32_t ready;
  std::uint32_t users;
};
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

Header* map_header(int fd, int prot) {
  void* p = ::mmap(nullptr, sizeof(Header), prot, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<Header*>(p);
}

ShmObjectOptions header_options(OpenMode mode, bool set_ready = true) {
  ShmObjectOptions o;
  o.open = mode;
  o.size = 4096;
  o.init = [set_ready](int fd, std::size_t) -> Result<void> {
    Header* h = map_header(fd, PROT_READ | PROT_WRITE);
    if (h == nullptr) return last_errno().fail("mmap", "test header");
    h->magic = kMagic;
    // Publishes the magic; pairs with the acquire load in is_ready.
    if (set_ready) std::atomic_ref<std::uint32_t>(h->ready).store(1, std::memory_order_release);
    ::munmap(h, sizeof(Header));
    return {};
  };
  o.is_ready = [](int fd, std::size_t) -> Result<bool> {
    Header* h = map_header(fd, PROT_READ);
    if (h == nullptr) return last_errno().fail("mmap", "test header");
    const bool ready = std::atomic_ref<std::uint32_t>(h->ready).load(std::memory_order_acquire) == 1;
    ::munmap(h, sizeof(Header));
    return ready;
  };
  o.ready_what = "the test header's ready flag";
  return o;
}

TEST(ShmObject, RacingCreatorsBothEndWithTheOneInitialisedObject) {
  for (int round = 0; round < 20; ++round) {
    const std::string name = test::unique_name();
    UnlinkGuard guard(name);
    int start[2];
    ASSERT_EQ(::pipe2(start, O_CLOEXEC), 0);
    auto racer = [&]() -> int {
      ::close(start[1]);
      char c;
      if (::read(start[0], &c, 1) != 0) return 20;  // released when the parent closes its end
      auto shm = create_or_open_shm(name, header_options(OpenMode::kOpenOrCreate));
      if (!shm) {
        std::fprintf(stderr, "%s\n", shm.error().str().c_str());
        return 21;
      }
      Header* h = map_header(shm->fd.get(), PROT_READ | PROT_WRITE);
      if (h == nullptr || h->magic != kMagic) return 22;
      std::atomic_ref<std::uint32_t>(h->users).fetch_add(1);
      return shm->created ? 0 : 1;
    };
    const pid_t a = test::spawn_child(racer);
    const pid_t b = test::spawn_child(racer);
    ::close(start[0]);
    ::close(start[1]);
    const auto ra = test::wait_child(a);
    const auto rb = test::wait_child(b);
    ASSERT_TRUE(ra.exited && rb.exited) << ra.describe() << " / " << rb.describe();
    // Exactly one created it, the other opened it.
    EXPECT_EQ(ra.code + rb.code, 1) << ra.describe() << " / " << rb.describe();
    auto shm = create_or_open_shm(name, header_options(OpenMode::kOpenExisting));
    ASSERT_TRUE(shm) << shm.error().str();
    Header* h = map_header(shm->fd.get(), PROT_READ);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->magic, kMagic);
    EXPECT_EQ(h->users, 2u);
    ::munmap(h, sizeof(Header));
  }
}

TEST(ShmObject, CreatorThatNeverFinishesIsNotReadyAfterTheDeadline) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  // The creator initialises but never sets the ready flag (as one that died half-way).
  IPCKIT_ASSERT_OK_AND_ASSIGN(ShmObject creator,
                              create_or_open_shm(name, header_options(OpenMode::kCreateExclusive, false)));
  EXPECT_TRUE(creator.created);
  auto o = header_options(OpenMode::kOpenOrCreate);
  o.ready_timeout = 50ms;
  const auto start = Clock::now();
  auto opened = create_or_open_shm(name, o);
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_TRUE(test::FailsWith(opened, {"shm_open(\"" + name + "\"): not ready",
                                       "the test header's ready flag is still unset after 50 ms"}));
  EXPECT_TRUE(opened.error().is(LibraryCode::kNotReady));
}

TEST(ShmObject, UnsizedObjectIsNotReadyNamingTheSize) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  UniqueFd owned(fd);
  ShmObjectOptions o;
  o.open = OpenMode::kOpenExisting;
  o.ready_timeout = 20ms;
  EXPECT_TRUE(test::FailsWith(create_or_open_shm(name, o), {"not ready", "its size is still 0 after 20 ms"}));
}

TEST(ShmObject, FailedInitRemovesTheNameAndReturnsItsError) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  ShmObjectOptions o;
  o.size = 4096;
  o.init = [](int, std::size_t) -> Result<void> {
    return fail_library(LibraryCode::kCorrupt, "init", "test", "refused on purpose");
  };
  EXPECT_TRUE(test::FailsWith(create_or_open_shm(name, o), {"refused on purpose"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool exists, PosixShm::exists(name));
  EXPECT_FALSE(exists);
}

TEST(ShmObject, OpenedObjectWithAWiderModeThanAskedIsRefused) {
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  ShmObjectOptions wide;
  wide.size = 4096;
  wide.mode = 0666;
  IPCKIT_ASSERT_OK_AND_ASSIGN(ShmObject created, create_or_open_shm(name, wide));
  ShmObjectOptions o;
  o.open = OpenMode::kOpenOrCreate;
  o.size = 4096;  // mode 0600, the default
  auto r = create_or_open_shm(name, o);
  EXPECT_TRUE(test::FailsWith(r, {"shm_open(\"" + name + "\"): untrusted", "mode 0666 is wider than the 0600"}));
  o.mode = 0666;
  IPCKIT_EXPECT_OK(create_or_open_shm(name, o));
}

TEST(ShmObject, ObjectOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create an object as another user (setresuid)";
  const std::string name = test::unique_name();
  UnlinkGuard guard(name);
  auto made = test::run_as_nobody([&] {
    ShmObjectOptions o;
    o.size = 4096;
    o.mode = 0666;
    return create_or_open_shm(name, o) ? 0 : 2;
  });
  ASSERT_TRUE(made.ok()) << made.describe();
  ShmObjectOptions o;
  o.open = OpenMode::kOpenOrCreate;
  o.size = 4096;
  o.mode = 0666;  // the mode is fine: the owner is the reason
  auto refused = create_or_open_shm(name, o);
  EXPECT_TRUE(test::FailsWith(refused, {"shm_open(\"" + name + "\"): untrusted", "owned by uid 65534"}));
  EXPECT_TRUE(refused.error().is(LibraryCode::kUntrusted));
  o.trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_ASSERT_OK_AND_ASSIGN(ShmObject opened, create_or_open_shm(name, o));
  EXPECT_FALSE(opened.created);
}

}  // namespace
}  // namespace ipckit
