// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/sysv_semaphore.hpp"

#include <sys/ipc.h>
#include <sys/sem.h>

#include <cerrno>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/ownership.hpp"

namespace ipckit {
namespace {

// glibc leaves union semun to the caller.
union SemUn {
  int val;
  semid_ds* buf;
  unsigned short* array;
};

std::string key_object(key_t key) {
  return key == IPC_PRIVATE ? std::string("IPC_PRIVATE") : fmt::format("key 0x{:x}", static_cast<unsigned>(key));
}

std::string limits_hint(int err, int count) {
  auto l = sysv_sem_limits();
  if (!l) return {};
  if (err == EINVAL && count > l->semmsl) {
    return fmt::format("{} semaphores > SEMMSL ({}, first field of /proc/sys/kernel/sem)", count, l->semmsl);
  }
  if (err == ENOSPC) {
    return fmt::format("the system-wide limit of sets SEMMNI ({}, fourth field of /proc/sys/kernel/sem) or "
                       "semaphores SEMMNS ({}, second field) is reached; see ipcs -s",
                       l->semmni, l->semmns);
  }
  return {};
}

std::string semop_hint(int err, std::size_t nops, int set_size) {
  if (err == E2BIG) {
    auto l = sysv_sem_limits();
    if (l) return fmt::format("{} operations > SEMOPM ({}, third field of /proc/sys/kernel/sem)", nops, l->semopm);
  }
  if (err == EFBIG) return fmt::format("a semaphore index is outside the set of {}", set_size);
  if (err == ERANGE) return fmt::format("a value would pass SEMVMX ({})", kSysvSemValueMax);
  if (err == EIDRM) return "the set was removed (IPC_RMID) while waiting";
  return {};
}

std::vector<sembuf> to_sembuf(std::span<const SemOp> ops, bool nowait) {
  std::vector<sembuf> out;
  out.reserve(ops.size());
  for (const auto& op : ops) {
    short flags = 0;
    if (op.undo) flags |= SEM_UNDO;
    if (nowait) flags |= IPC_NOWAIT;
    out.push_back(sembuf{op.index, op.delta, flags});
  }
  return out;
}

}  // namespace

Result<SysvSemLimits> sysv_sem_limits() {
  std::ifstream f("/proc/sys/kernel/sem");
  SysvSemLimits l;
  if (!(f >> l.semmsl >> l.semmns >> l.semopm >> l.semmni)) {
    const int err = errno != 0 ? errno : EIO;  // a short or malformed file sets no errno
    return fail_errno(err, "read", quoted("/proc/sys/kernel/sem"));
  }
  return l;
}

std::string SysvSemaphoreSet::object() const { return fmt::format("sysv-sem:{}", id_); }

Result<SysvSemaphoreSet> SysvSemaphoreSet::create(key_t key, int count, mode_t perms) {
  return open(key, OpenMode::kCreateExclusive, count, perms);
}

Result<SysvSemaphoreSet> SysvSemaphoreSet::open(key_t key, OpenMode mode, int count, mode_t perms,
                                               const TrustPolicy& trust) {
  if (count <= 0) {
    return fail_library(LibraryCode::kInvalidArgument, "semget", key_object(key), "a set holds at least 1 semaphore");
  }
  const int perm = static_cast<int>(perms & 0777);
  // A set found rather than created: IPC_STAT's sem_perm is the kernel's record of owner and mode.
  auto opened = [&](int id) -> Result<SysvSemaphoreSet> {
    semid_ds ds{};
    SemUn arg{};
    arg.buf = &ds;
    if (::semctl(id, 0, IPC_STAT, arg) != 0) return last_errno().fail("semctl(IPC_STAT)", fmt::format("sysv-sem:{}", id));
    if (auto ok = check_owner(ObjectOwner{ds.sem_perm.uid, ds.sem_perm.gid, static_cast<mode_t>(ds.sem_perm.mode & 0777)},
                              perms, trust, "semget", key_object(key));
        !ok) {
      return fail(std::move(ok.error()));
    }
    return SysvSemaphoreSet(id, count);
  };
  if (mode == OpenMode::kOpenExisting && key != IPC_PRIVATE) {
    const int id = ::semget(key, count, 0);
    if (id < 0) {
      const auto err = last_errno();
      return err.fail("semget", key_object(key), limits_hint(err.code(), count));
    }
    return opened(id);
  }
  // Creating: IPC_CREAT|IPC_EXCL first, so kOpenOrCreate knows whether it created the set (and
  // checks the one it found); ENOENT in between (removed): create again, a bounded number of times.
  constexpr int kMaxRounds = 1000;
  for (int round = 0; round < kMaxRounds; ++round) {
    const int id = ::semget(key, count, IPC_CREAT | IPC_EXCL | perm);
    if (id >= 0) return SysvSemaphoreSet(id, count);
    const auto err = last_errno();
    if (err.code() != EEXIST || mode != OpenMode::kOpenOrCreate || key == IPC_PRIVATE) {
      return err.fail("semget", key_object(key), limits_hint(err.code(), count));
    }
    const int existing = ::semget(key, count, 0);
    if (existing >= 0) return opened(existing);
    const auto open_err = last_errno();
    if (open_err.code() != ENOENT) return open_err.fail("semget", key_object(key), limits_hint(open_err.code(), count));
  }
  return fail_errno(EAGAIN, "semget", key_object(key),
                    fmt::format("the key was created and removed {} times while opening it", kMaxRounds));
}

Result<SysvSemaphoreSet> SysvSemaphoreSet::attach(int id) {
  semid_ds ds{};
  SemUn arg{};
  arg.buf = &ds;
  if (::semctl(id, 0, IPC_STAT, arg) != 0) return last_errno().fail("semctl(IPC_STAT)", fmt::format("sysv-sem:{}", id));
  return SysvSemaphoreSet(id, static_cast<int>(ds.sem_nsems));
}

Result<key_t> SysvSemaphoreSet::key_for(const std::string& path, int proj) {
  const key_t k = ::ftok(path.c_str(), proj);
  if (k == static_cast<key_t>(-1)) return last_errno().fail("ftok", quoted(path));
  return k;
}

Result<IoStatus> SysvSemaphoreSet::try_apply(std::span<const SemOp> ops) {
  auto bufs = to_sembuf(ops, true);
  if (no_eintr(::semop, id_, bufs.data(), bufs.size()) == 0) return IoStatus::kOk;
  const auto err = last_errno();
  if (err.code() == EAGAIN) return IoStatus::kWouldBlock;
  return err.fail("semop", object(), semop_hint(err.code(), ops.size(), count_));
}

Result<void> SysvSemaphoreSet::apply(std::span<const SemOp> ops) {
  auto bufs = to_sembuf(ops, false);
  if (no_eintr(::semop, id_, bufs.data(), bufs.size()) == 0) return {};
  const auto err = last_errno();
  return err.fail("semop", object(), semop_hint(err.code(), ops.size(), count_));
}

Result<IoStatus> SysvSemaphoreSet::apply_until(std::span<const SemOp> ops, Deadline deadline) {
  if (deadline == kNoDeadline) {
    if (auto r = apply(ops); !r) return fail(r.error());
    return IoStatus::kOk;
  }
  auto bufs = to_sembuf(ops, false);
  for (;;) {
    // semtimedop takes a relative timeout: recompute it from the steady deadline on every attempt.
    const timespec left = remaining_timespec(deadline);
    if (::semtimedop(id_, bufs.data(), bufs.size(), &left) == 0) return IoStatus::kOk;
    const int err = errno;
    if (err == EAGAIN) {
      // The relative timeout ran out; only report it once the steady deadline has really passed.
      if (Clock::now() >= deadline) return IoStatus::kTimedOut;
      continue;
    }
    if (err != EINTR) return fail_errno(err, "semtimedop", object(), semop_hint(err, ops.size(), count_));
  }
}

Result<int> SysvSemaphoreSet::value(int index) const {
  const int v = ::semctl(id_, index, GETVAL);
  if (v < 0) return last_errno().fail("semctl(GETVAL)", object());
  return v;
}

Result<void> SysvSemaphoreSet::set_value(int index, int value) {
  SemUn arg{};
  arg.val = value;
  if (::semctl(id_, index, SETVAL, arg) != 0) {
    const int err = errno;
    return fail_errno(err, "semctl(SETVAL)", object(),
                      err == ERANGE ? fmt::format("value {} is outside 0..SEMVMX ({})", value, kSysvSemValueMax)
                                    : std::string());
  }
  return {};
}

Result<std::vector<std::uint16_t>> SysvSemaphoreSet::values() const {
  std::vector<unsigned short> v(static_cast<std::size_t>(count_));
  SemUn arg{};
  arg.array = v.data();
  if (::semctl(id_, 0, GETALL, arg) != 0) return last_errno().fail("semctl(GETALL)", object());
  return std::vector<std::uint16_t>(v.begin(), v.end());
}

Result<void> SysvSemaphoreSet::set_all(std::span<const std::uint16_t> values) {
  if (values.size() != static_cast<std::size_t>(count_)) {
    return fail_library(LibraryCode::kInvalidArgument, "semctl(SETALL)", object(),
                        fmt::format("{} values for a set of {}", values.size(), count_));
  }
  std::vector<unsigned short> v(values.begin(), values.end());
  SemUn arg{};
  arg.array = v.data();
  if (::semctl(id_, 0, SETALL, arg) != 0) {
    const int err = errno;
    return fail_errno(err, "semctl(SETALL)", object(),
                      err == ERANGE ? fmt::format("a value is above SEMVMX ({})", kSysvSemValueMax) : std::string());
  }
  return {};
}

Result<int> SysvSemaphoreSet::waiting_count(int index) const {
  const int v = ::semctl(id_, index, GETNCNT);
  if (v < 0) return last_errno().fail("semctl(GETNCNT)", object());
  return v;
}

Result<void> SysvSemaphoreSet::remove() {
  if (::semctl(id_, 0, IPC_RMID) != 0) return last_errno().fail("semctl(IPC_RMID)", object());
  id_ = -1;
  count_ = 0;
  return {};
}

}  // namespace ipckit
