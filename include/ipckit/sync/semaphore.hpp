// SPDX-License-Identifier: Apache-2.0
/// @file
/// POSIX semaphores: named (sem_open) and unnamed process-shared ones placed in shared memory.
///
/// Both kinds count down with wait() and up with post(). Three forms of each wait: wait() blocks,
/// try_wait() never blocks (kWouldBlock = the count was 0), wait_until(deadline) blocks at most until a
/// steady_clock deadline (sem_clockwait on CLOCK_MONOTONIC, so wall-clock jumps do not matter).
/// EINTR is retried; a timed wait keeps its absolute deadline across retries.
///
/// A POSIX semaphore cannot be woken except by post() or a signal: a waiter whose peer died waits
/// forever unless it uses a deadline. Prefer wait_until() whenever the poster may crash.
#pragma once

#include <semaphore.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// A named POSIX semaphore: /dev/shm/sem.NAME, reachable by unrelated processes.
/// Move-only; the destructor sem_close()s (process-local) and never removes the name: call unlink().
/// One object may be used by several threads at once (the sem_* calls are thread-safe); moving or
/// destroying it must not race with its use.
class IPCKIT_API NamedSemaphore {
 public:
  /// An empty object (valid() is false); use open().
  NamedSemaphore() noexcept = default;
  /// sem_close()s (ignoring errors); the name stays.
  ~NamedSemaphore() { reset(); }
  /// Moves the handle; \p other is left empty.
  NamedSemaphore(NamedSemaphore&& other) noexcept;
  /// Closes the current handle, then takes \p other's; \p other is left empty.
  NamedSemaphore& operator=(NamedSemaphore&& other) noexcept;
  /// Not copyable.
  NamedSemaphore(const NamedSemaphore&) = delete;
  /// Not copyable.
  NamedSemaphore& operator=(const NamedSemaphore&) = delete;

  /// Opens or creates `name` ("/x"). `initial` is used only when this call creates it (at most
  /// SEM_VALUE_MAX); `perms` is applied exactly (fchmod-like chmod after creation, so the umask does
  /// not narrow it). kOpenOrCreate is race-free: O_EXCL, EEXIST -> open, ENOENT -> retry.
  /// A semaphore this call opens rather than creates is checked: its file (/dev/shm/sem.NAME) must be
  /// owned by this effective uid or one `trust` allows, with a mode no wider than `perms`; otherwise
  /// it is closed again and the call fails with kUntrusted naming the owner and the mode. (sem_open
  /// gives no descriptor: the file is stat()ed and its inode compared with the one mapped, so a name
  /// replaced in between is opened again rather than checked wrongly.)
  /// Errors: invalid name, EEXIST (kCreateExclusive), ENOENT (kOpenExisting), EACCES, EINVAL,
  /// kUntrusted.
  [[nodiscard]] static Result<NamedSemaphore> open(std::string_view name, OpenMode mode, unsigned initial = 0,
                                                   mode_t perms = kDefaultMode, const TrustPolicy& trust = {});
  /// Removes the name; processes that have it open keep using it. ENOENT is an error.
  [[nodiscard]] static Result<void> unlink(std::string_view name);

  /// Blocks until the count is > 0, then decrements it. Errors: EINVAL (not a semaphore).
  [[nodiscard]] Result<void> wait();
  /// Decrements if the count is > 0 (kOk); kWouldBlock when it is 0. Never blocks.
  [[nodiscard]] Result<IoStatus> try_wait();
  /// Like wait() (kOk), but returns kTimedOut once `deadline` passes (never earlier).
  [[nodiscard]] Result<IoStatus> wait_until(Deadline deadline);
  /// wait_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] Result<IoStatus> wait_for(std::chrono::duration<Rep, Period> d) {
    return wait_until(deadline_after(d));
  }
  /// Increments the count, waking one waiter. Errors: EOVERFLOW at SEM_VALUE_MAX. Async-signal-safe.
  [[nodiscard]] Result<void> post();
  /// The current count (a snapshot: it may change at once).
  [[nodiscard]] Result<int> value() const;

  /// The name as opened ("/x").
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True while a semaphore is open.
  [[nodiscard]] bool valid() const noexcept { return sem_ != nullptr; }
  /// sem_close() now (ignoring errors); the object becomes empty.
  void reset() noexcept;

 private:
  NamedSemaphore(sem_t* sem, std::string name) noexcept : sem_(sem), name_(std::move(name)) {}
  sem_t* sem_ = nullptr;
  std::string name_;
};

/// An unnamed process-shared semaphore that lives inside shared memory (a MAP_SHARED mapping that
/// every user maps, e.g. Mapping::anonymous before fork(), or a POSIX shm object).
///
/// It is a standard-layout object holding only a sem_t (no pointers), constructed in place with
/// create_at() by exactly one process, then reached by the others with at() on their own mapping.
/// destroy() it once nobody uses it any more (before the memory goes away).
class IPCKIT_API SharedSemaphore {
 public:
  /// Constructs a process-shared semaphore with count `initial` at `where` (which must be aligned to
  /// alignof(SharedSemaphore) and hold sizeof(SharedSemaphore) bytes of shared memory).
  /// Errors: invalid argument (null or misaligned `where`), EINVAL (initial > SEM_VALUE_MAX).
  [[nodiscard]] static Result<SharedSemaphore*> create_at(void* where, unsigned initial);
  /// The semaphore another process constructed at `where` (the same offset in its own mapping).
  /// Errors: invalid argument (null or misaligned `where`). It cannot check that one was constructed.
  [[nodiscard]] static Result<SharedSemaphore*> at(void* where);

  /// Not copyable: it lives at a fixed place in shared memory.
  SharedSemaphore(const SharedSemaphore&) = delete;
  /// Not copyable.
  SharedSemaphore& operator=(const SharedSemaphore&) = delete;

  /// Blocks until the count is > 0, then decrements it; as NamedSemaphore::wait(). Thread- and process-safe.
  [[nodiscard]] Result<void> wait();
  /// Decrements if the count is > 0 (kOk); kWouldBlock when it is 0. Never blocks.
  [[nodiscard]] Result<IoStatus> try_wait();
  /// Like wait() (kOk), but returns kTimedOut once `deadline` passes (never earlier).
  [[nodiscard]] Result<IoStatus> wait_until(Deadline deadline);
  /// wait_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] Result<IoStatus> wait_for(std::chrono::duration<Rep, Period> d) {
    return wait_until(deadline_after(d));
  }
  /// Increments the count, waking one waiter. Errors: EOVERFLOW at SEM_VALUE_MAX. Async-signal-safe.
  [[nodiscard]] Result<void> post();
  /// The current count (a snapshot: it may change at once).
  [[nodiscard]] Result<int> value();
  /// sem_destroy(): only when no process waits on it or will use it again.
  [[nodiscard]] Result<void> destroy();

 private:
  SharedSemaphore() = default;
  sem_t sem_;
};

static_assert(std::is_standard_layout_v<SharedSemaphore>);
static_assert(sizeof(SharedSemaphore) == sizeof(sem_t), "nothing but the sem_t lives in shared memory");
static_assert(alignof(SharedSemaphore) == alignof(sem_t));

}  // namespace ipckit
