// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/memfd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kSize = 64 * 1024;

std::byte pattern_at(std::size_t i) { return static_cast<std::byte>((i * 7 + 3) & 0xff); }

// A freshly exec'd receiver: it inherits nothing (the memfd is O_CLOEXEC) and opens the sender's
// memfd through /proc/PID/fd/N, as a stand-in for SCM_RIGHTS. Exit codes tell the parent what
// happened; 0 means every check passed.
IPCKIT_TEST_HELPER(memfd_receiver) {
  const std::string& proc_path = args.at(0);
  const int fd = ::open(proc_path.c_str(), O_RDWR | O_CLOEXEC);  // asks for write: seals still rule
  if (fd < 0) return 2;
  auto memfd = Memfd::adopt(UniqueFd(fd), MemfdRequirements{seal::kFixedSize | seal::kWrite, kSize});
  if (!memfd) {
    std::fprintf(stderr, "%s\n", memfd.error().str().c_str());
    return 3;
  }
  if (memfd->name() != "ipckit-test") return 4;
  auto map = memfd->map(MapOptions{Access::kReadOnly});
  if (!map) return 5;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (map->bytes()[i] != pattern_at(i)) return 6;
  }
  // A hostile receiver cannot shrink, grow or write it.
  if (::ftruncate(fd, 0) == 0 || errno != EPERM) return 7;
  if (::ftruncate(fd, kSize * 2) == 0 || errno != EPERM) return 8;
  if (::pwrite(fd, "x", 1, 0) >= 0 || errno != EPERM) return 9;
  if (::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED || errno != EPERM) return 10;
  return 0;
}

TEST(Memfd, SealedMemfdHandedToExecdProcessViaProcFd) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("ipckit-test", kSize));
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping map, memfd.map());
    for (std::size_t i = 0; i < kSize; ++i) map.bytes()[i] = pattern_at(i);
  }  // unmapped: F_SEAL_WRITE needs no writable shared mapping left
  IPCKIT_ASSERT_OK(memfd.add_seals(seal::kFixedSize | seal::kWrite));
  const pid_t receiver = test::spawn_helper("memfd_receiver", {memfd.proc_path()});
  ASSERT_GT(receiver, 0);
  const auto r = test::wait_child(receiver);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Memfd, SealsRefuseShrinkGrowAndWrite) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("sealed", 8192));
  IPCKIT_ASSERT_OK_AND_ASSIGN(unsigned before, memfd.seals());
  EXPECT_EQ(before & (seal::kFixedSize | seal::kWrite), 0u);
  IPCKIT_ASSERT_OK(memfd.resize(4096));  // unsealed: allowed
  IPCKIT_ASSERT_OK(memfd.resize(8192));
  IPCKIT_ASSERT_OK(memfd.add_seals(seal::kShrink | seal::kGrow | seal::kWrite));
  IPCKIT_ASSERT_OK_AND_ASSIGN(unsigned after, memfd.seals());
  EXPECT_EQ(after & (seal::kFixedSize | seal::kWrite), seal::kFixedSize | seal::kWrite);

  EXPECT_TRUE(test::FailsWith(memfd.resize(4096), {"ftruncate(\"memfd:sealed\"): EPERM: sealed with F_SEAL_SHRINK"}));
  EXPECT_TRUE(test::FailsWith(memfd.resize(16384), {"posix_fallocate(\"memfd:sealed\"): EPERM"}));
  EXPECT_EQ(memfd.size(), 8192u);
  EXPECT_LT(::pwrite(memfd.native_handle(), "x", 1, 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_TRUE(test::FailsWith(memfd.map(), {"mmap(\"memfd:sealed\"): EPERM: the memfd is sealed against writes",
                                            "map it read-only"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping ro, memfd.map(MapOptions{Access::kReadOnly}));
  EXPECT_EQ(ro.size(), 8192u);
}

TEST(Memfd, SealWriteNeedsNoWritableMapping) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("busy", 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping rw, memfd.map());
  EXPECT_TRUE(test::FailsWith(memfd.add_seals(seal::kWrite),
                              {"fcntl(F_ADD_SEALS, F_SEAL_WRITE)(\"memfd:busy\"): EBUSY", "F_SEAL_FUTURE_WRITE"}));
}

TEST(Memfd, FutureWriteSealKeepsCreatorWritableAndReceiversReadOnly) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("one-writer", 4096));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping writer, memfd.map());
  IPCKIT_ASSERT_OK(memfd.add_seals(seal::kFixedSize | seal::kFutureWrite));
  auto* word = static_cast<std::uint32_t*>(writer.data());
  std::atomic_ref<std::uint32_t>(*word).store(1, std::memory_order_release);  // the creator still writes

  const std::string proc = memfd.proc_path();
  test::ReadyPipe mapped;
  test::ReadyPipe updated;
  const pid_t reader = test::spawn_child([&] {
    const int fd = ::open(proc.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 2;
    auto m = Memfd::adopt(UniqueFd(fd), MemfdRequirements{seal::kFixedSize | seal::kFutureWrite, 4096});
    if (!m) return 3;
    if (m->map()) return 4;  // read-write is refused
    auto ro = m->map(MapOptions{Access::kReadOnly});
    if (!ro) return 5;
    mapped.signal();
    if (!updated.wait(deadline_after(10s))) return 6;
    // Acquire pairs with the creator's release store below: the update is visible live.
    return std::atomic_ref<std::uint32_t>(*static_cast<std::uint32_t*>(ro->data())).load(std::memory_order_acquire) == 2
               ? 0
               : 7;
  });
  ASSERT_TRUE(mapped.wait(deadline_after(10s)));
  std::atomic_ref<std::uint32_t>(*word).store(2, std::memory_order_release);  // pairs with the reader's acquire
  updated.signal();
  const auto r = test::wait_child(reader);
  EXPECT_TRUE(r.ok()) << r.describe();
  // New writable mappings are refused even for the creator.
  EXPECT_TRUE(test::FailsWith(memfd.map(), {"EPERM", "F_SEAL_FUTURE_WRITE"}));
}

TEST(Memfd, ReadOnlyMappingOfSealedMemfdFaultsOnWrite) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("ro", 4096));
  IPCKIT_ASSERT_OK(memfd.add_seals(seal::kFixedSize | seal::kWrite));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Mapping ro, memfd.map(MapOptions{Access::kReadOnly}));
  auto child = test::run_in_child_expecting_crash([&] {
    static_cast<volatile char*>(ro.data())[0] = 1;
    return 0;
  });
  EXPECT_FALSE(child.exited) << child.describe();
  EXPECT_EQ(child.signal, SIGSEGV) << child.describe();
}

TEST(Memfd, AdoptRejectsUnsealedShortOrNonMemfdDescriptors) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd plain, Memfd::create("plain", 4096));
  UniqueFd dup1(::fcntl(plain.native_handle(), F_DUPFD_CLOEXEC, 0));
  const int n1 = dup1.get();
  EXPECT_TRUE(test::FailsWith(Memfd::adopt(std::move(dup1)),
                              {"memfd(fd " + std::to_string(n1) + "): corrupt: the peer's memfd lacks "
                               "F_SEAL_SHRINK|F_SEAL_GROW"}));
  IPCKIT_ASSERT_OK(plain.add_seals(seal::kFixedSize));
  UniqueFd dup2(::fcntl(plain.native_handle(), F_DUPFD_CLOEXEC, 0));
  EXPECT_TRUE(test::FailsWith(Memfd::adopt(std::move(dup2), MemfdRequirements{seal::kFixedSize, 8192}),
                              {"has 4096 bytes, fewer than the 8192 required"}));
  UniqueFd dup3(::fcntl(plain.native_handle(), F_DUPFD_CLOEXEC, 0));
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd adopted, Memfd::adopt(std::move(dup3)));
  EXPECT_EQ(adopted.name(), "plain");
  EXPECT_EQ(adopted.size(), 4096u);

  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd keep_write(fds[1]);
  EXPECT_TRUE(test::FailsWith(Memfd::adopt(UniqueFd(fds[0])), {"fcntl(F_GET_SEALS)", "not a memfd"}));
}

TEST(Memfd, SealingCanBeDisallowedAndNamesAreChecked) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Memfd memfd, Memfd::create("nosealing", 4096, MemfdOptions{false, false}));
  EXPECT_TRUE(test::FailsWith(memfd.add_seals(seal::kShrink), {"EPERM", "MFD_ALLOW_SEALING"}));
  EXPECT_TRUE(test::FailsWith(Memfd::create("a/b", 4096), {"memfd_create(\"a/b\"): invalid argument"}));
  EXPECT_TRUE(test::FailsWith(Memfd::create("zero", 0), {"size 0 must be > 0"}));
  EXPECT_EQ(seals_text(0), "none");
  EXPECT_EQ(seals_text(seal::kFixedSize | seal::kSeal), "F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW");
  EXPECT_EQ(seals_text(0x1000), "0x1000");
}

}  // namespace
}  // namespace ipckit
