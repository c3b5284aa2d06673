// SPDX-License-Identifier: Apache-2.0
// The tutorials' pipe to a child: a program whose stdin and stdout are pipes to its parent. The
// child's descriptors 0 and 1 are dup2()ed onto the pipes' ends before exec (Subprocess does it),
// the parent writes the input, closes its end (end of stream for the child), and reads the output
// until the child closes its side.
#include <cstdio>
#include <string>

#include "ipckit/stream/subprocess.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  ipckit::SubprocessOptions options;
  options.in = ipckit::Stdio::pipe();
  options.out = ipckit::Stdio::pipe();
  auto child = ipckit::Subprocess::spawn({"tr", "a-z", "A-Z"}, options);
  if (!child) {
    std::fprintf(stderr, "%s\n", child.error().str().c_str());
    return 1;
  }
  std::printf("[parent] pipe2() twice, fork(); the child dup2()ed the read end of one onto its stdin and the write "
              "end of the other onto its stdout, then exec'ed tr a-z A-Z (pid %d)\n",
              static_cast<int>(child->pid()));
  const std::string input = "hello through a pipe\n";
  auto wrote = child->in()->write_all(input);
  if (!wrote || !wrote->ok()) return 1;
  std::printf("[parent] wrote %zu bytes into the pipe; the child's stdin is its read end (dup2)\n", input.size());
  (void)child->in()->close();
  std::printf("[parent] closed my write end: the child's read() returns 0 (end of stream) after the data\n");
  auto out = child->out()->read_to_end();
  if (!out) {
    std::fprintf(stderr, "%s\n", out.error().str().c_str());
    return 1;
  }
  std::printf("[parent] read %zu bytes from the child's stdout pipe until end of stream: %s", out->size(),
              out->c_str());
  auto status = child->wait();
  if (!status) return 1;
  std::printf("[parent] waitpid(): the child %s\n", status->describe().c_str());
  return status->success() && *out == "HELLO THROUGH A PIPE\n" ? 0 : 1;
}
