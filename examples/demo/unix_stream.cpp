// SPDX-License-Identifier: Apache-2.0
// A UNIX stream socket server and its clients: the server listens on a path (a socket file, 0600),
// accepts two client processes in turn, asks the kernel who each one is (SO_PEERCRED: pid, uid, gid),
// and answers it. The socket file outlives the listening socket, so the server removes it
// explicitly when it is done.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ipckit/stream/unix_stream.hpp"
#include "narrate.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string path = "/tmp/ipckit.demo.unix_stream." + std::to_string(::getpid()) + ".sock";
  auto listener = ipckit::UnixStream::listen(path);
  if (!listener) {
    std::fprintf(stderr, "%s\n", listener.error().str().c_str());
    return 1;
  }
  struct stat st {};
  ::stat(path.c_str(), &st);
  std::printf("[server %d] listening on %s (a socket file, mode %03o)\n", demo::me(), path.c_str(),
              static_cast<unsigned>(st.st_mode & 0777));

  std::vector<pid_t> clients;
  for (int n = 1; n <= 2; ++n) {
    clients.push_back(demo::fork_child([&, n]() -> int {
      auto s = ipckit::UnixStream::connect_until(path, ipckit::deadline_after(std::chrono::seconds(5)));
      if (!s || !*s) return 1;
      const std::string hello = "client " + std::to_string(n) + " asks for work";
      if (!(*s)->write_all(hello) || !(*s)->shutdown(ipckit::ShutdownHow::kWrite)) return 2;
      auto reply = (*s)->read_to_end();
      if (!reply) return 3;
      std::printf("[client %d] sent \"%s\"; the server answered \"%s\"\n", demo::me(), hello.c_str(), reply->c_str());
      return 0;
    }));
  }
  bool ok = true;
  for (int n = 0; n < 2 && ok; ++n) {
    auto conn = listener->accept_until(ipckit::deadline_after(std::chrono::seconds(10)));
    if (!conn || !*conn) {
      ok = false;
      break;
    }
    auto who = (*conn)->peer_credentials();  // from the kernel: the peer cannot lie about it
    auto request = (*conn)->read_to_end();
    if (!who || !request) {
      ok = false;
      break;
    }
    std::printf("[server %d] accepted pid %d (uid %u, gid %u): \"%s\"\n", demo::me(), static_cast<int>(who->pid),
                static_cast<unsigned>(who->uid), static_cast<unsigned>(who->gid), request->c_str());
    ok = (*conn)->write_all("job " + std::to_string(n + 1) + " for pid " + std::to_string(who->pid)).has_value();
  }
  if (!ok) {
    for (const pid_t pid : clients) ::kill(pid, SIGTERM);  // a client never served would wait for its answer
  }
  for (const pid_t pid : clients) ok = demo::child_ok(pid) && ok;
  if (auto closed = listener->close_and_unlink(); !closed) {
    std::fprintf(stderr, "%s\n", closed.error().str().c_str());
    return 1;
  }
  std::printf("[server %d] closed the listener and removed %s (it would otherwise stay and block a new bind)\n",
              demo::me(), path.c_str());
  return ok ? 0 : 1;
}
