// SPDX-License-Identifier: Apache-2.0
// Hands a memfd to a child over a socketpair; the child writes into it and the parent reads what
// the child wrote. The memfd is created after fork(), so the socket is the only way it can arrive.
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "ipckit/core/io.hpp"
#include "ipckit/message/fd_passing.hpp"

int main() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return 1;
  ipckit::UniqueFd parent(sv[0]), child(sv[1]);

  const pid_t pid = ::fork();
  if (pid == 0) {
    parent.reset();
    std::array<std::byte, 16> buf{};
    auto msg = ipckit::receive_fds(child.get(), buf, 1);
    if (!msg || msg->fds.size() != 1) ::_exit(1);
    const char text[] = "written by the child";
    ::_exit(::pwrite(msg->fds[0].get(), text, sizeof text, 0) == sizeof text ? 0 : 2);
  }
  child.reset();

  ipckit::UniqueFd memfd(::memfd_create("ipckit-example", MFD_CLOEXEC));
  const int fds[] = {memfd.get()};
  auto sent = ipckit::send_fds(parent.get(), ipckit::as_bytes("here is a memfd"), fds);
  if (!sent) {
    std::fprintf(stderr, "%s\n", sent.error().str().c_str());
    return 1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  char text[64] = {};
  if (::pread(memfd.get(), text, sizeof text - 1, 0) <= 0) return 1;
  std::printf("memfd now holds: %s\n", text);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
