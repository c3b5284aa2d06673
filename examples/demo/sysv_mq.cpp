// SPDX-License-Identifier: Apache-2.0
// System V message queue: typed messages. A child sends messages of types 3, 1, 2 and 1; the
// parent picks them by type: exactly type 2 first, then "the lowest type <= 3" (msgtyp < 0, which
// works as a priority), then whatever is first (msgtyp 0). The queue is removed with IPC_RMID.
#include <sys/ipc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/message/sysv_mq.hpp"

static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto q = ipckit::SysvMq::open(IPC_PRIVATE, ipckit::OpenMode::kCreateExclusive);
  if (!q) {
    std::fprintf(stderr, "%s\n", q.error().str().c_str());
    return 1;
  }
  std::printf("[parent] msgget(IPC_PRIVATE, 0600) -> queue id %d\n", q->id());
  struct Remove {  // IPC_RMID on every path out of main, also after a failed step
    ipckit::SysvMq& q;
    ~Remove() {
      if (q.valid()) (void)q.remove();
    }
  } remove_at_exit{*q};
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto tx = ipckit::SysvMq::from_id(q->id());
    const std::pair<long, std::string_view> msgs[] = {{3, "bulk data"}, {1, "control: pause"}, {2, "reply #7"},
                                                      {1, "control: resume"}};
    for (auto [type, text] : msgs) {
      if (!tx.send(type, bytes(text))) ::_exit(2);
      std::printf("[child %d] msgsnd(type %ld, \"%.*s\")\n", static_cast<int>(::getpid()), type,
                  static_cast<int>(text.size()), text.data());
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string order;
  const std::pair<long, const char*> asks[] = {{2, "exactly type 2"},
                                               {-3, "lowest type <= 3"},
                                               {-3, "lowest type <= 3"},
                                               {0, "the first in the queue"}};
  for (auto [type, what] : asks) {
    auto m = q->receive(type);
    if (!m) {
      std::fprintf(stderr, "%s\n", m.error().str().c_str());
      return 1;
    }
    std::printf("[parent] msgrcv(msgtyp %ld: %s) -> type %ld: \"%s\"\n", type, what, m->type, m->data.c_str());
    order += std::to_string(m->type);
  }
  const int id = q->id();
  const bool removed = q->remove().has_value();
  std::printf("[parent] msgctl(IPC_RMID): queue %d %s\n", id, removed ? "removed" : "NOT removed");
  return removed && order == "2113" && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
