// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/robust_mutex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include <fmt/format.h>

namespace ipckit {
namespace {

std::string mutex_object(const void* where) { return fmt::format("robust mutex at {}", where); }
std::string condvar_object(const void* where) { return fmt::format("condvar at {}", where); }

constexpr const char* kNotRecoverableHint =
    "an earlier owner died and the mutex was unlocked without mark_consistent(); re-create it with "
    "create_at()";

template <class T>
Result<void> check_placement(void* where, const char* call, const char* what) {
  if (where == nullptr) return fail_library(LibraryCode::kInvalidArgument, call, what, "null address");
  if (reinterpret_cast<std::uintptr_t>(where) % alignof(T) != 0) {
    return fail_library(LibraryCode::kInvalidArgument, call, fmt::format("{} at {}", what, where),
                        fmt::format("address is not aligned to {} bytes", alignof(T)));
  }
  return {};
}

// pthread_* report errors as return values, never through errno.
Unexpected mutex_fail(int rc, const char* call, const void* where) {
  return fail_errno(rc, call, mutex_object(where), rc == ENOTRECOVERABLE ? kNotRecoverableHint : "");
}

// Maps the return of a locking call that was asked to acquire.
Result<LockStatus> lock_outcome(int rc, const char* call, const void* where) {
  switch (rc) {
    case 0:
      return LockStatus::kLocked;
    case EOWNERDEAD:
      return LockStatus::kOwnerDied;
    case EBUSY:
      return LockStatus::kWouldBlock;
    case ETIMEDOUT:
      return LockStatus::kTimedOut;
    default:
      return mutex_fail(rc, call, where);
  }
}

}  // namespace

const char* to_string(LockStatus status) noexcept {
  switch (status) {
    case LockStatus::kLocked:
      return "locked";
    case LockStatus::kOwnerDied:
      return "owner died";
    case LockStatus::kWouldBlock:
      return "would block";
    case LockStatus::kTimedOut:
      return "timed out";
  }
  return "unknown";
}

Result<RobustMutex*> RobustMutex::create_at(void* where) {
  if (auto c = check_placement<RobustMutex>(where, "pthread_mutex_init", "robust mutex"); !c) return fail(c.error());
  pthread_mutexattr_t attr;
  int rc = ::pthread_mutexattr_init(&attr);
  if (rc != 0) return fail_errno(rc, "pthread_mutexattr_init", mutex_object(where));
  // Process-shared: it lives in memory several processes map. Robust: a dead owner's lock is handed
  // to the next locker as EOWNERDEAD instead of hanging it. Error-checking: self-relock is EDEADLK.
  if ((rc = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
      (rc = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0 &&
      (rc = ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK)) == 0) {
    auto* m = new (where) RobustMutex();
    rc = ::pthread_mutex_init(&m->mutex_, &attr);
    (void)::pthread_mutexattr_destroy(&attr);
    if (rc != 0) return mutex_fail(rc, "pthread_mutex_init", where);
    return m;
  }
  (void)::pthread_mutexattr_destroy(&attr);
  return mutex_fail(rc, "pthread_mutexattr_set*", where);
}

Result<RobustMutex*> RobustMutex::at(void* where) {
  if (auto c = check_placement<RobustMutex>(where, "RobustMutex::at", "robust mutex"); !c) return fail(c.error());
  return std::launder(static_cast<RobustMutex*>(where));
}

Result<LockStatus> RobustMutex::lock() {
  // pthread_mutex_lock never returns EINTR (futex waits restart inside glibc).
  return lock_outcome(::pthread_mutex_lock(&mutex_), "pthread_mutex_lock", this);
}

Result<LockStatus> RobustMutex::try_lock() {
  const int rc = ::pthread_mutex_trylock(&mutex_);
  if (rc == ENOTRECOVERABLE) release_leaked_lock_word();
  return lock_outcome(rc, "pthread_mutex_trylock", this);
}

void RobustMutex::release_leaked_lock_word() noexcept {
  // glibc (through at least 2.36) pthread_mutex_trylock() on a robust mutex in the not-recoverable
  // state takes the lock word (our TID), sees the "not recoverable" owner marker and returns
  // ENOTRECOVERABLE — but its release is guarded by `oldval == id`, which is never true there, so the
  // word keeps our TID. Every later lock in any process then blocks (or says EDEADLK here) forever.
  // Undo it exactly as lll_unlock would: clear the word if it holds our TID and wake any waiters.
  // Nobody can own a not-recoverable mutex, so a word equal to our TID can only be that leak.
  std::atomic_ref<int> word(mutex_.__data.__lock);
  static_assert(std::atomic_ref<int>::is_always_lock_free);
  const int tid = static_cast<int>(::gettid());
  int cur = word.load(std::memory_order_relaxed);
  while ((cur & FUTEX_TID_MASK) == tid) {
    // release: pairs with the acquire CAS of the next locker (in glibc).
    if (word.compare_exchange_weak(cur, 0, std::memory_order_release, std::memory_order_relaxed)) {
      if ((cur & FUTEX_WAITERS) != 0) {
        (void)::syscall(SYS_futex, &mutex_.__data.__lock, FUTEX_WAKE, 1, nullptr, nullptr, 0);
      }
      break;
    }
  }
}

Result<LockStatus> RobustMutex::lock_until(Deadline deadline) {
  if (deadline == kNoDeadline) return lock();
  const timespec ts = to_monotonic_timespec(deadline);
  return lock_outcome(::pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &ts), "pthread_mutex_clocklock", this);
}

Result<void> RobustMutex::unlock() {
  if (const int rc = ::pthread_mutex_unlock(&mutex_); rc != 0) return mutex_fail(rc, "pthread_mutex_unlock", this);
  return {};
}

Result<void> RobustMutex::mark_consistent() {
  if (const int rc = ::pthread_mutex_consistent(&mutex_); rc != 0) {
    return mutex_fail(rc, "pthread_mutex_consistent", this);
  }
  return {};
}

Result<void> RobustMutex::destroy() {
  if (const int rc = ::pthread_mutex_destroy(&mutex_); rc != 0) return mutex_fail(rc, "pthread_mutex_destroy", this);
  return {};
}

Result<SharedCondvar*> SharedCondvar::create_at(void* where) {
  if (auto c = check_placement<SharedCondvar>(where, "pthread_cond_init", "condvar"); !c) return fail(c.error());
  pthread_condattr_t attr;
  int rc = ::pthread_condattr_init(&attr);
  if (rc != 0) return fail_errno(rc, "pthread_condattr_init", condvar_object(where));
  if ((rc = ::pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) == 0 &&
      (rc = ::pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0) {
    auto* c = new (where) SharedCondvar();
    rc = ::pthread_cond_init(&c->cond_, &attr);
    (void)::pthread_condattr_destroy(&attr);
    if (rc != 0) return fail_errno(rc, "pthread_cond_init", condvar_object(where));
    return c;
  }
  (void)::pthread_condattr_destroy(&attr);
  return fail_errno(rc, "pthread_condattr_set*", condvar_object(where));
}

Result<SharedCondvar*> SharedCondvar::at(void* where) {
  if (auto c = check_placement<SharedCondvar>(where, "SharedCondvar::at", "condvar"); !c) return fail(c.error());
  return std::launder(static_cast<SharedCondvar*>(where));
}

Result<LockStatus> SharedCondvar::wait(RobustMutex& mutex) {
  return lock_outcome(::pthread_cond_wait(&cond_, &mutex.mutex_), "pthread_cond_wait", &mutex);
}

Result<LockStatus> SharedCondvar::wait_until(RobustMutex& mutex, Deadline deadline) {
  if (deadline == kNoDeadline) return wait(mutex);
  const timespec ts = to_monotonic_timespec(deadline);
  return lock_outcome(::pthread_cond_clockwait(&cond_, &mutex.mutex_, CLOCK_MONOTONIC, &ts),
                      "pthread_cond_clockwait", &mutex);
}

Result<void> SharedCondvar::notify_one() {
  if (const int rc = ::pthread_cond_signal(&cond_); rc != 0) {
    return fail_errno(rc, "pthread_cond_signal", condvar_object(this));
  }
  return {};
}

Result<void> SharedCondvar::notify_all() {
  if (const int rc = ::pthread_cond_broadcast(&cond_); rc != 0) {
    return fail_errno(rc, "pthread_cond_broadcast", condvar_object(this));
  }
  return {};
}

Result<void> SharedCondvar::destroy() {
  if (const int rc = ::pthread_cond_destroy(&cond_); rc != 0) {
    return fail_errno(rc, "pthread_cond_destroy", condvar_object(this));
  }
  return {};
}

}  // namespace ipckit
