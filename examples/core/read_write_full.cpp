// SPDX-License-Identifier: Apache-2.0
// Full reads and writes over a pipe between two processes, with errors as values.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/core/core.hpp"

int main() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 1;
  ipckit::UniqueFd reader(fds[0]), writer(fds[1]);

  const pid_t pid = ::fork();
  if (pid == 0) {
    reader.reset();
    const std::string message(200'000, 'z');  // larger than the pipe: write_full loops
    auto r = ipckit::write_full(writer.get(), ipckit::as_bytes(message));
    ::_exit(r && r->ok() ? 0 : 1);
  }
  writer.reset();  // so the reader sees end of stream when the child is done

  auto all = ipckit::read_all(reader.get(), "pipe from child");
  if (!all) {
    std::fprintf(stderr, "%s\n", all.error().str().c_str());
    return 1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("received %zu bytes from child (exit %d)\n", all->size(), WEXITSTATUS(status));
  return all->size() == 200'000 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
