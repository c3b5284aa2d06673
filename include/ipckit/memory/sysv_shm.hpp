// SPDX-License-Identifier: Apache-2.0
// SysvShm: a System V shared-memory segment (shmget/shmat/shmdt/shmctl), and SysvShmAttachment,
// the RAII owner of one shmat().
//
// A segment is named by a key: a number the user picks, one derived from a path with ftok(), or
// IPC_PRIVATE (a new segment every time, shared by handing its id to children). Segments live
// until IPC_RMID *and* the last detach: remove() marks it, attached processes keep working.
// Nothing is removed implicitly; SysvShmRemoveGuard removes on scope exit.
//
// Kernel limits (per IPC namespace, /proc/sys/kernel): shmmax (largest segment), shmall (total
// pages of all segments), shmmni (number of segments). Errors that hit one name it, its value and
// where to change it.
//
// Unlike POSIX shm, a segment cannot be resized or truncated after creation, so no peer can make
// another's mapping SIGBUS.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// The System V shared-memory limits of this IPC namespace, read from /proc/sys/kernel.
struct SysvShmLimits {
  std::uint64_t shmmax = 0;  ///< bytes: largest segment
  std::uint64_t shmall = 0;  ///< pages: all segments together
  std::uint64_t shmmni = 0;  ///< number of segments
};
/// Reads shmmax, shmall and shmmni from /proc/sys/kernel.
[[nodiscard]] IPCKIT_API Result<SysvShmLimits> sysv_shm_limits();

/// IPC_STAT, in plain types.
struct SysvShmInfo {
  key_t key = 0;         ///< the segment's key (IPC_PRIVATE for a private one)
  std::size_t size = 0;  ///< shm_segsz: size in bytes
  std::uint64_t attach_count = 0;  ///< shm_nattch: current attachments, all processes
  pid_t creator_pid = 0;           ///< shm_cpid
  pid_t last_pid = 0;              ///< shm_lpid: last shmat/shmdt
  uid_t owner_uid = 0;   ///< shm_perm.uid
  mode_t mode = 0;  ///< permission bits
  std::time_t last_attach = 0;  ///< shm_atime
  std::time_t last_detach = 0;  ///< shm_dtime
  std::time_t last_change = 0;  ///< shm_ctime
  bool marked_for_removal = false;  ///< SHM_DEST: IPC_RMID done, waiting for the last detach
  gid_t owner_gid = 0;   ///< shm_perm.gid
};

/// ftok(path, proj): a key derived from an existing file's inode and device. Errors: ENOENT etc. on
/// the path; "invalid argument" for proj 0 (ftok uses only its low 8 bits, which must not be 0).
[[nodiscard]] IPCKIT_API Result<key_t> sysv_key_from_path(std::string_view path, int proj = 1);

/// "0x0000abcd": how keys appear in errors and `ipcs`.
[[nodiscard]] IPCKIT_API std::string sysv_key_text(key_t key);

/// One shmat() of a segment; shmdt() on destruction (errors ignored). Move-only.
class IPCKIT_API SysvShmAttachment {
 public:
  /// An empty attachment (valid() is false).
  SysvShmAttachment() = default;
  /// Takes ownership of an attachment of \p size bytes at \p addr (as returned by shmat).
  SysvShmAttachment(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}
  /// shmdt()s (errors ignored).
  ~SysvShmAttachment() { reset(); }
  /// Moves the attachment; \p other is left empty.
  SysvShmAttachment(SysvShmAttachment&& other) noexcept;
  /// Detaches this one's segment, then takes \p other's; \p other is left empty.
  SysvShmAttachment& operator=(SysvShmAttachment&& other) noexcept;
  /// Not copyable.
  SysvShmAttachment(const SysvShmAttachment&) = delete;
  /// Not copyable.
  SysvShmAttachment& operator=(const SysvShmAttachment&) = delete;

  /// Start of the attached segment (null when empty).
  [[nodiscard]] void* data() const noexcept { return addr_; }
  /// Size of the segment in bytes.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// True while attached.
  [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
  /// The attached bytes.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(addr_), size_}; }
  /// shmdt now, reporting its error; empty afterwards.
  [[nodiscard]] Result<void> detach();
  /// shmdt ignoring errors; empty afterwards.
  void reset() noexcept;

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

/// A System V shared-memory segment (shmget/shmat/shmdt/shmctl), named by a key. Segments live
/// until IPC_RMID *and* the last detach; nothing is removed implicitly (see SysvShmRemoveGuard).
/// A segment id with its size. Copyable: it owns nothing process-local (the segment lives in the
/// kernel until remove()). All members are thread- and process-safe (the kernel serialises them).
class IPCKIT_API SysvShm {
 public:
  /// An invalid SysvShm (no segment).
  SysvShm() = default;

  /// shmget(key, size, IPC_CREAT[|IPC_EXCL] | mode). kCreateExclusive fails with EEXIST if the key
  /// is taken; kOpenOrCreate opens an existing segment if it has at least \p size bytes;
  /// kOpenExisting never creates. \p key must not be IPC_PRIVATE (use create_private).
  /// Never blocks. Errors: EEXIST, ENOENT, EACCES, EINVAL (size > shmmax, or an existing segment
  /// smaller than size: the hint says which), ENOSPC (shmmni or shmall reached), ENOMEM.
  /// A segment found rather than created is checked as open() does (mode = the widest accepted).
  [[nodiscard]] static Result<SysvShm> create(key_t key, std::size_t size,
                                              OpenMode open_mode = OpenMode::kCreateExclusive,
                                              mode_t mode = kDefaultMode, const TrustPolicy& trust = {});
  /// A new IPC_PRIVATE segment: reachable only through its id (pass it to children or peers).
  [[nodiscard]] static Result<SysvShm> create_private(std::size_t size, mode_t mode = kDefaultMode);
  /// An existing segment by key; at least min_size bytes. Checked with IPC_STAT: owned (shm_perm.uid)
  /// by another user not in \p trust, or with a mode wider than \p mode, it is kUntrusted naming the
  /// owner and the mode. Errors: ENOENT, EACCES, EINVAL (smaller), kUntrusted.
  [[nodiscard]] static Result<SysvShm> open(key_t key, std::size_t min_size = 0, mode_t mode = kDefaultMode,
                                            const TrustPolicy& trust = {});
  /// An existing segment by id (IPC_STAT reads its size). Errors: EINVAL/EIDRM (no such id), EACCES.
  [[nodiscard]] static Result<SysvShm> from_id(int id);

  /// shmat, read-write or read-only (SHM_RDONLY: writes fault with SIGSEGV). Never blocks.
  /// Errors: EACCES (no permission for that access), EINVAL/EIDRM (removed), ENOMEM.
  [[nodiscard]] Result<SysvShmAttachment> attach(Access access = Access::kReadWrite) const;

  /// IPC_STAT. Errors: EINVAL/EIDRM (removed), EACCES (no read permission).
  [[nodiscard]] Result<SysvShmInfo> info() const;

  /// IPC_RMID: the segment disappears after its last detach; new attaches fail (Linux allows
  /// attaching a marked segment by id, but no new shmget finds it). Returns false if it was already
  /// gone. Errors: EPERM (not owner/creator).
  [[nodiscard]] Result<bool> remove() const;
  /// remove() for the segment \p id: false if it was already gone; EPERM (not owner/creator).
  [[nodiscard]] static Result<bool> remove_id(int id);

  /// The segment id (-1 when invalid).
  [[nodiscard]] int id() const noexcept { return id_; }
  /// The segment's key (IPC_PRIVATE for a private segment).
  [[nodiscard]] key_t key() const noexcept { return key_; }
  /// Size in bytes.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// True when create() or create_private() made the segment (false when it found an existing one).
  [[nodiscard]] bool created() const noexcept { return created_; }
  /// True when it names a segment (id >= 0).
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }

 private:
  SysvShm(int id, key_t key, std::size_t size, bool created) : id_(id), key_(key), size_(size), created_(created) {}
  int id_ = -1;
  key_t key_ = 0;
  std::size_t size_ = 0;
  bool created_ = false;
};

/// Removes a segment id on scope exit (IPC_RMID; errors ignored). Move-only.
class IPCKIT_API SysvShmRemoveGuard {
 public:
  /// A disarmed guard.
  SysvShmRemoveGuard() = default;
  /// Arms the guard for segment \p id.
  explicit SysvShmRemoveGuard(int id) noexcept : id_(id) {}
  /// Removes the segment if still armed (errors ignored).
  ~SysvShmRemoveGuard() { reset(); }
  /// Takes over \p other's id; \p other is left disarmed.
  SysvShmRemoveGuard(SysvShmRemoveGuard&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  /// Removes this guard's segment (if armed), then takes over \p other's; \p other is left disarmed.
  SysvShmRemoveGuard& operator=(SysvShmRemoveGuard&& other) noexcept;
  /// Not copyable.
  SysvShmRemoveGuard(const SysvShmRemoveGuard&) = delete;
  /// Not copyable.
  SysvShmRemoveGuard& operator=(const SysvShmRemoveGuard&) = delete;
  /// Forgets the id: nothing is removed.
  void dismiss() noexcept { id_ = -1; }
  /// Removes the segment now (IPC_RMID, errors ignored) and disarms.
  void reset() noexcept;

 private:
  int id_ = -1;
};

}  // namespace ipckit
