// SPDX-License-Identifier: Apache-2.0
// A POSIX message queue between a parent and a child: priorities decide the order, the queue is
// removed at the end. (The tutorials' demo, with 0600, error handling and cleanup.)
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/message/posix_mq.hpp"

int main() {
  const std::string name = "/ipckit-example-mq-" + std::to_string(::getpid());
  ipckit::MqOptions create;
  create.open = ipckit::OpenMode::kCreateExclusive;
  create.attributes = {8, 128};  // at most 8 messages of 128 bytes
  auto queue = ipckit::PosixMq::open(name, create);
  if (!queue) {
    std::fprintf(stderr, "%s\n", queue.error().str().c_str());
    return 1;
  }

  const pid_t pid = ::fork();
  if (pid == 0) {  // the sensor: sends readings, an alarm with a high priority
    ipckit::MqOptions existing;
    existing.open = ipckit::OpenMode::kOpenExisting;
    auto out = ipckit::PosixMq::open(name, existing);
    bool ok = out.has_value();
    ok = ok && out->send(ipckit::as_bytes("temperature 21.5"), 1).has_value();
    ok = ok && out->send(ipckit::as_bytes("humidity 40%"), 1).has_value();
    ok = ok && out->send(ipckit::as_bytes("ALARM: door open"), 9).has_value();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);  // all three are queued now: the alarm comes out first

  int received = 0;
  while (auto m = queue->try_receive()) {
    if (!m->has_value()) break;  // empty
    std::printf("priority %u: %s\n", (*m)->priority, (*m)->data.c_str());
    ++received;
  }
  (void)ipckit::PosixMq::unlink(name);
  return received == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
