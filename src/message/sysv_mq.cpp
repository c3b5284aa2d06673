// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/sysv_mq.hpp"

#include <sys/msg.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "detail/proc_value.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/ownership.hpp"

namespace ipckit {
namespace {

constexpr const char* kMsgMax = "/proc/sys/kernel/msgmax";
constexpr const char* kMsgMnb = "/proc/sys/kernel/msgmnb";
constexpr const char* kMsgMni = "/proc/sys/kernel/msgmni";

std::string key_text(key_t key) {
  return key == IPC_PRIVATE ? std::string("IPC_PRIVATE") : fmt::format("key 0x{:08x}", static_cast<unsigned>(key));
}

std::string object_of(int id, key_t key) {
  // sysv-KIND:ID, the KIND:NAME form of docs/design.md (as sysv-shm: and sysv-sem:), with the key when there is one.
  return key == IPC_PRIVATE ? fmt::format("sysv-mq:{}", id) : fmt::format("sysv-mq:{}, {}", id, key_text(key));
}

// The exponential backoff of the _until forms: 50 µs doubling to 5 ms, never past the deadline.
class Backoff {
 public:
  // false when the deadline has passed.
  bool wait(Deadline deadline) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(step_, deadline - now));
    step_ = std::min<Clock::duration>(step_ * 2, std::chrono::milliseconds(5));
    return true;
  }

 private:
  Clock::duration step_ = std::chrono::microseconds(50);
};

}  // namespace

Result<key_t> SysvMq::key_for(std::string_view path, int proj) {
  const std::string p(path);
  if ((proj & 0xff) == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "ftok", ipckit::quoted(path),
                        fmt::format("proj {} has low 8 bits 0; ftok uses only those, and they must be non-zero", proj));
  }
  errno = 0;
  const key_t key = ::ftok(p.c_str(), proj);
  if (key == -1) {
    return last_errno().fail("ftok", ipckit::quoted(path),
                      errno == ENOENT ? "ftok needs an existing file: create it first (its inode makes the key)" : "");
  }
  return key;
}

namespace {

std::string msgget_hint(int err) {
  switch (err) {
    case ENOSPC:
      return fmt::format("{} ({}) queues already exist on this system: remove unused ones (ipcrm -q ID) or "
                         "raise it there (as root)",
                         kMsgMni, detail::read_proc_long(kMsgMni));
    case EEXIST:
      return "a queue with this key exists (open it with kOpenExisting/kOpenOrCreate, or remove it)";
    case ENOENT:
      return "no queue with this key (create it with kCreateExclusive or kOpenOrCreate)";
    case EACCES:
      return "permission denied by the queue's mode (ipckit creates queues 0600)";
    default:
      return {};
  }
}

// A queue this process found rather than created: its owner (msg_perm.uid/gid) must be trusted and
// its mode no wider than `permissions`. IPC_STAT reads the kernel's own record: no race with a name.
Result<void> check_opened(int id, key_t key, mode_t permissions, const TrustPolicy& trust) {
  msqid_ds ds{};
  if (::msgctl(id, IPC_STAT, &ds) != 0) return last_errno().fail("msgctl(IPC_STAT)", object_of(id, key));
  return check_owner(ObjectOwner{ds.msg_perm.uid, ds.msg_perm.gid, static_cast<mode_t>(ds.msg_perm.mode & 0777)},
                     permissions, trust, "msgget", key_text(key));
}

}  // namespace

Result<SysvMq> SysvMq::open(key_t key, OpenMode mode, mode_t permissions, const TrustPolicy& trust) {
  const int perm = static_cast<int>(permissions & 0777);
  // IPC_PRIVATE always makes a new queue; so does the first msgget of the other creating modes.
  if (key == IPC_PRIVATE || mode != OpenMode::kOpenExisting) {
    // Bounds the create/open ping-pong of kOpenOrCreate when another process keeps creating and
    // removing the key; honest peers never reach it.
    constexpr int kMaxRounds = 1000;
    for (int round = 0; round < kMaxRounds; ++round) {
      const int id = ::msgget(key, IPC_CREAT | IPC_EXCL | perm);
      if (id >= 0) return SysvMq(id, key);  // msgget's mode is not filtered by the umask
      const auto err = last_errno();
      if (err.code() != EEXIST || mode == OpenMode::kCreateExclusive || key == IPC_PRIVATE) {
        return err.fail("msgget", key_text(key), msgget_hint(err.code()));
      }
      // kOpenOrCreate: it exists, open it; removed in between (ENOENT): create again.
      const int existing = ::msgget(key, 0);
      if (existing >= 0) {
        if (auto ok = check_opened(existing, key, permissions, trust); !ok) return fail(std::move(ok.error()));
        return SysvMq(existing, key);
      }
      const auto open_err = last_errno();
      if (open_err.code() != ENOENT) return open_err.fail("msgget", key_text(key), msgget_hint(open_err.code()));
    }
    return fail_errno(EAGAIN, "msgget", key_text(key),
                      fmt::format("the key was created and removed {} times while opening it", kMaxRounds));
  }
  const int id = ::msgget(key, 0);
  if (id < 0) {
    const auto err = last_errno();
    return err.fail("msgget", key_text(key), msgget_hint(err.code()));
  }
  if (auto ok = check_opened(id, key, permissions, trust); !ok) return fail(std::move(ok.error()));
  return SysvMq(id, key);
}

namespace {

enum class Mode { kBlock, kTry, kUntil };

Result<IoStatus> do_send(int id, key_t key, long type, std::span<const std::byte> data, Mode mode, Deadline deadline) {
  const std::string object = object_of(id, key);
  if (type <= 0) {
    return fail_library(LibraryCode::kInvalidArgument, "msgsnd", object,
                        fmt::format("message type {} must be > 0 (receivers select by type)", type));
  }
  // struct msgbuf { long mtype; char mtext[]; } in long-aligned storage.
  std::vector<long> buf(1 + (data.size() + sizeof(long) - 1) / sizeof(long));
  buf[0] = type;
  if (!data.empty()) std::memcpy(buf.data() + 1, data.data(), data.size());
  Backoff backoff;
  bool checked_fit = false;
  for (;;) {
    // A blocking send first tries IPC_NOWAIT so that a message that can never fit is reported
    // instead of blocking forever.
    const bool nowait = mode != Mode::kBlock || !checked_fit;
    if (no_eintr(::msgsnd, id, buf.data(), data.size(), nowait ? IPC_NOWAIT : 0) == 0) return IoStatus::kOk;
    const int err = errno;
    if (err == EAGAIN) {
      if (!checked_fit) {
        checked_fit = true;
        msqid_ds ds{};
        if (::msgctl(id, IPC_STAT, &ds) == 0 && data.size() > ds.msg_qbytes) {
          return fail_errno(EAGAIN, "msgsnd", object,
                            fmt::format("message of {} bytes > this queue's msg_qbytes ({}): it can never fit; "
                                        "raise it with set_max_bytes (above {} ({}) only with "
                                        "CAP_SYS_RESOURCE)",
                                        data.size(), ds.msg_qbytes, kMsgMnb, detail::read_proc_long(kMsgMnb)));
        }
      }
      if (mode == Mode::kTry) return IoStatus::kWouldBlock;
      if (mode == Mode::kUntil && !backoff.wait(deadline)) return IoStatus::kTimedOut;
      continue;
    }
    std::string hint;
    if (err == EINVAL && static_cast<long>(data.size()) > detail::read_proc_long(kMsgMax)) {
      hint = fmt::format("message of {} bytes > {} ({}): raise it there (as root) or send smaller messages",
                         data.size(), kMsgMax, detail::read_proc_long(kMsgMax));
    } else if (err == EIDRM || err == EINVAL) {
      hint = "the queue was removed (IPC_RMID)";
    }
    return fail_errno(err, "msgsnd", object, hint);
  }
}

Result<Attempt<SysvMessage>> do_receive(int id, key_t key, long type, const SysvReceiveOptions& options,
                                        Mode mode, Deadline deadline) {
  const std::string object = object_of(id, key);
  std::size_t max_size = options.max_size;
  if (max_size == 0) max_size = static_cast<std::size_t>(std::max(detail::read_proc_long(kMsgMax), 1L));
  const bool truncate = options.oversize == SysvOversize::kTruncate;
  // With MSG_NOERROR ask for one byte more than max_size: a message that fills it was longer than
  // max_size, so truncation is detected exactly (msgrcv itself cannot say).
  const std::size_t ask = truncate ? max_size + 1 : max_size;
  std::vector<long> buf(1 + (ask + sizeof(long) - 1) / sizeof(long));
  Backoff backoff;
  for (;;) {
    const int flags = (mode == Mode::kBlock ? 0 : IPC_NOWAIT) | (truncate ? MSG_NOERROR : 0);
    const ssize_t n = no_eintr(::msgrcv, id, buf.data(), ask, type, flags);
    if (n >= 0) {
      SysvMessage m;
      m.type = buf[0];
      const auto got = static_cast<std::size_t>(n);
      m.truncated = truncate && got > max_size;
      m.data.assign(reinterpret_cast<const char*>(buf.data() + 1), std::min(got, max_size));
      return m;
    }
    const int err = errno;
    if (err == ENOMSG) {
      if (mode == Mode::kTry) return Attempt<SysvMessage>::none(IoStatus::kWouldBlock);
      if (!backoff.wait(deadline)) return Attempt<SysvMessage>::none(IoStatus::kTimedOut);
      continue;
    }
    std::string hint;
    if (err == E2BIG) {
      hint = fmt::format("the selected message is longer than max_size ({} bytes) and stays queued: pass a larger "
                         "max_size, or SysvOversize::kTruncate (MSG_NOERROR) to cut it",
                         max_size);
    } else if (err == EIDRM || err == EINVAL) {
      hint = "the queue was removed (IPC_RMID)";
    }
    return fail_errno(err, "msgrcv", object, hint);
  }
}

}  // namespace

Result<void> SysvMq::send(long type, std::span<const std::byte> data) {
  auto r = do_send(id_, key_, type, data, Mode::kBlock, kNoDeadline);
  if (!r) return fail(std::move(r.error()));
  return {};
}
Result<IoStatus> SysvMq::try_send(long type, std::span<const std::byte> data) {
  return do_send(id_, key_, type, data, Mode::kTry, kNoDeadline);
}
Result<IoStatus> SysvMq::send_until(long type, std::span<const std::byte> data, Deadline deadline) {
  return do_send(id_, key_, type, data, deadline == kNoDeadline ? Mode::kBlock : Mode::kUntil, deadline);
}

Result<SysvMessage> SysvMq::receive(long type, const SysvReceiveOptions& options) {
  auto r = do_receive(id_, key_, type, options, Mode::kBlock, kNoDeadline);
  if (!r) return fail(std::move(r.error()));
  return std::move(**r);
}
Result<Attempt<SysvMessage>> SysvMq::try_receive(long type, const SysvReceiveOptions& options) {
  return do_receive(id_, key_, type, options, Mode::kTry, kNoDeadline);
}
Result<Attempt<SysvMessage>> SysvMq::receive_until(long type, Deadline deadline,
                                                         const SysvReceiveOptions& options) {
  return do_receive(id_, key_, type, options, deadline == kNoDeadline ? Mode::kBlock : Mode::kUntil, deadline);
}

Result<SysvMqStat> SysvMq::stat() const {
  msqid_ds ds{};
  if (::msgctl(id_, IPC_STAT, &ds) != 0) return last_errno().fail("msgctl(IPC_STAT)", object_of(id_, key_));
  SysvMqStat s;
  s.key = ds.msg_perm.__key;
  s.uid = ds.msg_perm.uid;
  s.gid = ds.msg_perm.gid;
  s.mode = ds.msg_perm.mode & 0777;
  s.messages = ds.msg_qnum;
  s.bytes = ds.__msg_cbytes;
  s.max_bytes = ds.msg_qbytes;
  s.last_sender = ds.msg_lspid;
  s.last_receiver = ds.msg_lrpid;
  return s;
}

Result<void> SysvMq::set(uid_t uid, gid_t gid, mode_t mode, std::size_t max_bytes) {
  msqid_ds ds{};
  if (::msgctl(id_, IPC_STAT, &ds) != 0) return last_errno().fail("msgctl(IPC_STAT)", object_of(id_, key_));
  ds.msg_perm.uid = uid;
  ds.msg_perm.gid = gid;
  ds.msg_perm.mode = static_cast<unsigned short>(mode & 0777);
  ds.msg_qbytes = max_bytes;
  if (::msgctl(id_, IPC_SET, &ds) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM && static_cast<long>(max_bytes) > detail::read_proc_long(kMsgMnb)) {
      hint = fmt::format("msg_qbytes {} > {} ({}) needs CAP_SYS_RESOURCE: raise the sysctl (as root) or ask for "
                         "less",
                         max_bytes, kMsgMnb, detail::read_proc_long(kMsgMnb));
    } else if (err == EPERM) {
      hint = "only the queue's owner or creator (or CAP_SYS_ADMIN) may change it";
    }
    return fail_errno(err, "msgctl(IPC_SET)", object_of(id_, key_), hint);
  }
  return {};
}

Result<void> SysvMq::set_max_bytes(std::size_t max_bytes) {
  auto s = stat();
  if (!s) return fail(std::move(s.error()));
  return set(s->uid, s->gid, s->mode, max_bytes);
}

Result<void> SysvMq::remove() {
  if (::msgctl(id_, IPC_RMID, nullptr) != 0) return last_errno().fail("msgctl(IPC_RMID)", object_of(id_, key_));
  id_ = -1;
  return {};
}

}  // namespace ipckit
