// SPDX-License-Identifier: Apache-2.0
// A UNIX stream socket server and a forked client: echo, SO_PEERCRED, then remove the socket file.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/stream/unix_stream.hpp"

int main() {
  using ipckit::UnixStream;
  const std::string path = "/tmp/ipckit.example.sock." + std::to_string(::getpid());
  auto listener = ipckit::or_throw(UnixStream::listen(path));  // a 0600 socket file
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto s = UnixStream::connect(path);
    if (!s || !s->write_all("ping") || !s->shutdown(ipckit::ShutdownHow::kWrite)) ::_exit(1);
    auto reply = s->read_to_end();
    ::_exit(reply && *reply == "pong" ? 0 : 1);
  }
  auto conn = ipckit::or_throw(listener.accept());
  const auto cred = ipckit::or_throw(conn.peer_credentials());
  const std::string got = ipckit::or_throw(conn.read_to_end());
  std::printf("%s from pid %d (uid %u)\n", got.c_str(), static_cast<int>(cred.pid), cred.uid);
  (void)ipckit::expect_ok(conn.write_all("pong"));  // throws if the client went away before the reply
  (void)conn.close();
  int status = 0;
  ::waitpid(pid, &status, 0);
  ipckit::or_throw(listener.close_and_unlink());
  return (got == "ping" && cred.pid == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
