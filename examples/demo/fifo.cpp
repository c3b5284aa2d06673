// SPDX-License-Identifier: Apache-2.0
// A FIFO between two unrelated processes: the writer creates /tmp/ipckit.demo.fifo.PID and starts a
// separate program (this executable re-run with --reader PATH) that shares no descriptor with it;
// each opens the FIFO by path, and each open blocks until the other side opens too.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/subprocess.hpp"

static int reader(const char* path) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("[reader %d] a separate program: opening %s for reading (blocks until a writer opens it)\n",
              static_cast<int>(::getpid()), path);
  auto in = ipckit::Fifo::open_reader(path);
  if (!in) {
    std::fprintf(stderr, "%s\n", in.error().str().c_str());
    return 1;
  }
  auto text = in->read_to_end();
  if (!text) return 1;
  std::printf("[reader %d] read %zu bytes until the writer closed: %s", static_cast<int>(::getpid()), text->size(),
              text->c_str());
  return *text == "temperature=23.5\nhumidity=65.0\n" ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--reader") == 0) return reader(argv[2]);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string path = "/tmp/ipckit.demo.fifo." + std::to_string(::getpid());
  if (auto made = ipckit::Fifo::create(path); !made) {  // mkfifo, 0600, O_EXCL semantics
    std::fprintf(stderr, "%s\n", made.error().str().c_str());
    return 1;
  }
  std::printf("[writer] mkfifo(%s, 0600): a name in the file system, no data stored there\n", path.c_str());
  int rc = 1;
  {
    auto other = ipckit::Subprocess::spawn({"/proc/self/exe", "--reader", path});
    if (other) {
      std::printf("[writer] started an unrelated reader program (pid %d); opening for writing (blocks until it "
                  "opens for reading)\n",
                  static_cast<int>(other->pid()));
      // Bounded: a reader that died before opening (its output cut by `| head`) must not hang us.
      auto opened = ipckit::Fifo::open_writer_until(path, ipckit::deadline_after(std::chrono::seconds(10)));
      if (opened && !*opened) std::fprintf(stderr, "[writer] no reader opened %s within 10 s\n", path.c_str());
      if (opened && *opened) {
        ipckit::PipeWriter& out = **opened;
        std::printf("[writer] both ends are open: writing two lines, then closing (the reader sees end of stream)\n");
        auto w = out.write_all(std::string_view("temperature=23.5\nhumidity=65.0\n"));
        (void)out.close();
        auto st = other->wait();
        rc = (w && w->ok() && st && st->success()) ? 0 : 1;
        if (st) std::printf("[writer] reader %s\n", st->describe().c_str());
      }
    }
  }
  (void)ipckit::Fifo::remove(path);
  std::printf("[writer] removed %s\n", path.c_str());
  return rc;
}
