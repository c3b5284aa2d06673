// SPDX-License-Identifier: Apache-2.0
// FileLock: advisory locks on files — flock(2), POSIX record locks (fcntl F_SETLK) and open file
// description (OFD) locks (F_OFD_SETLK) — as an RAII value that releases on destruction.
//
// Which to use:
//   kFlock   whole file; owned by the open file description (shared by dup() and fork()).
//   kRecord  byte ranges; owned by the *process*: closing ANY descriptor of the file in this process
//            drops all its record locks, and threads of one process do not exclude each other.
//            The kernel detects deadlocks between processes (EDEADLK, reported as an Error).
//   kOfd     byte ranges owned by the open file description: threads with separate open()s exclude
//            each other and closing another descriptor does not drop the lock. No deadlock detection.
// All are advisory: only cooperating processes that also lock are excluded.
//
// Deadline forms poll with try-lock and exponential backoff (100 µs doubling to 10 ms, never past
// the deadline). That keeps them free of signals and helper threads, at the cost of fairness: a
// polling waiter can lose the lock to a blocking waiter repeatedly under heavy contention.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

enum class LockStyle { kFlock, kRecord, kOfd };
enum class LockKind { kShared, kExclusive };

struct LockSpec {
  LockStyle style = LockStyle::kOfd;
  LockKind kind = LockKind::kExclusive;
  off_t start = 0;   // kRecord/kOfd: first byte
  off_t length = 0;  // kRecord/kOfd: bytes; 0 = to end of file, however far it grows
};

// Who holds a conflicting lock (F_GETLK / F_OFD_GETLK).
struct LockHolder {
  LockKind kind = LockKind::kExclusive;
  off_t start = 0;
  off_t length = 0;
  pid_t pid = -1;  // the holder's pid for kRecord; -1 for OFD locks (no single owning process)
};

class IPCKIT_API FileLock {
 public:
  FileLock() noexcept = default;
  ~FileLock() { reset(); }
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Blocks until the lock is granted. `fd` must stay open while locked (it is not owned); `object`
  // names the file in errors (the fd number if empty). Converting an existing lock of this owner
  // between shared and exclusive is allowed (not atomic for kFlock).
  // Errors: EDEADLK (kRecord: waiting would deadlock with another process), EBADF (a kExclusive record
  // lock needs a descriptor open for writing, kShared for reading), ENOLCK, EINVAL.
  [[nodiscard]] static Result<FileLock> lock(int fd, LockSpec spec, std::string_view object = {});
  // Never blocks: nullopt when a conflicting lock is held.
  [[nodiscard]] static Result<std::optional<FileLock>> try_lock(int fd, LockSpec spec, std::string_view object = {});
  // Blocks at most until `deadline`: nullopt on timeout (never before the deadline).
  [[nodiscard]] static Result<std::optional<FileLock>> lock_until(int fd, LockSpec spec, Deadline deadline,
                                                                  std::string_view object = {});
  template <class Rep, class Period>
  [[nodiscard]] static Result<std::optional<FileLock>> lock_for(int fd, LockSpec spec,
                                                                std::chrono::duration<Rep, Period> d,
                                                                std::string_view object = {}) {
    return lock_until(fd, spec, deadline_after(d), object);
  }
  // A lock that would conflict with `spec` (kRecord/kOfd only), or nullopt if `spec` could be granted
  // now. The caller's own locks never conflict with it (this process's for kRecord, this open file
  // description's for kOfd), so they are not reported. A snapshot: it may change at once.
  // Never blocks. Errors: invalid argument for kFlock (flock has no query), EBADF.
  [[nodiscard]] static Result<std::optional<LockHolder>> holder(int fd, LockSpec spec, std::string_view object = {});

  // Releases now and reports errors; the object becomes empty.
  [[nodiscard]] Result<void> unlock();
  // Releases, ignoring errors.
  void reset() noexcept;

  [[nodiscard]] bool locked() const noexcept { return fd_ >= 0; }
  [[nodiscard]] const LockSpec& spec() const noexcept { return spec_; }

 private:
  FileLock(int fd, LockSpec spec, std::string object) noexcept : fd_(fd), spec_(spec), object_(std::move(object)) {}
  int fd_ = -1;
  LockSpec spec_;
  std::string object_;
};

}  // namespace ipckit
