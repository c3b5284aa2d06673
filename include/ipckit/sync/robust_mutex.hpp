// SPDX-License-Identifier: Apache-2.0
/// @file
/// RobustMutex: a process-shared, robust, error-checking pthread mutex that lives in shared memory.
///
/// If the owner dies (crash, SIGKILL) while holding it, the kernel releases it (robust futex list) and
/// the next locker gets LockStatus::kOwnerDied *with the mutex held*. That locker must repair the data
/// the mutex protects and call mark_consistent() before unlock(). If it unlocks without doing so, the
/// mutex becomes permanently unusable and every later lock fails with ENOTRECOVERABLE (an Error: the
/// object has to be re-created with create_at()). No path hangs on a dead owner.
///
/// The type is error-checking: relocking from the owning thread is EDEADLK and unlocking a mutex this
/// thread does not own is EPERM, both as Errors, instead of a silent self-deadlock.
///
/// Placement: standard layout, nothing but a pthread_mutex_t (no pointers). One process constructs it
/// with create_at() inside a MAP_SHARED mapping; others reach it with at() at the same offset of their
/// own mapping. Timed forms use pthread_mutex_clocklock(CLOCK_MONOTONIC).
#pragma once

#include <pthread.h>

#include <chrono>
#include <type_traits>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// What an acquire returned. Every value but kWouldBlock and kTimedOut means the caller now owns the mutex.
enum class LockStatus {
  kLocked,     ///< acquired normally
  kOwnerDied,  ///< acquired; the previous owner died holding it: repair, mark_consistent(), unlock()
  kWouldBlock,  ///< try_lock(): another thread or process holds it (not acquired)
  kTimedOut,   ///< lock_until(): the deadline passed first (not acquired). SharedCondvar::wait_until():
               ///< the deadline passed and the mutex is held again.
  /// The name of kWouldBlock before 0.2 (one would-block name across ipckit).
  kBusy [[deprecated("use LockStatus::kWouldBlock")]] = kWouldBlock,
};

/// The value as text ("locked", "owner died", "would block", "timed out").
[[nodiscard]] IPCKIT_API const char* to_string(LockStatus status) noexcept;

/// True for the values that leave the caller owning the mutex (kLocked, kOwnerDied).
[[nodiscard]] constexpr bool owns_lock(LockStatus s) noexcept {
  return s == LockStatus::kLocked || s == LockStatus::kOwnerDied;
}

class SharedCondvar;

/// A process-shared, robust, error-checking pthread mutex placed in shared memory.
///
/// Not constructible or copyable: create_at() constructs it in place, at() reaches one another
/// process constructed. Thread- and process-safe. See the file comment for the owner-died protocol.
class IPCKIT_API RobustMutex {
 public:
  /// Constructs an unlocked mutex at `where` (aligned to alignof(RobustMutex), sizeof(RobustMutex)
  /// bytes of shared memory). Errors: invalid argument (null/misaligned), pthread_mutex_init errors.
  [[nodiscard]] static Result<RobustMutex*> create_at(void* where);
  /// The mutex another process constructed at `where`. Errors: invalid argument (null/misaligned).
  [[nodiscard]] static Result<RobustMutex*> at(void* where);

  /// Not copyable: it lives at a fixed place in shared memory.
  RobustMutex(const RobustMutex&) = delete;
  /// Not copyable.
  RobustMutex& operator=(const RobustMutex&) = delete;

  /// Blocks until acquired: kLocked or kOwnerDied. Errors: EDEADLK (this thread owns it),
  /// ENOTRECOVERABLE (an earlier owner died and nobody marked it consistent).
  [[nodiscard]] Result<LockStatus> lock();
  /// Never blocks: kLocked, kOwnerDied or kWouldBlock. Errors as lock() (EDEADLK when this thread owns it).
  [[nodiscard]] Result<LockStatus> try_lock();
  /// Blocks at most until `deadline`: kLocked, kOwnerDied or kTimedOut. Errors as lock().
  [[nodiscard]] Result<LockStatus> lock_until(Deadline deadline);
  /// lock_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] Result<LockStatus> lock_for(std::chrono::duration<Rep, Period> d) {
    return lock_until(deadline_after(d));
  }
  /// Releases. Errors: EPERM (this thread does not own it).
  [[nodiscard]] Result<void> unlock();
  /// After kOwnerDied and repairing the data: makes the mutex usable again (call before unlock()).
  /// Errors: EINVAL (not in the owner-died state or not owned).
  [[nodiscard]] Result<void> mark_consistent();
  /// pthread_mutex_destroy(): only when unlocked and nobody will use it again. Errors: its return code (EBUSY).
  [[nodiscard]] Result<void> destroy();

 private:
  friend class SharedCondvar;
  RobustMutex() = default;
  void release_leaked_lock_word() noexcept;
  pthread_mutex_t mutex_;
};

static_assert(std::is_standard_layout_v<RobustMutex>);
static_assert(sizeof(RobustMutex) == sizeof(pthread_mutex_t), "nothing but the mutex lives in shared memory");
static_assert(alignof(RobustMutex) == alignof(pthread_mutex_t));

/// A process-shared condition variable on CLOCK_MONOTONIC, used with a RobustMutex.
/// Same placement rules as RobustMutex. Waiting re-acquires the mutex and reports kOwnerDied when the
/// mutex's owner died meanwhile (the caller then owns it and must repair as after lock()).
class IPCKIT_API SharedCondvar {
 public:
  /// Constructs a condition variable at `where` (aligned to alignof(SharedCondvar), sizeof(SharedCondvar)
  /// bytes of shared memory). Errors: invalid argument (null/misaligned), pthread_cond_init errors.
  [[nodiscard]] static Result<SharedCondvar*> create_at(void* where);
  /// The condition variable another process constructed at `where`. Errors: invalid argument (null/misaligned).
  [[nodiscard]] static Result<SharedCondvar*> at(void* where);

  /// Not copyable: it lives at a fixed place in shared memory.
  SharedCondvar(const SharedCondvar&) = delete;
  /// Not copyable.
  SharedCondvar& operator=(const SharedCondvar&) = delete;

  /// Atomically releases `mutex` (which the caller owns) and sleeps until notified (spurious wake-ups
  /// allowed: re-check the predicate); returns with the mutex held: kLocked or kOwnerDied.
  /// Errors: EPERM (mutex not owned), ENOTRECOVERABLE.
  [[nodiscard]] Result<LockStatus> wait(RobustMutex& mutex);
  /// As wait(), but gives up at `deadline`: kTimedOut, with the mutex held again.
  [[nodiscard]] Result<LockStatus> wait_until(RobustMutex& mutex, Deadline deadline);
  /// wait_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] Result<LockStatus> wait_for(RobustMutex& mutex, std::chrono::duration<Rep, Period> d) {
    return wait_until(mutex, deadline_after(d));
  }
  /// Wakes one waiter (any process). Never blocks.
  [[nodiscard]] Result<void> notify_one();
  /// Wakes all waiters (any process). Never blocks.
  [[nodiscard]] Result<void> notify_all();
  /// pthread_cond_destroy(): only when nobody waits on it or will use it again.
  [[nodiscard]] Result<void> destroy();

 private:
  SharedCondvar() = default;
  pthread_cond_t cond_;
};

static_assert(std::is_standard_layout_v<SharedCondvar>);
static_assert(sizeof(SharedCondvar) == sizeof(pthread_cond_t));
static_assert(alignof(SharedCondvar) == alignof(pthread_cond_t));

}  // namespace ipckit
