// SPDX-License-Identifier: Apache-2.0
// popen()/pclose() without a shell: read a command's output ("r"), then feed a command's input
// ("w"). Subprocess::open_read/open_write take an argv, so no quoting or injection problems; a shell
// runs only when asked for (Subprocess::shell).
#include <cstdio>
#include <string>

#include "ipckit/stream/subprocess.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto reader = ipckit::Subprocess::open_read({"uname", "-s"});
  if (!reader) {
    std::fprintf(stderr, "%s\n", reader.error().str().c_str());
    return 1;
  }
  std::printf("[parent] popen(\"uname -s\", \"r\"): uname runs with its stdout on a pipe to me (pid %d)\n",
              static_cast<int>(reader->pid()));
  auto text = reader->out()->read_to_end();
  auto st = reader->wait();
  if (!text || !st) return 1;
  std::printf("[parent] read its output to end of stream: %s", text->c_str());
  std::printf("[parent] pclose(): %s\n", st->describe().c_str());

  std::fflush(stdout);  // wc writes to the same stdout: our lines first
  auto writer = ipckit::Subprocess::open_write({"wc", "-w"});
  if (!writer) return 1;
  std::printf("[parent] popen(\"wc -w\", \"w\"): wc reads its stdin from a pipe I write (pid %d); its output goes "
              "straight to our stdout:\n",
              static_cast<int>(writer->pid()));
  auto wrote = writer->in()->write_all(std::string_view("one two three four five\n"));
  if (!wrote || !wrote->ok()) return 1;
  auto wst = writer->wait();  // closes stdin first, so wc sees end of stream and counts
  if (!wst) return 1;
  std::printf("[parent] pclose(): closed the pipe, wc counted and %s\n", wst->describe().c_str());
  return st->success() && wst->success() ? 0 : 1;
}
