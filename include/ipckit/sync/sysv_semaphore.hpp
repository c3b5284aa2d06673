// SPDX-License-Identifier: Apache-2.0
/// @file
/// SysvSemaphoreSet: a System V semaphore set (semget/semop/semctl).
///
/// What it adds over POSIX semaphores: several operations on several semaphores of one set applied
/// atomically (all or none), SEM_UNDO (the kernel reverts a process's adjustments when it exits, even
/// by SIGKILL), and wait-for-zero. A set is a kernel object identified by an id; it lives until
/// remove() (IPC_RMID) — the destructor removes nothing. Waiters blocked when the set is removed fail
/// with EIDRM. A semop cannot be woken except by another semop, IPC_RMID or a signal: use deadlines.
///
/// Limits (/proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI) are named in errors with their values.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// One operation of a semop: delta > 0 adds, delta < 0 waits until the value is >= -delta then
/// subtracts, delta == 0 waits until the value is 0. undo: SEM_UNDO (reverted when this process exits).
struct SemOp {
  std::uint16_t index = 0;  ///< which semaphore of the set
  std::int16_t delta = 0;  ///< positive: adds; negative: waits, then subtracts; 0: waits for zero
  bool undo = false;  ///< SEM_UNDO: reverted when this process exits
};

/// The current limits from /proc/sys/kernel/sem.
struct SysvSemLimits {
  long semmsl = 0;  ///< max semaphores per set
  long semmns = 0;  ///< max semaphores system-wide
  long semopm = 0;  ///< max operations per semop call
  long semmni = 0;  ///< max sets system-wide
};
/// Reads the current limits from /proc/sys/kernel/sem. Errors: reading that file.
[[nodiscard]] IPCKIT_API Result<SysvSemLimits> sysv_sem_limits();

/// SEMVMX: the largest value a System V semaphore holds.
inline constexpr int kSysvSemValueMax = 32767;

/// A handle to a System V semaphore set (semget/semop/semctl), identified by its system-wide id.
///
/// A plain copyable value: the set is a kernel object that lives until remove(); the destructor
/// removes nothing. One handle may be used from several threads at once, except remove(), which empties it.
class IPCKIT_API SysvSemaphoreSet {
 public:
  /// An empty handle (valid() is false).
  SysvSemaphoreSet() noexcept = default;

  /// Creates a set of `count` semaphores (all 0) for `key` (IPC_PRIVATE for a new anonymous set),
  /// IPC_CREAT|IPC_EXCL with `perms`. Errors: EEXIST, EINVAL (count > SEMMSL, named in the hint),
  /// ENOSPC (SEMMNI or SEMMNS reached, named in the hint).
  [[nodiscard]] static Result<SysvSemaphoreSet> create(key_t key, int count, mode_t perms = kDefaultMode);
  /// Opens or creates by key. kOpenOrCreate initialises nothing: a creator that must set values
  /// should use create() and handle EEXIST. A set this call opens rather than creates is checked
  /// with IPC_STAT: owned (sem_perm.uid) by another user not in `trust`, or with a mode wider than
  /// `perms`, it fails with kUntrusted naming the owner and the mode. Errors: ENOENT (kOpenExisting),
  /// EINVAL (set smaller than count), EACCES, kUntrusted.
  [[nodiscard]] static Result<SysvSemaphoreSet> open(key_t key, OpenMode mode, int count,
                                                     mode_t perms = kDefaultMode, const TrustPolicy& trust = {});
  /// Adopts an id (from another process: ids are system-wide). Errors: EINVAL/EIDRM (no such set).
  [[nodiscard]] static Result<SysvSemaphoreSet> attach(int id);
  /// A key from an existing path (ftok). Errors: ENOENT.
  [[nodiscard]] static Result<key_t> key_for(const std::string& path, int proj = 1);

  /// Applies every op atomically, blocking until all can be applied. Errors: E2BIG (more than SEMOPM
  /// ops), EFBIG (index out of range), ERANGE (value would pass SEMVMX), EIDRM (set removed), EACCES.
  [[nodiscard]] Result<void> apply(std::span<const SemOp> ops);
  /// IPC_NOWAIT: kOk when applied, kWouldBlock when it would have blocked (nothing applied).
  [[nodiscard]] Result<IoStatus> try_apply(std::span<const SemOp> ops);
  /// semtimedop with the time left, recomputed per attempt (EINTR): kOk when applied, kTimedOut once
  /// the deadline passes (nothing applied).
  [[nodiscard]] Result<IoStatus> apply_until(std::span<const SemOp> ops, Deadline deadline);
  /// apply_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] Result<IoStatus> apply_for(std::span<const SemOp> ops, std::chrono::duration<Rep, Period> d) {
    return apply_until(ops, deadline_after(d));
  }

  /// GETVAL: the value of semaphore `index`.
  [[nodiscard]] Result<int> value(int index) const;
  /// SETVAL: sets semaphore `index` to `value`; clears every process's undo entries for it.
  [[nodiscard]] Result<void> set_value(int index, int value);
  /// GETALL: every value of the set, in index order.
  [[nodiscard]] Result<std::vector<std::uint16_t>> values() const;
  /// SETALL: sets every value (one per semaphore, in index order); clears the undo entries.
  /// Errors: kInvalidArgument when values.size() != size(), ERANGE above SEMVMX.
  [[nodiscard]] Result<void> set_all(std::span<const std::uint16_t> values);
  /// GETNCNT: processes waiting for semaphore `index` to increase.
  [[nodiscard]] Result<int> waiting_count(int index) const;

  /// IPC_RMID: removes the set now; blocked waiters fail with EIDRM. The object becomes empty.
  [[nodiscard]] Result<void> remove();

  /// The system-wide id (-1 when empty), for attach() in another process.
  [[nodiscard]] int id() const noexcept { return id_; }
  /// The number of semaphores in the set.
  [[nodiscard]] int size() const noexcept { return count_; }
  /// True when this handle names a set.
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }

 private:
  SysvSemaphoreSet(int id, int count) noexcept : id_(id), count_(count) {}
  [[nodiscard]] std::string object() const;
  int id_ = -1;
  int count_ = 0;
};

}  // namespace ipckit
