// SPDX-License-Identifier: Apache-2.0
// POSIX message queue: priorities and notification. The parent creates the queue and registers for
// notification (mq_notify, by thread); a child opens the queue by name, is refused its own
// registration (only one process may be registered), and sends three messages with priorities
// 1, 9 and 5. The notification fires once (empty -> non-empty), and the parent receives the
// messages highest priority first.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/message/posix_mq.hpp"

using namespace std::chrono_literals;

static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string name = "/ipckit.demo.mq." + std::to_string(::getpid());
  ipckit::MqOptions options;
  options.mode = ipckit::OpenMode::kCreateExclusive;
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
  ::waitpid(pid, &status, 0);
  std::string order;
  for (int i = 0; i < 3; ++i) {
    auto m = mq->receive();
    if (!m) return 1;
    std::printf("[parent] mq_receive: priority %u, %zu bytes: \"%s\"\n", m->priority, m->data.size(), m->data.c_str());
    order += std::to_string(m->priority);
  }
  (void)mq->close();
  std::printf("[parent] mq_unlink(%s) as main returns\n", name.c_str());
  return got_notice && order == "951" && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
