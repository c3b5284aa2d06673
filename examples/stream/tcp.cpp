// SPDX-License-Identifier: Apache-2.0
// A TCP server on a kernel-chosen loopback port and a forked client with TCP_NODELAY.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/stream/tcp.hpp"

int main() {
  using ipckit::Tcp;
  auto listener = ipckit::or_throw(Tcp::listen("127.0.0.1", 0));
  const std::uint16_t port = ipckit::or_throw(listener.local_address()).port();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ipckit::TcpOptions options;
    options.nodelay = true;
    auto s = Tcp::connect_until("127.0.0.1", port, ipckit::deadline_after(std::chrono::seconds(5)), options);
    if (!s || !*s || !(*s)->write_all("hello over tcp")) ::_exit(1);
    ::_exit(0);
  }
  auto conn = ipckit::or_throw(listener.accept());
  const std::string got = ipckit::or_throw(conn.read_to_end());
  std::printf("port %u: %s\n", port, got.c_str());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return (got == "hello over tcp" && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
