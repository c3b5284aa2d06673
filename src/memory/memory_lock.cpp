// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/memory_lock.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace ipckit {
namespace {

std::uint64_t locked_bytes_now() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmLck:  16 kB"
  }
  return 0;
}

std::string limit_text(rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : fmt::format("{} bytes", v); }

std::string memlock_hint(int err, std::size_t size) {
  if (err != ENOMEM && err != EPERM) {
    return err == EAGAIN ? "some of the pages could not be locked (memory pressure)" : std::string{};
  }
  rlimit rl{};
  (void)::getrlimit(RLIMIT_MEMLOCK, &rl);
  return fmt::format("locking {} bytes exceeds RLIMIT_MEMLOCK (soft limit {}, {} bytes already locked: VmLck in "
                     "/proc/self/status); raise it with `ulimit -l`, memlock in /etc/security/limits.conf or "
                     "LimitMEMLOCK= for a systemd service, or grant CAP_IPC_LOCK",
                     size, limit_text(rl.rlim_cur), locked_bytes_now());
}

// mlock/munlock through syscall(): AddressSanitizer intercepts the libc wrappers and turns them
// into no-ops (it must never lock its shadow memory via mlockall), which would make locking and
// its RLIMIT_MEMLOCK errors vanish under ASan. Locking one range is safe to do for real.
int sys_mlock(const void* addr, std::size_t len) { return static_cast<int>(::syscall(SYS_mlock, addr, len)); }
int sys_munlock(const void* addr, std::size_t len) { return static_cast<int>(::syscall(SYS_munlock, addr, len)); }

}  // namespace

Result<MemlockLimit> memlock_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) != 0) return last_errno().fail("getrlimit", "RLIMIT_MEMLOCK");
  return MemlockLimit{rl.rlim_cur, rl.rlim_max, locked_bytes_now()};
}

MemoryLock& MemoryLock::operator=(MemoryLock&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = other.addr_;
    size_ = other.size_;
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Result<MemoryLock> MemoryLock::lock(std::span<std::byte> bytes) {
  if (bytes.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, "mlock", "0 bytes", "nothing to lock");
  }
  if (sys_mlock(bytes.data(), bytes.size()) != 0) {
    const int err = errno;
    return fail_errno(err, "mlock", fmt::format("{} bytes at {}", bytes.size(), static_cast<void*>(bytes.data())),
                      memlock_hint(err, bytes.size()));
  }
  return MemoryLock(bytes.data(), bytes.size());
}

void MemoryLock::reset() noexcept {
  if (addr_ != nullptr) (void)sys_munlock(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

}  // namespace ipckit
