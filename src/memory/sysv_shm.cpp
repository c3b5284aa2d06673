// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/sysv_shm.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "detail/proc_value.hpp"

#include "ipckit/core/ownership.hpp"

namespace ipckit {
namespace {

constexpr const char* kShmmaxPath = "/proc/sys/kernel/shmmax";
constexpr const char* kShmallPath = "/proc/sys/kernel/shmall";
constexpr const char* kShmmniPath = "/proc/sys/kernel/shmmni";

// Errors name System V objects sysv-KIND:ID, the KIND:NAME form of docs/design.md (as sysv-sem: and sysv-mq:).
std::string id_text(int id) { return fmt::format("sysv-shm:{}", id); }

// Segments of this IPC namespace (/proc/sysvipc/shm shows the reader's namespace).
std::optional<std::uint64_t> segment_count() {
  std::ifstream in("/proc/sysvipc/shm");
  if (!in) return std::nullopt;
  std::string line;
  std::uint64_t lines = 0;
  while (std::getline(in, line)) ++lines;
  return lines == 0 ? 0 : lines - 1;  // minus the header line
}

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// Explains a shmget() failure in terms of the limit hit. `size` is what was asked for.
std::string shmget_hint(int err, key_t key, std::size_t size, bool creating) {
  switch (err) {
    case EINVAL: {
      const auto shmmax = detail::read_proc_u64(kShmmaxPath);
      if (shmmax && size > *shmmax) {
        return fmt::format("size {} > {} ({}); raise it with `sysctl kernel.shmmax=BYTES`", size, kShmmaxPath,
                           *shmmax);
      }
      if (key != IPC_PRIVATE) {
        const int id = ::shmget(key, 0, 0);
        shmid_ds ds{};
        if (id >= 0 && ::shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz < size) {
          return fmt::format("the existing segment (sysv-shm:{}) has {} bytes, fewer than the {} asked for", id,
                             ds.shm_segsz, size);
        }
      }
      return {};
    }
    case ENOSPC: {
      const auto shmmni = detail::read_proc_u64(kShmmniPath);
      const auto count = segment_count();
      if (shmmni && count && *count >= *shmmni) {
        return fmt::format("{} segments exist, the limit {} is {}; raise it with `sysctl kernel.shmmni=N` or "
                           "remove unused ones (`ipcs -m`, `ipcrm -m ID`)",
                           *count, kShmmniPath, *shmmni);
      }
      const std::size_t pages = (size + page_size() - 1) / page_size();
      return fmt::format("{} more pages would exceed the total of all segments, {} ({} pages of {} bytes); "
                         "raise it with `sysctl kernel.shmall=PAGES` or remove unused segments (`ipcs -m`)",
                         pages, kShmallPath, detail::proc_text(detail::read_proc_u64(kShmallPath)), page_size());
    }
    case ENOMEM:
      return "not enough memory for the segment's bookkeeping";
    case EEXIST:
      return "a segment with this key exists: open it, use OpenOrCreate, or remove it (`ipcrm -M KEY`)";
    case ENOENT:
      return creating ? std::string{} : "no segment has this key (not created yet, or removed)";
    case EACCES:
      return "permission denied: see the segment's owner and perms in `ipcs -m`";
    default:
      return {};
  }
}

Result<SysvShmInfo> stat_id(int id) {
  shmid_ds ds{};
  if (::shmctl(id, IPC_STAT, &ds) != 0) {
    const int err = errno;
    return fail_errno(err, "shmctl(IPC_STAT)", id_text(id),
                      err == EINVAL || err == EIDRM ? "no such segment (removed?)" : "");
  }
  SysvShmInfo info;
  info.key = ds.shm_perm.__key;
  info.size = ds.shm_segsz;
  info.attach_count = ds.shm_nattch;
  info.creator_pid = ds.shm_cpid;
  info.last_pid = ds.shm_lpid;
  info.owner_uid = ds.shm_perm.uid;
  info.owner_gid = ds.shm_perm.gid;
  info.mode = static_cast<mode_t>(ds.shm_perm.mode & 0777);
  info.last_attach = ds.shm_atime;
  info.last_detach = ds.shm_dtime;
  info.last_change = ds.shm_ctime;
  info.marked_for_removal = (ds.shm_perm.mode & SHM_DEST) != 0;
  return info;
}

}  // namespace

Result<SysvShmLimits> sysv_shm_limits() {
  SysvShmLimits limits;
  const auto max = detail::read_proc_u64(kShmmaxPath);
  const auto all = detail::read_proc_u64(kShmallPath);
  const auto mni = detail::read_proc_u64(kShmmniPath);
  if (!max || !all || !mni) {
    return fail_library(LibraryCode::kUnsupported, "read", "/proc/sys/kernel/shm*",
                        "System V shared-memory limits are not readable (no /proc, or no SysV IPC in this kernel)");
  }
  limits.shmmax = *max;
  limits.shmall = *all;
  limits.shmmni = *mni;
  return limits;
}

Result<key_t> sysv_key_from_path(std::string_view path, int proj) {
  if ((proj & 0xff) == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "ftok", quoted(path),
                        fmt::format("proj {} has low 8 bits 0; ftok uses only those and they must not be 0", proj));
  }
  const std::string p(path);
  const key_t key = ::ftok(p.c_str(), proj);
  if (key == -1) return last_errno().fail("ftok", quoted(path));
  return key;
}

std::string sysv_key_text(key_t key) { return fmt::format("0x{:08x}", static_cast<std::uint32_t>(key)); }

SysvShmAttachment::SysvShmAttachment(SysvShmAttachment&& other) noexcept : addr_(other.addr_), size_(other.size_) {
  other.addr_ = nullptr;
  other.size_ = 0;
}

SysvShmAttachment& SysvShmAttachment::operator=(SysvShmAttachment&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = other.addr_;
    size_ = other.size_;
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Result<void> SysvShmAttachment::detach() {
  if (addr_ == nullptr) return {};
  void* addr = addr_;
  addr_ = nullptr;
  size_ = 0;
  if (::shmdt(addr) != 0) return last_errno().fail("shmdt", fmt::format("{}", addr));
  return {};
}

void SysvShmAttachment::reset() noexcept {
  if (addr_ != nullptr) (void)::shmdt(addr_);
  addr_ = nullptr;
  size_ = 0;
}

Result<SysvShm> SysvShm::create(key_t key, std::size_t size, OpenMode open_mode, mode_t mode,
                                const TrustPolicy& trust) {
  const std::string object = sysv_key_text(key);
  if (key == IPC_PRIVATE) {
    return fail_library(LibraryCode::kInvalidArgument, "shmget", object,
                        "key 0 is IPC_PRIVATE: use SysvShm::create_private");
  }
  if (open_mode == OpenMode::kOpenExisting) return open(key, size, mode, trust);
  if (size == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "shmget", object, "size must be > 0");
  }
  const int excl = IPC_CREAT | IPC_EXCL | static_cast<int>(mode & 0777);
  // Bounds the create/open ping-pong when another process keeps creating and removing the key.
  constexpr int kMaxRounds = 1000;
  for (int round = 0; round < kMaxRounds; ++round) {
    const int id = ::shmget(key, size, excl);
    if (id >= 0) {
      // shmget's mode is not filtered by umask, so no fchmod-like step is needed.
      return SysvShm(id, key, size, true);
    }
    int err = errno;
    if (err != EEXIST || open_mode == OpenMode::kCreateExclusive) {
      return fail_errno(err, "shmget", object, shmget_hint(err, key, size, true));
    }
    // kOpenOrCreate: open the existing segment. ENOENT: removed in between, create again.
    auto opened = open(key, size, mode, trust);
    if (opened) return opened;
    if (!opened.error().is(ENOENT)) return opened;
  }
  return fail_errno(EAGAIN, "shmget", object,
                    fmt::format("the key was created and removed {} times while opening it", kMaxRounds));
}

Result<SysvShm> SysvShm::create_private(std::size_t size, mode_t mode) {
  if (size == 0) return fail_library(LibraryCode::kInvalidArgument, "shmget", "IPC_PRIVATE", "size must be > 0");
  const int id = ::shmget(IPC_PRIVATE, size, IPC_CREAT | static_cast<int>(mode & 0777));
  if (id < 0) {
    const int err = errno;
    return fail_errno(err, "shmget", "IPC_PRIVATE", shmget_hint(err, IPC_PRIVATE, size, true));
  }
  return SysvShm(id, IPC_PRIVATE, size, true);
}

Result<SysvShm> SysvShm::open(key_t key, std::size_t min_size, mode_t mode, const TrustPolicy& trust) {
  const std::string object = sysv_key_text(key);
  // shmget checks size against the segment's: asking for min_size gives EINVAL if it is smaller.
  const int id = ::shmget(key, min_size, 0);
  if (id < 0) {
    const auto err = last_errno();
    return err.fail("shmget", object, shmget_hint(err.code(), key, min_size, false));
  }
  auto info = stat_id(id);
  if (!info) return fail(std::move(info.error()));
  // Found, not created: IPC_STAT's shm_perm is the kernel's own record of owner and mode.
  if (auto ok = check_owner(ObjectOwner{info->owner_uid, info->owner_gid, info->mode}, mode, trust, "shmget", object);
      !ok) {
    return fail(std::move(ok.error()));
  }
  return SysvShm(id, key, info->size, false);
}

Result<SysvShm> SysvShm::from_id(int id) {
  auto info = stat_id(id);
  if (!info) return fail(std::move(info.error()));
  return SysvShm(id, info->key, info->size, false);
}

Result<SysvShmAttachment> SysvShm::attach(Access access) const {
  const int flags = access == Access::kReadOnly ? SHM_RDONLY : 0;
  void* addr = ::shmat(id_, nullptr, flags);
  if (addr == reinterpret_cast<void*>(-1)) {  // shmat's documented failure value
    const int err = errno;
    std::string hint;
    if (err == EACCES) {
      hint = access == Access::kReadWrite ? "no write permission: attach it read-only or check perms in `ipcs -m`"
                                          : "no read permission: check perms in `ipcs -m`";
    } else if (err == EINVAL || err == EIDRM) {
      hint = "no such segment (removed?)";
    }
    return fail_errno(err, "shmat", id_text(id_), hint);
  }
  return SysvShmAttachment(addr, size_);
}

Result<SysvShmInfo> SysvShm::info() const { return stat_id(id_); }

Result<bool> SysvShm::remove() const { return remove_id(id_); }

Result<bool> SysvShm::remove_id(int id) {
  if (::shmctl(id, IPC_RMID, nullptr) == 0) return true;
  const int err = errno;
  if (err == EINVAL || err == EIDRM) return false;
  return fail_errno(err, "shmctl(IPC_RMID)", id_text(id),
                    err == EPERM ? "only the owner, the creator or a privileged process may remove it" : "");
}

SysvShmRemoveGuard& SysvShmRemoveGuard::operator=(SysvShmRemoveGuard&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void SysvShmRemoveGuard::reset() noexcept {
  if (id_ >= 0) (void)::shmctl(id_, IPC_RMID, nullptr);
  id_ = -1;
}

}  // namespace ipckit
