// SPDX-License-Identifier: Apache-2.0
// A FIFO: create it 0600, a child opens it for writing, the parent for reading (each open waits for
// the other side), then remove it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/stream/fifo.hpp"

int main() {
  const std::string path = "/tmp/ipckit.example.fifo." + std::to_string(::getpid());
  ipckit::or_throw(ipckit::Fifo::create(path));
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto writer = ipckit::Fifo::open_writer(path);  // blocks until the reader opens
    if (!writer || !writer->write_all("hello through " + path + "\n")) ::_exit(1);
    ::_exit(0);
  }
  auto reader = ipckit::Fifo::open_reader(path);  // blocks until the writer opens
  std::string text = reader ? reader->read_to_end().value_or("") : "";
  std::printf("%s", text.c_str());
  int status = 0;
  ::waitpid(pid, &status, 0);
  ipckit::or_throw(ipckit::Fifo::remove(path));
  return (reader && !text.empty() && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
