// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/semaphore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <new>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "detail/shm_dir.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/ownership.hpp"

namespace ipckit {
namespace {

std::string value_max_hint(unsigned initial) {
  return fmt::format("initial value {} > SEM_VALUE_MAX ({})", initial, SEM_VALUE_MAX);
}

// The operations shared by both kinds; `object()` names the semaphore in errors (built only on
// failure, so the fast path never allocates).
// errno is read before object() runs (last_errno()): building the name may allocate and clobber it.
template <class F>
Unexpected fail_now(const char* call, const F& object) {
  return last_errno().fail(call, object());
}

template <class F>
Result<void> do_wait(sem_t* sem, const F& object) {
  if (no_eintr(::sem_wait, sem) != 0) return fail_now("sem_wait", object);
  return {};
}

template <class F>
Result<IoStatus> do_try_wait(sem_t* sem, const F& object) {
  if (no_eintr(::sem_trywait, sem) == 0) return IoStatus::kOk;
  if (errno == EAGAIN) return IoStatus::kWouldBlock;
  return fail_now("sem_trywait", object);
}

template <class F>
Result<IoStatus> do_wait_until(sem_t* sem, Deadline deadline, const F& object) {
  if (deadline == kNoDeadline) {
    auto r = do_wait(sem, object);
    if (!r) return fail(r.error());
    return IoStatus::kOk;
  }
  // steady_clock is CLOCK_MONOTONIC, so the absolute deadline converts once and survives EINTR.
  const timespec ts = to_monotonic_timespec(deadline);
  if (no_eintr(::sem_clockwait, sem, CLOCK_MONOTONIC, &ts) == 0) return IoStatus::kOk;
  if (errno == ETIMEDOUT) return IoStatus::kTimedOut;
  return fail_now("sem_clockwait", object);
}

template <class F>
Result<void> do_post(sem_t* sem, const F& object) {
  if (::sem_post(sem) != 0) {
    const int err = errno;
    return fail_errno(err, "sem_post", object(),
                      err == EOVERFLOW ? fmt::format("the count would exceed SEM_VALUE_MAX ({})", SEM_VALUE_MAX)
                                       : std::string());
  }
  return {};
}

template <class F>
Result<int> do_value(sem_t* sem, const F& object) {
  int v = 0;
  if (::sem_getvalue(sem, &v) != 0) return fail_now("sem_getvalue", object);
  return v;
}

// Bounds the open/replace ping-pong of open() when another process keeps recreating the name.
constexpr int kMaxOpenRounds = 1000;

// The device and inode of the file mapped at `addr` in this process (/proc/self/maps), or nullopt
// when /proc is not readable.
std::optional<std::pair<dev_t, ino_t>> mapped_file_at(const void* addr) {
  std::ifstream maps("/proc/self/maps");
  if (!maps) return std::nullopt;
  const auto where = reinterpret_cast<std::uintptr_t>(addr);
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms offset major:minor inode path"
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &offset, &major, &minor,
                    &inode) != 7) {
      continue;
    }
    if (where >= start && where < end) return std::make_pair(makedev(major, minor), static_cast<ino_t>(inode));
  }
  return std::nullopt;
}

// A named semaphore this process opened but did not create: is its file owned by a trusted user
// with a mode no wider than `perms`? sem_open returns no descriptor, so this stat()s the file
// behind the name (/dev/shm/sem.NAME). The race: between sem_open and stat the name can be unlinked
// and a new file created under it, and stat would then check the new file. The check closes it by
// comparing the stat'ed inode with the one this process has mapped at `sem` (/proc/self/maps):
// true = checked the mapped object and it is trusted; false = the name was replaced meanwhile
// (the caller opens again); an error = untrusted, or stat failed. Without /proc the inode cannot
// be compared and the stat'ed file is trusted as the mapped one (a documented, narrow window).
Result<bool> check_opened(sem_t* sem, const std::string& path, mode_t perms, const TrustPolicy& trust,
                          const std::string& name) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;  // unlinked meanwhile: open again (and find it gone)
    return last_errno().fail("stat", quoted(path));
  }
  if (const auto mapped = mapped_file_at(sem); mapped && (mapped->first != st.st_dev || mapped->second != st.st_ino)) {
    return false;
  }
  if (auto ok = check_owner(ObjectOwner{st.st_uid, st.st_gid, st.st_mode}, perms, trust, "sem_open", quoted(name));
      !ok) {
    return fail(std::move(ok.error()));
  }
  return true;
}

std::string shared_object(const void* where) { return fmt::format("shared semaphore at {}", where); }

Result<void> check_placement(void* where, const char* call) {
  if (where == nullptr) {
    return fail_library(LibraryCode::kInvalidArgument, call, "shared semaphore", "null address");
  }
  if (reinterpret_cast<std::uintptr_t>(where) % alignof(SharedSemaphore) != 0) {
    return fail_library(LibraryCode::kInvalidArgument, call, shared_object(where),
                        fmt::format("address is not aligned to {} bytes", alignof(SharedSemaphore)));
  }
  return {};
}

}  // namespace

NamedSemaphore::NamedSemaphore(NamedSemaphore&& other) noexcept
    : sem_(other.sem_), name_(std::move(other.name_)) {
  other.sem_ = nullptr;
}

NamedSemaphore& NamedSemaphore::operator=(NamedSemaphore&& other) noexcept {
  if (this != &other) {
    reset();
    sem_ = other.sem_;
    name_ = std::move(other.name_);
    other.sem_ = nullptr;
  }
  return *this;
}

void NamedSemaphore::reset() noexcept {
  if (sem_ != nullptr) (void)::sem_close(sem_);
  sem_ = nullptr;
}

Result<NamedSemaphore> NamedSemaphore::open(std::string_view name, OpenMode mode, unsigned initial, mode_t perms,
                                            const TrustPolicy& trust) {
  if (auto v = validate_posix_name(name, NameKind::kSemaphore, "sem_open"); !v) return fail(v.error());
  const std::string n(name);
  if (initial > static_cast<unsigned>(SEM_VALUE_MAX)) {
    return fail_errno(EINVAL, "sem_open", quoted(n), value_max_hint(initial));
  }
  const std::string path = detail::sem_path(n);
  for (int round = 0; round < kMaxOpenRounds; ++round) {
    if (mode != OpenMode::kOpenExisting) {
      sem_t* s = ::sem_open(n.c_str(), O_CREAT | O_EXCL, perms, initial);
      if (s != SEM_FAILED) {
        // sem_open applies the umask; set the mode the caller asked for exactly.
        if (::chmod(path.c_str(), perms) != 0) {
          const auto err = last_errno();
          (void)::sem_close(s);
          (void)::sem_unlink(n.c_str());
          return err.fail("chmod", quoted(path));
        }
        return NamedSemaphore(s, n);
      }
      if (errno != EEXIST || mode == OpenMode::kCreateExclusive) {
        return last_errno().fail("sem_open", quoted(n));
      }
    }
    sem_t* s = ::sem_open(n.c_str(), 0);
    if (s == SEM_FAILED) {
      // Removed between our EEXIST and this open: try to create it again.
      if (errno == ENOENT && mode == OpenMode::kOpenOrCreate) continue;
      return last_errno().fail("sem_open", quoted(n));
    }
    NamedSemaphore opened(s, n);
    auto checked = check_opened(s, path, perms, trust, n);
    if (!checked) return fail(std::move(checked.error()));
    if (*checked) return opened;
    // The name was replaced between sem_open and stat: what we checked is not what we mapped.
    // Drop it and open again.
  }
  return fail_errno(EAGAIN, "sem_open", quoted(n),
                    fmt::format("the name was replaced {} times while opening it", kMaxOpenRounds));
}

Result<void> NamedSemaphore::unlink(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kSemaphore, "sem_unlink"); !v) return fail(v.error());
  const std::string n(name);
  if (::sem_unlink(n.c_str()) != 0) return last_errno().fail("sem_unlink", quoted(n));
  return {};
}

Result<void> NamedSemaphore::wait() { return do_wait(sem_, [this] { return quoted(name_); }); }
Result<IoStatus> NamedSemaphore::try_wait() { return do_try_wait(sem_, [this] { return quoted(name_); }); }
Result<IoStatus> NamedSemaphore::wait_until(Deadline deadline) { return do_wait_until(sem_, deadline, [this] { return quoted(name_); }); }
Result<void> NamedSemaphore::post() { return do_post(sem_, [this] { return quoted(name_); }); }
Result<int> NamedSemaphore::value() const { return do_value(sem_, [this] { return quoted(name_); }); }

Result<SharedSemaphore*> SharedSemaphore::create_at(void* where, unsigned initial) {
  if (auto c = check_placement(where, "sem_init"); !c) return fail(c.error());
  if (initial > static_cast<unsigned>(SEM_VALUE_MAX)) {
    return fail_errno(EINVAL, "sem_init", shared_object(where), value_max_hint(initial));
  }
  auto* s = new (where) SharedSemaphore();
  // pshared = 1: the semaphore is used by several processes through shared memory.
  if (::sem_init(&s->sem_, 1, initial) != 0) return last_errno().fail("sem_init", shared_object(where));
  return s;
}

Result<SharedSemaphore*> SharedSemaphore::at(void* where) {
  if (auto c = check_placement(where, "SharedSemaphore::at"); !c) return fail(c.error());
  return std::launder(static_cast<SharedSemaphore*>(where));
}

Result<void> SharedSemaphore::wait() { return do_wait(&sem_, [this] { return shared_object(this); }); }
Result<IoStatus> SharedSemaphore::try_wait() { return do_try_wait(&sem_, [this] { return shared_object(this); }); }
Result<IoStatus> SharedSemaphore::wait_until(Deadline deadline) {
  return do_wait_until(&sem_, deadline, [this] { return shared_object(this); });
}
Result<void> SharedSemaphore::post() { return do_post(&sem_, [this] { return shared_object(this); }); }
Result<int> SharedSemaphore::value() { return do_value(&sem_, [this] { return shared_object(this); }); }
Result<void> SharedSemaphore::destroy() {
  if (::sem_destroy(&sem_) != 0) return fail_now("sem_destroy", [this] { return shared_object(this); });
  return {};
}

}  // namespace ipckit
