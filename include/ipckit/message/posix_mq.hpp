// SPDX-License-Identifier: Apache-2.0
// PosixMq: a POSIX message queue (mq_open), named "/name", with priorities and notification.
//
// Messages keep their boundaries and come out highest priority first (FIFO within one priority).
// A queue holds at most `max_messages` messages of at most `message_size` bytes, both fixed at
// creation; the defaults and ceilings are /proc/sys/fs/mqueue/{msg_default,msgsize_default,msg_max,
// msgsize_max}, every queue counts against the owner's RLIMIT_MSGQUEUE (bytes) and the system's
// /proc/sys/fs/mqueue/queues_max. Errors for each limit name it, its value and where to change it;
// CAP_SYS_RESOURCE bypasses the sysctls (not the rlimit).
//
// On Linux the queue descriptor is a file descriptor: native_handle() can be polled (readable = a
// message is queued, writable = there is room), added to epoll, and is O_CLOEXEC.
//
// Every blocking verb has three forms: send (blocks), try_send (never blocks: false when full),
// send_until(deadline) (false when the deadline passed). Deadlines are steady-clock time points;
// mq_timed* want CLOCK_REALTIME, so each attempt converts afresh and the loop ends only when the
// steady deadline has passed (a wall-clock jump can neither stretch nor cut a wait).
//
// The queue lives until unlink(name) and the last close; nothing is removed implicitly.
// Thread and process safety: the kernel serialises every operation; one PosixMq may be used from
// several threads, except that close()/notification setters must not race other calls.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// Highest priority + 1 on Linux (sysconf(_SC_MQ_PRIO_MAX) = 32768).
inline constexpr unsigned kMqPriorityLimit = 32768;

/// The fixed size of a queue, given when it is created.
struct MqAttributes {
  long max_messages = 0;  ///< mq_maxmsg; 0 = /proc/sys/fs/mqueue/msg_default
  long message_size = 0;  ///< mq_msgsize; 0 = /proc/sys/fs/mqueue/msgsize_default
};

/// mq_getattr's view.
struct MqState {
  long max_messages = 0;      ///< mq_maxmsg: most messages the queue holds
  long message_size = 0;      ///< mq_msgsize: largest message in bytes
  long current_messages = 0;  ///< mq_curmsgs: messages queued now
  bool nonblocking = false;   ///< O_NONBLOCK is set on the descriptor
};

/// One received message.
struct MqMessage {
  std::string data;       ///< the message bytes
  unsigned priority = 0;  ///< its priority (higher comes out first)
};

/// How PosixMq::open opens or creates a queue.
struct MqOptions {
  /// Create or open (called `mode` before 0.2; `mode` is the permissions in every options struct now).
  OpenMode open = OpenMode::kCreateExclusive;
  int access = O_RDWR;         ///< O_RDONLY, O_WRONLY or O_RDWR
  /// Created queues get exactly this mode; an existing queue whose mode is wider is refused.
  /// (Called `permissions` before 0.2.)
  mode_t mode = kDefaultMode;
  bool nonblocking = false;    ///< O_NONBLOCK on the descriptor (try_/_until forms work either way)
  MqAttributes attributes;     ///< used only when the queue is created
  /// Owners trusted besides this effective uid when opening a queue another process created.
  TrustPolicy trust{};
};

/// A POSIX message queue (mq_open), named "/name", with priorities and notification. Messages keep
/// their boundaries and come out highest priority first (FIFO within one priority); max_messages
/// and message_size are fixed at creation. native_handle() is a file descriptor that can be polled
/// (readable = a message is queued, writable = there is room).
/// Every blocking verb has three forms: send (blocks), try_send (never blocks: false when full),
/// send_until(deadline) (false when the deadline passed); a wall-clock jump can neither stretch
/// nor cut a wait. The queue lives until unlink(name) and the last close.
/// Thread and process safety: the kernel serialises every operation; one PosixMq may be used from
/// several threads, except that close()/notification setters must not race other calls.
class IPCKIT_API PosixMq {
 public:
  /// An empty PosixMq (valid() is false).
  PosixMq() = default;
  /// Closes the descriptor (errors ignored); a thread callback registered through it is not run
  /// afterwards. Never unlinks the name.
  ~PosixMq();
  /// Moves the descriptor and its notification callback; \p other is left empty.
  PosixMq(PosixMq&& other) noexcept;
  /// Closes this one's queue, then takes over \p other's; \p other is left empty.
  PosixMq& operator=(PosixMq&& other) noexcept;
  /// Not copyable.
  PosixMq(const PosixMq&) = delete;
  /// Not copyable.
  PosixMq& operator=(const PosixMq&) = delete;

  /// Opens or creates "/name" (see MqOptions). Creation is O_EXCL (kOpenOrCreate retries the race),
  /// then fchmod so the umask cannot narrow options.mode. Errors name the limit hit. A queue this
  /// call opens rather than creates is checked first (fstat on the descriptor): owned by another
  /// user not in options.trust, or with a mode wider than options.mode, it is closed again
  /// and the call fails with kUntrusted naming the owner and the mode.
  [[nodiscard]] static Result<PosixMq> open(std::string_view name, const MqOptions& options = {});
  /// mq_unlink: removes the name; processes that have it open keep using it.
  [[nodiscard]] static Result<void> unlink(std::string_view name);
  /// Names ("/name") of the queues on this system. Reads /dev/mqueue when an mqueue filesystem is
  /// mounted there; otherwise, as root, mounts one in a private mount namespace of a short-lived
  /// child; otherwise fails with the command that mounts it.
  [[nodiscard]] static Result<std::vector<std::string>> list();

  /// The queue descriptor, for poll/epoll (readable = a message is queued, writable = there is room).
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// The queue's name ("/name").
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True when it holds a queue descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }

  /// mq_getattr: the queue's sizes, its current message count and the O_NONBLOCK flag.
  [[nodiscard]] Result<MqState> state() const;
  /// mq_setattr: sets or clears O_NONBLOCK (the only attribute that can change).
  [[nodiscard]] Result<void> set_nonblocking(bool on);

  /// Sends one message (at most message_size bytes; priority < kMqPriorityLimit). Blocks while full.
  [[nodiscard]] Result<void> send(std::span<const std::byte> data, unsigned priority = 0);
  /// Never blocks: kOk when sent, kWouldBlock when the queue is full.
  [[nodiscard]] Result<IoStatus> try_send(std::span<const std::byte> data, unsigned priority = 0);
  /// Waits at most until \p deadline: kOk when sent, kTimedOut when the deadline passed with the queue still full.
  [[nodiscard]] Result<IoStatus> send_until(std::span<const std::byte> data, unsigned priority, Deadline deadline);

  /// Receives the oldest message of the highest priority into a buffer sized from mq_getattr (so
  /// EMSGSIZE cannot happen). Blocks while empty.
  [[nodiscard]] Result<MqMessage> receive();
  /// Never blocks: the message, or no message with kWouldBlock when empty.
  [[nodiscard]] Result<Attempt<MqMessage>> try_receive();
  /// Waits at most until \p deadline: the message, or no message with kTimedOut when the deadline
  /// passed with the queue still empty.
  [[nodiscard]] Result<Attempt<MqMessage>> receive_until(Deadline deadline);

  /// Notification by signal (mq_notify with SIGEV_SIGNAL): sends \p signo with sigval \p value
  /// (si_value.sival_int) to this process. Block the signal and read it with sigwaitinfo/signalfd,
  /// or install a handler yourself (ipckit never changes dispositions).
  ///
  /// Notification (mq_notify): one registration per queue, for one process, fired once when a
  /// message arrives on an EMPTY queue (not when messages are added to a non-empty one), and only if
  /// no process is blocked in receive at that moment (the message then goes to that receiver and the
  /// registration stays). After firing the registration is gone: register again, then drain the
  /// queue (a message arriving in between would otherwise be missed). A second process registering
  /// gets EBUSY ("another process is registered"). Registering again from this process replaces the
  /// old registration; close() removes it.
  [[nodiscard]] Result<void> notify_signal(int signo, int value);
  /// Notification by thread: glibc runs \p callback in a new thread (SIGEV_THREAD). The callback must
  /// not touch this PosixMq after it is destroyed; a callback that fires after close() is not run.
  /// The registration rules are those of notify_signal().
  [[nodiscard]] Result<void> notify_thread(std::function<void()> callback);
  /// mq_notify(NULL): removes this process's registration (no-op if none).
  [[nodiscard]] Result<void> cancel_notification();

  /// Closes now (removing this process's notification registration).
  [[nodiscard]] Result<void> close();

 private:
  PosixMq(UniqueFd fd, std::string name, long message_size);
  void forget_thread_callback() noexcept;

  UniqueFd fd_;
  std::string name_;
  long message_size_ = 0;       // fixed at creation: cached for receive buffers
  unsigned long callback_id_ = 0;  // registry key of a SIGEV_THREAD callback (0 = none)
};

}  // namespace ipckit
