// SPDX-License-Identifier: Apache-2.0
// The tutorials' file mapping shared by two processes: the parent creates a file and maps it
// MAP_SHARED; a child opens the same path on its own (as an unrelated process would), maps it and
// writes into it; the parent sees the bytes through its own mapping without any read(), and msync
// makes them durable in the file. The file is removed at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/memory/mapped_file.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration lines reach a pipe in order, before fork
  const std::string path = "/tmp/ipckit.demo.mapped_file." + std::to_string(::getpid());
  int rc = 1;
  {
    auto file = ipckit::MappedFile::create(path, 4096);  // O_EXCL, 0600, posix_fallocate
    if (!file) {
      std::fprintf(stderr, "%s\n", file.error().str().c_str());
      return 1;
    }
    std::printf("[parent] created %s (4096 bytes, 0600, space reserved with posix_fallocate) and mapped it "
                "MAP_SHARED\n",
                path.c_str());
    const pid_t pid = ::fork();
    if (pid == 0) {
      auto mine = ipckit::MappedFile::open(path);  // its own open() and mmap(), not the inherited mapping
      if (!mine) {
        std::fprintf(stderr, "%s\n", mine.error().str().c_str());
        ::_exit(2);
      }
      std::printf("[child %d] opened %s by path and mapped its %zu bytes MAP_SHARED\n", static_cast<int>(::getpid()),
                  path.c_str(), mine->size());
      std::snprintf(static_cast<char*>(mine->data()), mine->size(), "%s", "written by the child through its mapping");
      if (!mine->sync()) ::_exit(3);
      std::printf("[child %d] stored a string with plain memory writes; msync(MS_SYNC) wrote the page to the file\n",
                  static_cast<int>(::getpid()));
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::printf("[parent] child exited; reading my own mapping (no read() call): \"%s\"\n",
                static_cast<const char*>(file->data()));
    auto again = ipckit::MappedFile::open(path, {ipckit::Access::kReadOnly});
    if (again) {
      std::printf("[parent] a fresh read-only mapping of the file shows the same bytes: \"%s\"\n",
                  static_cast<const char*>(again->data()));
      rc = (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
            std::strcmp(static_cast<const char*>(again->data()), "written by the child through its mapping") == 0)
               ? 0
               : 1;
    }
  }
  ::unlink(path.c_str());
  std::printf("[parent] removed %s\n", path.c_str());
  return rc;
}
