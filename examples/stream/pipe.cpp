// SPDX-License-Identifier: Apache-2.0
// A pipe between a parent and a forked child: the child writes records, the parent reads them to
// end of stream. Build and run: example_stream_pipe.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/stream/pipe.hpp"

int main() {
  auto pipe = ipckit::or_throw(ipckit::Pipe::create());
  std::printf("pipe capacity: %zu bytes, atomic writes up to %zu bytes\n",
              ipckit::or_throw(pipe.reader.capacity()), ipckit::kPipeAtomicWrite);
  const pid_t pid = ::fork();
  if (pid == 0) {
    (void)pipe.reader.close();
    for (int i = 0; i < 3; ++i) {
      auto r = pipe.writer.write_all("record " + std::to_string(i) + "\n");
      if (!r || !r->ok()) ::_exit(1);
    }
    ::_exit(0);  // closing the last write end: the reader sees end of stream
  }
  (void)pipe.writer.close();
  const std::string all = ipckit::or_throw(pipe.reader.read_to_end());
  std::printf("%s", all.c_str());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0 && all == "record 0\nrecord 1\nrecord 2\n") ? 0 : 1;
}
