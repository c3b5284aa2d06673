// SPDX-License-Identifier: Apache-2.0
// A System V message queue used as a priority queue: the receiver asks for the lowest type first
// (type -10: lowest type <= 10). The queue is removed (IPC_RMID) at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "ipckit/core/io.hpp"
#include "ipckit/message/sysv_mq.hpp"

int main() {
  auto queue = ipckit::SysvMq::open(IPC_PRIVATE, ipckit::OpenMode::kCreateExclusive);
  if (!queue) {
    std::fprintf(stderr, "%s\n", queue.error().str().c_str());
    return 1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {  // the child inherits the id of the private queue
    bool ok = queue->send(5, ipckit::as_bytes("routine job")).has_value();
    ok = ok && queue->send(1, ipckit::as_bytes("urgent job")).has_value();
    ok = ok && queue->send(3, ipckit::as_bytes("normal job")).has_value();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  int received = 0;
  for (;;) {
    auto m = queue->try_receive(-10);
    if (!m) {
      std::fprintf(stderr, "%s\n", m.error().str().c_str());
      break;
    }
    if (!m->has_value()) break;  // no message of type <= 10 left
    std::printf("type %ld: %s\n", (*m)->type, (*m)->data.c_str());
    ++received;
  }
  const bool removed = queue->remove().has_value();
  return received == 3 && removed && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
