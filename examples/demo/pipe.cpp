// SPDX-License-Identifier: Apache-2.0
// A pipe between a parent and its forked child, the tutorials' first example: the parent writes a
// string, the child reads it. Each side closes the end it does not use, so the parent's close is the
// child's end of stream; the child reads to end of stream (one read() may return only part), and the
// parent collects the child's exit status instead of discarding it.
#include <cstdio>
#include <string>
#include <string_view>

#include "ipckit/stream/pipe.hpp"
#include "narrate.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto pipe = ipckit::Pipe::create();  // pipe2(O_CLOEXEC)
  if (!pipe) {
    std::fprintf(stderr, "%s\n", pipe.error().str().c_str());
    return 1;
  }
  constexpr std::string_view kMessage = "Hello from parent via pipe!";
  std::printf("[parent %d] pipe2(O_CLOEXEC): a read end and a write end; forking a reader\n", demo::me());
  const pid_t pid = demo::fork_child([&]() -> int {
    (void)pipe->writer.close();  // or the child's own write end would keep the pipe from ever ending
    auto text = pipe->reader.read_to_end();
    if (!text) {
      std::fprintf(stderr, "%s\n", text.error().str().c_str());
      return 1;
    }
    std::printf("[child %d] read to end of stream: %zu bytes: \"%s\"\n", demo::me(), text->size(), text->c_str());
    return *text == kMessage ? 0 : 2;
  });
  (void)pipe->reader.close();
  // Two writes: a byte stream may deliver them to the reader as one run of bytes.
  auto first = pipe->writer.write_all(kMessage.substr(0, 10));
  auto second = pipe->writer.write_all(kMessage.substr(10));
  const bool wrote = first && first->ok() && second && second->ok();
  std::printf("[parent %d] wrote \"%.*s\" in two write()s, closed the write end (the reader's end of stream)\n",
              demo::me(), static_cast<int>(kMessage.size()), kMessage.data());
  (void)pipe->writer.close();
  const bool child = demo::child_ok(pid);
  std::printf("[parent %d] the child exited %s\n", demo::me(), child ? "0" : "with a failure");
  return wrote && child ? 0 : 1;
}
