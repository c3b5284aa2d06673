// SPDX-License-Identifier: Apache-2.0
// POSIX message queue: priorities and notification. The parent creates the queue and registers for
// notification (mq_notify, by thread); a child opens the queue by name, is refused its own
// registration (only one process may be registered), and sends three messages with priorities
// 1, 9 and 5. The notification fires once (empty -> non-empty), and the parent receives the
// messages highest priority first. Then the same by signal (SIGEV_SIGNAL), as the tutorials show it,
// but with a handler installed first: SIGUSR1's default action would kill the process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <future>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/message/posix_mq.hpp"
#include "ipckit/signal/signal_handler.hpp"

using namespace std::chrono_literals;

static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// The signal handler does only async-signal-safe work: store the value, write one byte to a pipe.
static std::atomic<int> g_signal_value{-1};
static_assert(std::atomic<int>::is_always_lock_free);
static int g_wake_fd = -1;
static void on_notification(int, siginfo_t* info, void*) {
  g_signal_value.store(info->si_value.sival_int, std::memory_order_relaxed);  // read after the pipe byte
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(g_wake_fd, &byte, 1);
}

// Part two: notification by signal. Returns true when the signal arrived with its value and the
// message was received.
static bool signal_notification(ipckit::PosixMq& mq, const std::string& name) {
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return false;
  g_wake_fd = wake[1];
  auto handler = ipckit::ScopedSignalHandler::install(SIGUSR1, on_notification, ipckit::Restart::kYes);
  if (!handler) {
    std::fprintf(stderr, "%s\n", handler.error().str().c_str());
    return false;
  }
  if (auto r = mq.notify_signal(SIGUSR1, 7); !r) {
    std::fprintf(stderr, "%s\n", r.error().str().c_str());
    return false;
  }
  std::printf("[parent] sigaction(SIGUSR1) installed first, then mq_notify(SIGEV_SIGNAL, SIGUSR1, value 7)\n");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ipckit::MqOptions o;
    o.open = ipckit::OpenMode::kOpenExisting;
    o.access = O_WRONLY;
    auto tx = ipckit::PosixMq::open(name, o);
    if (!tx || !tx->send(bytes("wake up"), 3)) ::_exit(2);
    std::printf("[child %d] mq_send(\"wake up\", priority 3) to the empty queue\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    ::_exit(0);
  }
  pollfd p{wake[0], POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, 5000);  // the handler's byte; EINTR when the signal lands during poll
  } while (ready < 0 && errno == EINTR);
  char byte = 0;
  const bool arrived = ready == 1 && ::read(wake[0], &byte, 1) == 1;
  std::printf("[parent] SIGUSR1 %s, si_value %d; the handler ran instead of the default action (terminate)\n",
              arrived ? "arrived" : "did NOT arrive", g_signal_value.load(std::memory_order_relaxed));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto m = mq.receive();
  if (m) std::printf("[parent] mq_receive: priority %u, \"%s\"\n", m->priority, m->data.c_str());
  ::close(wake[0]);
  ::close(wake[1]);
  g_wake_fd = -1;
  return arrived && g_signal_value.load(std::memory_order_relaxed) == 7 && m && m->data == "wake up" &&
         WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string name = "/ipckit.demo.mq." + std::to_string(::getpid());
  ipckit::MqOptions options;
  options.open = ipckit::OpenMode::kCreateExclusive;
  options.attributes = {4, 128};  // small: RLIMIT_MSGQUEUE is per user
  auto mq = ipckit::PosixMq::open(name, options);
  if (!mq) {
    std::fprintf(stderr, "%s\n", mq.error().str().c_str());
    return 1;
  }
  std::printf("[parent] mq_open(%s, O_CREAT|O_EXCL, 0600, maxmsg 4, msgsize 128)\n", name.c_str());
  struct Unlink {  // the name goes on every path out of main, also after a failed step
    const std::string& name;
    ~Unlink() { (void)ipckit::PosixMq::unlink(name); }
  } unlink_at_exit{name};
  std::promise<void> notified;
  auto fired = notified.get_future();
  if (!mq->notify_thread([&notified] { notified.set_value(); })) return 1;
  std::printf("[parent] mq_notify(SIGEV_THREAD): call me when a message arrives on the empty queue\n");

  const pid_t pid = ::fork();
  if (pid == 0) {
    ipckit::MqOptions o;
    o.open = ipckit::OpenMode::kOpenExisting;
    o.access = O_WRONLY;
    auto tx = ipckit::PosixMq::open(name, o);
    if (!tx) ::_exit(2);
    auto busy = tx->notify_signal(SIGUSR1, 0);
    std::printf("[child %d] opened the queue by name; my own mq_notify: %s\n", static_cast<int>(::getpid()),
                busy ? "accepted (unexpected)" : busy.error().str().c_str());
    const std::pair<std::string_view, unsigned> msgs[] = {
        {"low: log line", 1}, {"URGENT: stop", 9}, {"normal: job", 5}};
    for (auto [text, prio] : msgs) {
      if (!tx->send(bytes(text), prio)) ::_exit(3);
      std::printf("[child %d] mq_send(\"%.*s\", priority %u)\n", static_cast<int>(::getpid()),
                  static_cast<int>(text.size()), text.data(), prio);
    }
    ::_exit(busy ? 4 : 0);
  }
  const bool got_notice = fired.wait_for(5s) == std::future_status::ready;
  std::printf("[parent] notification %s (it fires once; re-register to get another)\n",
              got_notice ? "arrived in a new thread" : "did NOT arrive");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string order;
  for (int i = 0; i < 3; ++i) {
    auto m = mq->receive();
    if (!m) return 1;
    std::printf("[parent] mq_receive: priority %u, %zu bytes: \"%s\"\n", m->priority, m->data.size(), m->data.c_str());
    order += std::to_string(m->priority);
  }
  const bool by_signal = signal_notification(*mq, name);
  (void)mq->close();
  std::printf("[parent] mq_unlink(%s) as main returns\n", name.c_str());
  return got_notice && by_signal && order == "951" && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
