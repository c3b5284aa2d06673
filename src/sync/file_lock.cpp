// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/platform.hpp"

namespace ipckit {
namespace {

std::string name_of(int fd, std::string_view object) {
  return object.empty() ? fd_object(fd) : quoted(object);
}

const char* setlk_name(LockStyle style, bool wait) {
  if (style == LockStyle::kOfd) return wait ? "fcntl(F_OFD_SETLKW)" : "fcntl(F_OFD_SETLK)";
  return wait ? "fcntl(F_SETLKW)" : "fcntl(F_SETLK)";
}

struct flock make_flock(const LockSpec& spec, short type) {
  struct flock fl{};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = spec.start;
  fl.l_len = spec.length;
  fl.l_pid = 0;  // must be 0 for OFD locks
  return fl;
}

std::string lock_hint(int err, const LockSpec& spec) {
  if (err == EDEADLK) {
    return "waiting would deadlock: another process holds a lock this process waits for and waits for one "
           "this process holds; release locks and retry";
  }
  if (err == EBADF && spec.style != LockStyle::kFlock) {
    return spec.kind == LockKind::kExclusive ? "an exclusive record lock needs a descriptor open for writing"
                                             : "a shared record lock needs a descriptor open for reading";
  }
  if (err == ENOLCK) return "the kernel's lock table is full";
  return {};
}

enum class LockTry { kGranted, kBusy };

// One attempt: blocking (wait) or not. EINTR is retried here (a blocking wait restarts).
Result<LockTry> attempt(int fd, const LockSpec& spec, bool wait, std::string_view object) {
  if (spec.style == LockStyle::kOfd) {
    if (auto f = require_feature(Feature::kOfdLocks); !f) return fail(f.error());
  }
  const auto lock_once = [&]() -> int {
    if (spec.style == LockStyle::kFlock) {
      int op = spec.kind == LockKind::kShared ? LOCK_SH : LOCK_EX;
      if (!wait) op |= LOCK_NB;
      return ::flock(fd, op);
    }
    struct flock fl = make_flock(spec, spec.kind == LockKind::kShared ? F_RDLCK : F_WRLCK);
    const int cmd = spec.style == LockStyle::kOfd ? (wait ? F_OFD_SETLKW : F_OFD_SETLK) : (wait ? F_SETLKW : F_SETLK);
    return ::fcntl(fd, cmd, &fl);
  };
  if (no_eintr(lock_once) == 0) return LockTry::kGranted;
  const int err = errno;
  if (!wait && (err == EWOULDBLOCK || err == EAGAIN || err == EACCES)) return LockTry::kBusy;
  const char* call = setlk_name(spec.style, wait);
  if (spec.style == LockStyle::kFlock) call = spec.kind == LockKind::kShared ? "flock(LOCK_SH)" : "flock(LOCK_EX)";
  return fail_errno(err, call, name_of(fd, object), lock_hint(err, spec));
}

}  // namespace

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_), spec_(other.spec_), object_(std::move(other.object_)) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.fd_;
    spec_ = other.spec_;
    object_ = std::move(other.object_);
    other.fd_ = -1;
  }
  return *this;
}

Result<FileLock> FileLock::lock(int fd, LockSpec spec, std::string_view object) {
  auto r = attempt(fd, spec, true, object);
  if (!r) return fail(r.error());
  return FileLock(fd, spec, std::string(object));
}

Result<Attempt<FileLock>> FileLock::try_lock(int fd, LockSpec spec, std::string_view object) {
  auto r = attempt(fd, spec, false, object);
  if (!r) return fail(r.error());
  if (*r == LockTry::kBusy) return Attempt<FileLock>::none(IoStatus::kWouldBlock);
  return Attempt<FileLock>(FileLock(fd, spec, std::string(object)));
}

Result<Attempt<FileLock>> FileLock::lock_until(int fd, LockSpec spec, Deadline deadline, std::string_view object) {
  if (deadline == kNoDeadline) {
    auto r = lock(fd, spec, object);
    if (!r) return fail(r.error());
    return Attempt<FileLock>(std::move(*r));
  }
  // Polling with backoff (see the header): no signal or helper thread needed to interrupt F_SETLKW.
  auto backoff = std::chrono::microseconds(100);
  constexpr auto kMaxBackoff = std::chrono::microseconds(10'000);
  for (;;) {
    auto r = try_lock(fd, spec, object);
    if (!r || r->has_value()) return r;
    const auto now = Clock::now();
    if (now >= deadline) return Attempt<FileLock>::none(IoStatus::kTimedOut);
    std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

Result<std::optional<LockHolder>> FileLock::holder(int fd, LockSpec spec, std::string_view object) {
  if (spec.style == LockStyle::kFlock) {
    return fail_library(LibraryCode::kInvalidArgument, "FileLock::holder", name_of(fd, object),
                        "flock() locks cannot be queried; use try_lock()");
  }
  if (spec.style == LockStyle::kOfd) {
    if (auto f = require_feature(Feature::kOfdLocks); !f) return fail(f.error());
  }
  struct flock fl = make_flock(spec, spec.kind == LockKind::kShared ? F_RDLCK : F_WRLCK);
  const int cmd = spec.style == LockStyle::kOfd ? F_OFD_GETLK : F_GETLK;
  if (::fcntl(fd, cmd, &fl) != 0) {
    return last_errno().fail(spec.style == LockStyle::kOfd ? "fcntl(F_OFD_GETLK)" : "fcntl(F_GETLK)", name_of(fd, object));
  }
  if (fl.l_type == F_UNLCK) return std::optional<LockHolder>();
  LockHolder h;
  h.kind = fl.l_type == F_RDLCK ? LockKind::kShared : LockKind::kExclusive;
  h.start = fl.l_start;
  h.length = fl.l_len;
  h.pid = fl.l_pid;
  return std::optional<LockHolder>(h);
}

Result<void> FileLock::unlock() {
  if (fd_ < 0) return {};
  const int fd = fd_;
  fd_ = -1;
  int rc = 0;
  const char* call = "flock(LOCK_UN)";
  if (spec_.style == LockStyle::kFlock) {
    rc = ::flock(fd, LOCK_UN);
  } else {
    struct flock fl = make_flock(spec_, F_UNLCK);
    call = spec_.style == LockStyle::kOfd ? "fcntl(F_OFD_SETLK, F_UNLCK)" : "fcntl(F_SETLK, F_UNLCK)";
    rc = ::fcntl(fd, spec_.style == LockStyle::kOfd ? F_OFD_SETLK : F_SETLK, &fl);
  }
  if (rc != 0) return last_errno().fail(call, name_of(fd, object_));
  return {};
}

void FileLock::reset() noexcept { (void)unlock(); }

}  // namespace ipckit
