// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/posix_mq.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "detail/capability.hpp"
#include "detail/proc_value.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/poll.hpp"

namespace ipckit {
namespace {

constexpr const char* kMsgMax = "/proc/sys/fs/mqueue/msg_max";
constexpr const char* kMsgSizeMax = "/proc/sys/fs/mqueue/msgsize_max";
constexpr const char* kMsgDefault = "/proc/sys/fs/mqueue/msg_default";
constexpr const char* kMsgSizeDefault = "/proc/sys/fs/mqueue/msgsize_default";
constexpr const char* kQueuesMax = "/proc/sys/fs/mqueue/queues_max";

std::size_t open_fd_count() {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// The hint for a failed mq_open: which limit, its value, where to change it.
std::string open_hint(int err, bool creating, const mq_attr& attr) {
  switch (err) {
    case EINVAL: {
      if (!creating) break;
      const long msg_max = detail::read_proc_long(kMsgMax);
      const long size_max = detail::read_proc_long(kMsgSizeMax);
      // With CAP_SYS_RESOURCE the kernel's hard ceilings apply instead (HARD_MSGMAX, HARD_MSGSIZEMAX).
      const bool cap = detail::has_effective_capability(CAP_SYS_RESOURCE);
      if (attr.mq_maxmsg <= 0 || attr.mq_msgsize <= 0) {
        return fmt::format("max_messages ({}) and message_size ({}) must both be positive", attr.mq_maxmsg,
                           attr.mq_msgsize);
      }
      if (!cap && attr.mq_maxmsg > msg_max) {
        return fmt::format("max_messages {} > {} ({}): raise it there (as root), or create the queue from a "
                           "process with CAP_SYS_RESOURCE, which bypasses it",
                           attr.mq_maxmsg, kMsgMax, msg_max);
      }
      if (!cap && attr.mq_msgsize > size_max) {
        return fmt::format("message_size {} > {} ({}): raise it there (as root), or create the queue from a "
                           "process with CAP_SYS_RESOURCE, which bypasses it",
                           attr.mq_msgsize, kMsgSizeMax, size_max);
      }
      if (cap && (attr.mq_maxmsg > 65536 || attr.mq_msgsize > 16 * 1024 * 1024)) {
        return fmt::format("max_messages {} / message_size {} exceed the kernel's hard limits (65536 messages, "
                           "16 MiB), which even CAP_SYS_RESOURCE cannot pass",
                           attr.mq_maxmsg, attr.mq_msgsize);
      }
      break;
    }
    case EMFILE: {
      rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile);
      if (nofile.rlim_cur != RLIM_INFINITY && open_fd_count() + 1 >= nofile.rlim_cur) {
        return fmt::format("out of file descriptors: RLIMIT_NOFILE is {} (ulimit -n)", nofile.rlim_cur);
      }
      rlimit mq{};
      ::getrlimit(RLIMIT_MSGQUEUE, &mq);
      const auto bytes = static_cast<unsigned long long>(attr.mq_maxmsg) * static_cast<unsigned long long>(attr.mq_msgsize);
      return fmt::format("the queue needs max_messages × message_size = {} bytes plus kernel bookkeeping, and "
                         "this user's queues together may use at most RLIMIT_MSGQUEUE = {} bytes: raise it "
                         "with ulimit -q, setrlimit(RLIMIT_MSGQUEUE) or /etc/security/limits.conf (msgqueue), "
                         "or remove unused queues (CAP_SYS_RESOURCE does not bypass this rlimit)",
                         bytes, mq.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(mq.rlim_cur));
    }
    case ENOSPC:
      return fmt::format("{} ({}) queues already exist on this system: remove unused ones (mq_unlink) or raise "
                         "it there (as root); CAP_SYS_RESOURCE bypasses it",
                         kQueuesMax, detail::read_proc_long(kQueuesMax));
    case ENOENT:
      return "no such queue (create it with OpenMode::kCreateExclusive or kOpenOrCreate)";
    case EEXIST:
      return "the queue exists (open it with OpenMode::kOpenExisting or kOpenOrCreate, or mq_unlink it)";
    case EACCES:
      return "permission denied by the queue's mode (ipckit creates queues 0600: pass permissions to share "
             "with other users)";
    default:
      break;
  }
  return {};
}

// Registry of SIGEV_THREAD callbacks. The kernel hands glibc only a sigval: it carries a registry
// key, never a pointer, so a notification that fires after close() finds nothing instead of a
// dangling object.
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<unsigned long, std::function<void()>>& registry() {
  static std::map<unsigned long, std::function<void()>> r;
  return r;
}
unsigned long next_callback_id() {
  static unsigned long next = 0;
  return ++next;  // under registry_mutex()
}

void thread_trampoline(sigval value) {
  const auto id = static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(value.sival_ptr));
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(id);
    if (it == registry().end()) return;  // closed or replaced before the notification ran
    fn = std::move(it->second);
    registry().erase(it);  // a registration fires once
  }
  fn();
}

std::string busy_hint() {
  return "another process is registered for notification on this queue (only one may be): it must cancel it "
         "(mq_notify NULL), close the queue, or be notified first";
}

}  // namespace

PosixMq::PosixMq(UniqueFd fd, std::string name, long message_size)
    : fd_(std::move(fd)), name_(std::move(name)), message_size_(message_size) {}

PosixMq::~PosixMq() { forget_thread_callback(); }

PosixMq::PosixMq(PosixMq&& other) noexcept
    : fd_(std::move(other.fd_)),
      name_(std::move(other.name_)),
      message_size_(other.message_size_),
      callback_id_(other.callback_id_) {
  other.callback_id_ = 0;
}

PosixMq& PosixMq::operator=(PosixMq&& other) noexcept {
  if (this != &other) {
    forget_thread_callback();
    fd_ = std::move(other.fd_);
    name_ = std::move(other.name_);
    message_size_ = other.message_size_;
    callback_id_ = other.callback_id_;
    other.callback_id_ = 0;
  }
  return *this;
}

void PosixMq::forget_thread_callback() noexcept {
  if (callback_id_ == 0) return;
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(callback_id_);
  callback_id_ = 0;
}

Result<PosixMq> PosixMq::open(std::string_view name, const MqOptions& options) {
  if (auto v = validate_posix_name(name, NameKind::kMessageQueue, "mq_open"); !v) return fail(std::move(v.error()));
  const std::string n(name);
  mq_attr attr{};
  const bool given = options.attributes.max_messages != 0 || options.attributes.message_size != 0;
  attr.mq_maxmsg = options.attributes.max_messages != 0 ? options.attributes.max_messages : detail::read_proc_long(kMsgDefault);
  attr.mq_msgsize = options.attributes.message_size != 0 ? options.attributes.message_size : detail::read_proc_long(kMsgSizeDefault);
  // The kernel's mq descriptors are always close-on-exec (do_mq_open), so no O_CLOEXEC is needed.
  const int base = options.access | (options.nonblocking ? O_NONBLOCK : 0);

  for (;;) {
    const bool create = options.open != OpenMode::kOpenExisting;
    if (create) {
      const mqd_t fd = no_eintr(::mq_open, n.c_str(), base | O_CREAT | O_EXCL, options.mode,
                                given ? &attr : nullptr);
      if (fd >= 0) {
        UniqueFd owned(fd);
        // mq_open applies the umask; fchmod gives exactly what was asked.
        if (::fchmod(fd, options.mode) != 0) {
          const auto err = last_errno();
          ::mq_unlink(n.c_str());
          return err.fail("fchmod", ipckit::quoted(name));
        }
        mq_attr got{};
        if (::mq_getattr(fd, &got) != 0) return last_errno().fail("mq_getattr", ipckit::quoted(name));
        return PosixMq(std::move(owned), n, got.mq_msgsize);
      }
      const auto err = last_errno();
      if (err.code() != EEXIST || options.open == OpenMode::kCreateExclusive) {
        return err.fail("mq_open", ipckit::quoted(name), open_hint(err.code(), true, attr));
      }
    }
    const mqd_t fd = no_eintr(::mq_open, n.c_str(), base);
    if (fd >= 0) {
      UniqueFd owned(fd);
      // Another process created it: use it only if its owner is trusted and its mode no wider than
      // asked (on Linux an mqd_t is a file descriptor, so fstat reports both).
      if (auto trusted = check_fd_owner(fd, options.mode, options.trust, "mq_open", ipckit::quoted(name));
          !trusted) {
        return fail(std::move(trusted.error()));
      }
      mq_attr got{};
      if (::mq_getattr(fd, &got) != 0) return last_errno().fail("mq_getattr", ipckit::quoted(name));
      return PosixMq(std::move(owned), n, got.mq_msgsize);
    }
    const auto err = last_errno();
    // kOpenOrCreate: removed between our O_EXCL attempt and this open; try creating again.
    if (err.code() == ENOENT && options.open == OpenMode::kOpenOrCreate) continue;
    return err.fail("mq_open", ipckit::quoted(name), open_hint(err.code(), false, attr));
  }
}

Result<void> PosixMq::unlink(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kMessageQueue, "mq_unlink"); !v) return fail(std::move(v.error()));
  if (::mq_unlink(std::string(name).c_str()) != 0) return last_errno().fail("mq_unlink", ipckit::quoted(name));
  return {};
}

namespace {

std::string mqueue_mount_point() {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream ls(line);
    std::string dev, dir, type;
    ls >> dev >> dir >> type;
    if (type == "mqueue") return dir;
  }
  return {};
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    out.push_back("/" + it->path().filename().string());
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> PosixMq::list() {
  if (const std::string dir = mqueue_mount_point(); !dir.empty()) return names_in(dir);
  const char* object = "/dev/mqueue";
  if (::geteuid() != 0) {
    return fail_library(LibraryCode::kNotAvailable, "list", ipckit::quoted(object),
                        "no mqueue filesystem is mounted; mount one as root: mkdir -p /dev/mqueue && "
                        "mount -t mqueue none /dev/mqueue");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_errno().fail("pipe2", ipckit::quoted(object));
  UniqueFd reader(fds[0]);
  UniqueFd writer(fds[1]);
  // A child mounts an mqueue filesystem over /tmp in its own private mount namespace (nothing
  // reaches the host) and writes the names to the pipe. Only async-signal-safe calls after fork():
  // the parent may have other threads.
  const pid_t pid = ::fork();
  if (pid < 0) return last_errno().fail("fork", ipckit::quoted(object));
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(10);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(11);
    if (::mount("mqueue", "/tmp", "mqueue", 0, nullptr) != 0) ::_exit(12);
    const int dir = ::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) ::_exit(13);
    alignas(8) char buf[8192];
    for (;;) {
      const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (n < 0) ::_exit(14);
      if (n == 0) break;
      for (long off = 0; off < n;) {
        // struct linux_dirent64: d_ino(8) d_off(8) d_reclen(2) d_type(1) d_name[]
        unsigned short reclen = 0;
        std::memcpy(&reclen, buf + off + 16, sizeof reclen);
        const char* entry = buf + off + 19;
        if (std::strcmp(entry, ".") != 0 && std::strcmp(entry, "..") != 0) {
          if (::write(fds[1], entry, std::strlen(entry) + 1) < 0) ::_exit(15);
        }
        off += reclen;
      }
    }
    ::_exit(0);
  }
  writer.reset();
  auto text = read_all(reader.get(), "mqueue list pipe");
  int status = 0;
  (void)no_eintr(::waitpid, pid, &status, 0);
  if (!text) return fail(std::move(text.error()));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return fail_library(LibraryCode::kNotAvailable, "list", ipckit::quoted(object),
                        fmt::format("no mqueue filesystem is mounted and mounting one in a private mount "
                                    "namespace failed (step {}); mount one: mkdir -p /dev/mqueue && mount -t "
                                    "mqueue none /dev/mqueue",
                                    code));
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text->size(); ++i) {
    if ((*text)[i] == '\0') {
      out.push_back("/" + text->substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Result<MqState> PosixMq::state() const {
  mq_attr a{};
  if (::mq_getattr(fd_.get(), &a) != 0) return last_errno().fail("mq_getattr", ipckit::quoted(name_));
  return MqState{a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs, (a.mq_flags & O_NONBLOCK) != 0};
}

Result<void> PosixMq::set_nonblocking(bool on) {
  mq_attr a{};
  a.mq_flags = on ? O_NONBLOCK : 0;
  if (::mq_setattr(fd_.get(), &a, nullptr) != 0) return last_errno().fail("mq_setattr", ipckit::quoted(name_));
  return {};
}

namespace {

enum class Mode { kBlock, kTry, kUntil };

std::string send_hint(int err, std::size_t size, unsigned priority, long message_size) {
  if (err == EMSGSIZE) {
    return fmt::format("message of {} bytes > this queue's message_size ({}), fixed when it was created", size,
                       message_size);
  }
  if (err == EINVAL && priority >= kMqPriorityLimit) {
    return fmt::format("priority {} >= MQ_PRIO_MAX ({})", priority, kMqPriorityLimit);
  }
  if (err == EBADF) return "the queue was not opened for this direction (O_RDONLY/O_WRONLY)";
  return {};
}

// What a try or until form that did nothing reports: kWouldBlock for try, kTimedOut for until.
IoStatus nothing_done(Mode mode) { return mode == Mode::kTry ? IoStatus::kWouldBlock : IoStatus::kTimedOut; }

// One loop for the three forms of send: kOk = sent, kWouldBlock = full (try), kTimedOut (until).
Result<IoStatus> do_send(int fd, const std::string& name, std::span<const std::byte> data, unsigned priority,
                     long message_size, Mode mode, Deadline deadline) {
  // mq_send's buffer is declared nonnull even for an empty message.
  static const char kEmpty = 0;
  const char* bytes = data.empty() ? &kEmpty : reinterpret_cast<const char*>(data.data());
  for (;;) {
    int rc;
    if (mode == Mode::kBlock) {
      rc = no_eintr(::mq_send, fd, bytes, data.size(), priority);
    } else {
      // A timeout already past makes mq_timedsend a non-blocking attempt on a blocking descriptor.
      const timespec ts = mode == Mode::kTry ? timespec{0, 0} : to_realtime_timespec(deadline);
      rc = ::mq_timedsend(fd, bytes, data.size(), priority, &ts);
    }
    if (rc == 0) return IoStatus::kOk;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ETIMEDOUT || err == EAGAIN) {
      if (mode == Mode::kTry) return IoStatus::kWouldBlock;
      if (mode == Mode::kUntil && Clock::now() >= deadline) return IoStatus::kTimedOut;
      if (err == EAGAIN) {  // O_NONBLOCK descriptor: wait for room in poll(), then try again
        auto ready = poll_one(fd, POLLOUT, mode == Mode::kBlock ? kNoDeadline : deadline);
        if (!ready) return fail(std::move(ready.error()));
        if (*ready == 0) return nothing_done(mode);
      }
      continue;  // ETIMEDOUT before the steady deadline: the wall clock moved; convert again
    }
    return fail_errno(err, mode == Mode::kBlock ? "mq_send" : "mq_timedsend", ipckit::quoted(name),
                      send_hint(err, data.size(), priority, message_size));
  }
}

Result<Attempt<MqMessage>> do_receive(int fd, const std::string& name, long message_size, Mode mode,
                                      Deadline deadline) {
  MqMessage m;
  m.data.resize(static_cast<std::size_t>(message_size));
  for (;;) {
    ssize_t n;
    if (mode == Mode::kBlock) {
      n = no_eintr(::mq_receive, fd, m.data.data(), m.data.size(), &m.priority);
    } else {
      const timespec ts = mode == Mode::kTry ? timespec{0, 0} : to_realtime_timespec(deadline);
      n = ::mq_timedreceive(fd, m.data.data(), m.data.size(), &m.priority, &ts);
    }
    if (n >= 0) {
      m.data.resize(static_cast<std::size_t>(n));
      return m;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ETIMEDOUT || err == EAGAIN) {
      if (mode == Mode::kTry) return Attempt<MqMessage>::none(IoStatus::kWouldBlock);
      if (mode == Mode::kUntil && Clock::now() >= deadline) return Attempt<MqMessage>::none(IoStatus::kTimedOut);
      if (err == EAGAIN) {
        auto ready = poll_one(fd, POLLIN, mode == Mode::kBlock ? kNoDeadline : deadline);
        if (!ready) return fail(std::move(ready.error()));
        if (*ready == 0) return Attempt<MqMessage>::none(nothing_done(mode));
      }
      continue;
    }
    return fail_errno(err, mode == Mode::kBlock ? "mq_receive" : "mq_timedreceive", ipckit::quoted(name),
                      err == EBADF ? "the queue was not opened for reading" : "");
  }
}

}  // namespace

Result<void> PosixMq::send(std::span<const std::byte> data, unsigned priority) {
  auto r = do_send(fd_.get(), name_, data, priority, message_size_, Mode::kBlock, kNoDeadline);
  if (!r) return fail(std::move(r.error()));
  return {};
}
Result<IoStatus> PosixMq::try_send(std::span<const std::byte> data, unsigned priority) {
  return do_send(fd_.get(), name_, data, priority, message_size_, Mode::kTry, kNoDeadline);
}
Result<IoStatus> PosixMq::send_until(std::span<const std::byte> data, unsigned priority, Deadline deadline) {
  return do_send(fd_.get(), name_, data, priority, message_size_,
                 deadline == kNoDeadline ? Mode::kBlock : Mode::kUntil, deadline);
}

Result<MqMessage> PosixMq::receive() {
  auto r = do_receive(fd_.get(), name_, message_size_, Mode::kBlock, kNoDeadline);
  if (!r) return fail(std::move(r.error()));
  return *std::move(*r);  // kBlock always returns a message
}
Result<Attempt<MqMessage>> PosixMq::try_receive() {
  return do_receive(fd_.get(), name_, message_size_, Mode::kTry, kNoDeadline);
}
Result<Attempt<MqMessage>> PosixMq::receive_until(Deadline deadline) {
  return do_receive(fd_.get(), name_, message_size_, deadline == kNoDeadline ? Mode::kBlock : Mode::kUntil,
                    deadline);
}

Result<void> PosixMq::notify_signal(int signo, int value) {
  // Replace our own registration: the kernel answers EBUSY even to the process that holds it.
  if (auto c = cancel_notification(); !c) return c;
  sigevent ev{};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = signo;
  ev.sigev_value.sival_int = value;
  if (::mq_notify(fd_.get(), &ev) != 0) {
    const int err = errno;
    return fail_errno(err, "mq_notify", ipckit::quoted(name_),
                      err == EBUSY ? busy_hint() : err == EINVAL ? fmt::format("invalid signal {}", signo) : "");
  }
  return {};
}

Result<void> PosixMq::notify_thread(std::function<void()> callback) {
  if (auto c = cancel_notification(); !c) return c;
  unsigned long id = 0;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    id = next_callback_id();
    registry().emplace(id, std::move(callback));
  }
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = thread_trampoline;
  ev.sigev_notify_attributes = nullptr;
  ev.sigev_value.sival_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
  if (::mq_notify(fd_.get(), &ev) != 0) {
    const int err = errno;
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().erase(id);
    return fail_errno(err, "mq_notify", ipckit::quoted(name_), err == EBUSY ? busy_hint() : "");
  }
  callback_id_ = id;
  return {};
}

Result<void> PosixMq::cancel_notification() {
  forget_thread_callback();
  if (::mq_notify(fd_.get(), nullptr) != 0) return last_errno().fail("mq_notify(NULL)", ipckit::quoted(name_));
  return {};
}

Result<void> PosixMq::close() {
  forget_thread_callback();
  return fd_.close();
}

}  // namespace ipckit
