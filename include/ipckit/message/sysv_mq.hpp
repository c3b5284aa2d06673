// SPDX-License-Identifier: Apache-2.0
// SysvMq: a System V message queue (msgget/msgsnd/msgrcv/msgctl).
//
// A queue is found by a key: ftok(path, proj) (SysvMq::key_for) or IPC_PRIVATE (a new queue only
// reachable through its id, e.g. after fork). Every message has a type (a positive long) chosen by
// the sender; a receiver selects by type:
//   type 0   the first message in the queue,
//   type > 0 the first message of exactly that type,
//   type < 0 the first message of the lowest type <= |type| (a priority queue: low types first).
//
// Limits (per namespace, /proc/sys/kernel): msgmax (largest message), msgmnb (default bytes a queue
// holds; its msg_qbytes, raisable only with CAP_SYS_RESOURCE), msgmni (queues on the system). Errors
// name each limit, its value and the file.
//
// Waiting: the kernel has no timed msgrcv/msgsnd, and a blocked msgrcv can only be woken by a
// message, a signal or IPC_RMID. The _until forms therefore poll with IPC_NOWAIT and a backoff that
// grows from 50 µs to 5 ms: a wait costs a few hundred syscalls a second and may see a message up to
// 5 ms late. Use them for waits that need deadlines; use the blocking forms for throughput.
//
// The queue lives until remove() (IPC_RMID), even after every process exits: remove what you create.
// Thread and process safety: the kernel serialises operations; a SysvMq is a plain id and may be
// used from any thread.
#pragma once

#include <sys/ipc.h>
#include <sys/types.h>

#include <cstddef>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// One received message.
struct SysvMessage {
  long type = 0;     ///< the type the sender gave it (> 0)
  std::string data;  ///< the message bytes
  bool truncated = false;  ///< only with kTruncate: the message was longer than max_size; the rest is gone
};

/// What msgrcv does with a message longer than the buffer.
enum class SysvOversize {
  kFail,      ///< E2BIG, the message stays queued (the default)
  kTruncate,  ///< MSG_NOERROR: deliver the first max_size bytes, discard the rest, set truncated
};

/// How SysvMq receives.
struct SysvReceiveOptions {
  std::size_t max_size = 0;  ///< 0 = /proc/sys/kernel/msgmax (the largest message anyone can send)
  SysvOversize oversize = SysvOversize::kFail;  ///< what to do with a longer message
};

/// msgctl(IPC_STAT)'s view.
struct SysvMqStat {
  key_t key = 0;    ///< msg_perm.__key
  uid_t uid = 0;    ///< msg_perm.uid: owner
  gid_t gid = 0;    ///< msg_perm.gid: owner's group
  mode_t mode = 0;  ///< permission bits (low 9)
  std::size_t messages = 0;     ///< msg_qnum
  std::size_t bytes = 0;        ///< __msg_cbytes
  std::size_t max_bytes = 0;    ///< msg_qbytes
  pid_t last_sender = 0;        ///< msg_lspid
  pid_t last_receiver = 0;      ///< msg_lrpid
};

/// A System V message queue (msgget/msgsnd/msgrcv/msgctl), found by a key. Every message has a
/// type (> 0) chosen by the sender; a receiver selects by type: 0 the first message in the queue,
/// \> 0 the first message of exactly that type, \< 0 the first message of the lowest type
/// \<= |type| (a priority queue: low types first).
/// The _until forms poll with IPC_NOWAIT and a backoff that grows from 50 µs to 5 ms (the kernel
/// has no timed msgrcv/msgsnd): use them for waits that need deadlines, the blocking forms for
/// throughput. The queue lives until remove() (IPC_RMID), even after every process exits.
/// Thread and process safety: the kernel serialises operations; a SysvMq is a plain id and may be
/// used from any thread.
class IPCKIT_API SysvMq {
 public:
  /// An invalid SysvMq (no queue).
  SysvMq() = default;

  /// ftok(path, proj): a key derived from the inode of an existing file and the low 8 bits of proj
  /// (must be non-zero). Different files can collide; the file must outlive the queue's users.
  [[nodiscard]] static Result<key_t> key_for(std::string_view path, int proj = 1);

  /// msgget(key): kCreateExclusive (IPC_CREAT|IPC_EXCL), kOpenOrCreate (IPC_CREAT|IPC_EXCL, then on
  /// EEXIST the existing queue; ENOENT in between: create again), kOpenExisting. Created queues get
  /// \p permissions (0600 by default). key == IPC_PRIVATE always creates a new queue. A queue this
  /// call opens rather than creates is checked with IPC_STAT: owned (msg_perm.uid) by another user
  /// not in \p trust, or with a mode wider than \p permissions, it fails with kUntrusted naming the
  /// owner and the mode. Errors: EEXIST, ENOENT, EACCES, ENOSPC (msgmni), kUntrusted.
  [[nodiscard]] static Result<SysvMq> open(key_t key, OpenMode mode, mode_t permissions = kDefaultMode,
                                           const TrustPolicy& trust = {});
  /// A queue by id (as listed in /proc/sysvipc/msg or inherited by a child).
  [[nodiscard]] static SysvMq from_id(int id) noexcept { return SysvMq(id, IPC_PRIVATE); }

  /// The queue id (-1 when invalid or removed).
  [[nodiscard]] int id() const noexcept { return id_; }
  /// The key it was opened with (IPC_PRIVATE for from_id).
  [[nodiscard]] key_t key() const noexcept { return key_; }
  /// True when it names a queue (id >= 0).
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }

  /// Sends one message of \p type (> 0). Blocks while the queue holds msg_qbytes bytes. Errors name
  /// msgmax (message too long) and msg_qbytes (a message that could never fit); EIDRM if removed.
  [[nodiscard]] Result<void> send(long type, std::span<const std::byte> data);
  /// Never blocks: kOk when sent, kWouldBlock when the queue is full (IPC_NOWAIT).
  [[nodiscard]] Result<IoStatus> try_send(long type, std::span<const std::byte> data);
  /// Polls until sent (kOk) or \p deadline (kTimedOut); each wait polls with a backoff of up to 5 ms.
  [[nodiscard]] Result<IoStatus> send_until(long type, std::span<const std::byte> data, Deadline deadline);

  /// Receives one message selected by \p type (see SysvMq). Blocks while none matches.
  [[nodiscard]] Result<SysvMessage> receive(long type = 0, const SysvReceiveOptions& options = {});
  /// Never blocks: the message, or no message with kWouldBlock when none matches.
  [[nodiscard]] Result<Attempt<SysvMessage>> try_receive(long type = 0, const SysvReceiveOptions& options = {});
  /// Polls until a message matches or \p deadline (no message, kTimedOut).
  [[nodiscard]] Result<Attempt<SysvMessage>> receive_until(long type, Deadline deadline,
                                                           const SysvReceiveOptions& options = {});

  /// msgctl(IPC_STAT).
  [[nodiscard]] Result<SysvMqStat> stat() const;
  /// msgctl(IPC_SET): owner, group, mode bits (low 9) and msg_qbytes. Raising msg_qbytes above
  /// /proc/sys/kernel/msgmnb needs CAP_SYS_RESOURCE (EPERM names it).
  [[nodiscard]] Result<void> set(uid_t uid, gid_t gid, mode_t mode, std::size_t max_bytes);
  /// Changes only msg_qbytes: stat(), then set() with the current owner, group and mode.
  [[nodiscard]] Result<void> set_max_bytes(std::size_t max_bytes);
  /// msgctl(IPC_RMID): removes the queue now; blocked senders and receivers get EIDRM.
  [[nodiscard]] Result<void> remove();

 private:
  SysvMq(int id, key_t key) noexcept : id_(id), key_(key) {}
  int id_ = -1;
  key_t key_ = IPC_PRIVATE;
};

}  // namespace ipckit
