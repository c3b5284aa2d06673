// SPDX-License-Identifier: Apache-2.0
// socketpair(): two connected UNIX stream sockets, one kept by the parent and one by a forked child.
// Unlike a pipe it is bidirectional: the parent sends requests, the child answers on the same socket;
// shutdown(SHUT_WR) ends the requests while the answers can still come back.
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>

#include "ipckit/stream/unix_stream.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto pair = ipckit::UnixStream::pair();
  if (!pair) {
    std::fprintf(stderr, "%s\n", pair.error().str().c_str());
    return 1;
  }
  auto& [mine, theirs] = *pair;
  std::printf("[parent] socketpair(AF_UNIX, SOCK_STREAM): fds %d and %d, both ends read and write\n",
              mine.native_handle(), theirs.native_handle());
  const pid_t pid = ::fork();
  if (pid == 0) {
    (void)mine.close();
    auto request = theirs.read_to_end();  // until the parent's shutdown(SHUT_WR)
    if (!request) ::_exit(2);
    std::string reply = *request;
    for (char& c : reply) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::printf("[child %d] read \"%s\" until end of stream; answering \"%s\" on the same socket\n",
                static_cast<int>(::getpid()), request->c_str(), reply.c_str());
    auto w = theirs.write_all(reply);
    ::_exit(w && w->ok() ? 0 : 3);
  }
  (void)theirs.close();
  auto w = mine.write_all(std::string_view("ping over a socketpair"));
  if (!w || !w->ok() || !mine.shutdown(ipckit::ShutdownHow::kWrite)) return 1;
  std::printf("[parent] sent a request and shut down my writing side (the child sees end of stream)\n");
  auto answer = mine.read_to_end();
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!answer) return 1;
  std::printf("[parent] the answer came back on the same socket: \"%s\"\n", answer->c_str());
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && *answer == "PING OVER A SOCKETPAIR" ? 0 : 1;
}
