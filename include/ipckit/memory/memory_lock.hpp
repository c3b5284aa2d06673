// SPDX-License-Identifier: Apache-2.0
// MemoryLock: keeps a range of memory resident (mlock), so a latency-sensitive process never waits
// for a page to come back from swap; munlock on destruction.
//
// Locked memory is limited per process by RLIMIT_MEMLOCK (often 8 MiB; `ulimit -l`) unless the
// process has CAP_IPC_LOCK. Errors that hit the limit name it, its value and the ways to raise it.
// Locking also faults every page in (like MAP_POPULATE), so it can block on IO or allocation.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// RLIMIT_MEMLOCK of this process and how much it has locked.
struct MemlockLimit {
  rlim_t soft = 0;  ///< soft limit in bytes; RLIM_INFINITY when unlimited
  rlim_t hard = 0;  ///< hard limit in bytes; RLIM_INFINITY when unlimited
  std::uint64_t locked_now = 0;  ///< bytes this process has locked (VmLck in /proc/self/status)
};
/// RLIMIT_MEMLOCK of this process and how much it has locked. Errors: getrlimit's.
[[nodiscard]] IPCKIT_API Result<MemlockLimit> memlock_limit();

/// Keeps a range of memory resident (mlock), so a latency-sensitive process never waits for a page
/// to come back from swap; munlock on destruction.
/// Move-only; the destructor munlock()s (errors ignored). Thread-safe to construct concurrently; the
/// kernel counts locks per page, not per call, so overlapping MemoryLocks end at the first unlock.
class IPCKIT_API MemoryLock {
 public:
  /// Locks nothing.
  MemoryLock() = default;
  /// munlock()s the range (errors ignored).
  ~MemoryLock() { reset(); }
  /// Moves the lock; \p other is left empty.
  MemoryLock(MemoryLock&& other) noexcept : addr_(other.addr_), size_(other.size_) {
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  /// Unlocks this one's range, then takes \p other's; \p other is left empty.
  MemoryLock& operator=(MemoryLock&& other) noexcept;
  /// Not copyable.
  MemoryLock(const MemoryLock&) = delete;
  /// Not copyable.
  MemoryLock& operator=(const MemoryLock&) = delete;

  /// mlock(bytes). Blocks while faulting the pages in. Errors: "invalid argument" (empty span);
  /// ENOMEM/EPERM with a hint naming RLIMIT_MEMLOCK (soft limit, bytes already locked, `ulimit -l`,
  /// limits.conf, CAP_IPC_LOCK); EAGAIN (some pages could not be locked).
  [[nodiscard]] static Result<MemoryLock> lock(std::span<std::byte> bytes);
  /// Locks the whole of \p mapping, as lock(mapping.bytes()).
  [[nodiscard]] static Result<MemoryLock> lock(const Mapping& mapping) { return lock(mapping.bytes()); }

  /// True while a range is locked.
  [[nodiscard]] bool locked() const noexcept { return addr_ != nullptr; }
  /// Bytes locked (0 when empty).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// munlock now (ignoring errors); empty afterwards.
  void reset() noexcept;

 private:
  MemoryLock(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ipckit
