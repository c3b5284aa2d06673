// SPDX-License-Identifier: Apache-2.0
/// @file
/// FileLock: advisory locks on files — flock(2), POSIX record locks (fcntl F_SETLK) and open file
/// description (OFD) locks (F_OFD_SETLK) — as an RAII value that releases on destruction.
///
/// Which to use:
/// @verbatim
///   kFlock   whole file; owned by the open file description (shared by dup() and fork()).
///   kRecord  byte ranges; owned by the *process*: closing ANY descriptor of the file in this process
///            drops all its record locks, and threads of one process do not exclude each other.
///            The kernel detects deadlocks between processes (EDEADLK, reported as an Error).
///   kOfd     byte ranges owned by the open file description: threads with separate open()s exclude
///            each other and closing another descriptor does not drop the lock. No deadlock detection.
/// @endverbatim
/// All are advisory: only cooperating processes that also lock are excluded.
///
/// Deadline forms poll with try-lock and exponential backoff (100 µs doubling to 10 ms, never past
/// the deadline). That keeps them free of signals and helper threads, at the cost of fairness: a
/// polling waiter can lose the lock to a blocking waiter repeatedly under heavy contention.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// Which kernel lock: kFlock (flock(2), whole file), kRecord (POSIX fcntl record locks, owned by the
/// process) or kOfd (open file description locks); see the file comment for how they differ.
enum class LockStyle { kFlock, kRecord, kOfd };
/// kShared (read lock: many holders) or kExclusive (write lock: one holder).
enum class LockKind { kShared, kExclusive };

/// What to lock: the style, the kind and (kRecord/kOfd) the byte range.
struct LockSpec {
  LockStyle style = LockStyle::kOfd;  ///< which kernel lock
  LockKind kind = LockKind::kExclusive;  ///< shared or exclusive
  off_t start = 0;   ///< kRecord/kOfd: first byte
  off_t length = 0;  ///< kRecord/kOfd: bytes; 0 = to end of file, however far it grows
};

/// Who holds a conflicting lock (F_GETLK / F_OFD_GETLK).
struct LockHolder {
  LockKind kind = LockKind::kExclusive;  ///< the kind of the conflicting lock
  off_t start = 0;  ///< its first byte
  off_t length = 0;  ///< its length in bytes; 0 = to end of file
  pid_t pid = -1;  ///< the holder's pid for kRecord; -1 for OFD locks (no single owning process)
};

/// A held advisory file lock (flock, POSIX record or OFD), released on destruction.
///
/// Move-only; does not own the descriptor, which must stay open while locked. One FileLock must not
/// be used from two threads at once.
class IPCKIT_API FileLock {
 public:
  /// Holds no lock (locked() is false).
  FileLock() noexcept = default;
  /// Releases the lock, ignoring errors.
  ~FileLock() { reset(); }
  /// Moves the lock; \p other is left empty.
  FileLock(FileLock&& other) noexcept;
  /// Releases the current lock, then takes \p other's; \p other is left empty.
  FileLock& operator=(FileLock&& other) noexcept;
  /// Not copyable.
  FileLock(const FileLock&) = delete;
  /// Not copyable.
  FileLock& operator=(const FileLock&) = delete;

  /// Blocks until the lock is granted. `fd` must stay open while locked (it is not owned); `object`
  /// names the file in errors (the fd number if empty). Converting an existing lock of this owner
  /// between shared and exclusive is allowed (not atomic for kFlock).
  /// Errors: EDEADLK (kRecord: waiting would deadlock with another process), EBADF (a kExclusive record
  /// lock needs a descriptor open for writing, kShared for reading), ENOLCK, EINVAL.
  [[nodiscard]] static Result<FileLock> lock(int fd, LockSpec spec, std::string_view object = {});
  /// Never blocks: the lock, or no lock with kWouldBlock when a conflicting lock is held. Errors as
  /// lock(), except EDEADLK (it never waits).
  [[nodiscard]] static Result<Attempt<FileLock>> try_lock(int fd, LockSpec spec, std::string_view object = {});
  /// Blocks at most until `deadline`: the lock, or no lock with kTimedOut (never before the deadline). Polls with
  /// try_lock() and backoff (see the file comment); kNoDeadline waits as lock() does. Errors as lock().
  [[nodiscard]] static Result<Attempt<FileLock>> lock_until(int fd, LockSpec spec, Deadline deadline,
                                                            std::string_view object = {});
  /// lock_until() with deadline_after(d).
  template <class Rep, class Period>
  [[nodiscard]] static Result<Attempt<FileLock>> lock_for(int fd, LockSpec spec,
                                                          std::chrono::duration<Rep, Period> d,
                                                          std::string_view object = {}) {
    return lock_until(fd, spec, deadline_after(d), object);
  }
  /// A lock that would conflict with `spec` (kRecord/kOfd only), or nullopt if `spec` could be granted
  /// now. The caller's own locks never conflict with it (this process's for kRecord, this open file
  /// description's for kOfd), so they are not reported. A snapshot: it may change at once.
  /// Never blocks. Errors: invalid argument for kFlock (flock has no query), EBADF.
  [[nodiscard]] static Result<std::optional<LockHolder>> holder(int fd, LockSpec spec, std::string_view object = {});

  /// Releases now and reports errors (the fcntl()/flock() errno); the object becomes empty. A no-op when empty.
  [[nodiscard]] Result<void> unlock();
  /// Releases, ignoring errors.
  void reset() noexcept;

  /// True while this object holds a lock.
  [[nodiscard]] bool locked() const noexcept { return fd_ >= 0; }
  /// What was locked.
  [[nodiscard]] const LockSpec& spec() const noexcept { return spec_; }

 private:
  FileLock(int fd, LockSpec spec, std::string object) noexcept : fd_(fd), spec_(spec), object_(std::move(object)) {}
  int fd_ = -1;
  LockSpec spec_;
  std::string object_;
};

}  // namespace ipckit
