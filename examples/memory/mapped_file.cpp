// SPDX-License-Identifier: Apache-2.0
// A file mapped shared: writes go to the file (msync makes them durable), resize grows it with
// posix_fallocate and remaps.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/memory/mapped_file.hpp"

int main() {
  const std::string path = "/tmp/ipckit.example." + std::to_string(::getpid());
  int rc = 1;
  {
    auto file = ipckit::MappedFile::create(path, 4096);
    if (!file) {
      std::fprintf(stderr, "%s\n", file.error().str().c_str());
      return 1;
    }
    std::snprintf(static_cast<char*>(file->data()), file->size(), "%s", "first page");  // bounded by the mapping
    if (file->sync() && file->resize(1 << 20)) {
      std::snprintf(static_cast<char*>(file->data()) + (1 << 20) - 5, 5, "%s", "end");  // the last 5 bytes
      auto again = ipckit::MappedFile::open(path, {ipckit::Access::kReadOnly});
      if (again) {
        std::printf("reopened %zu bytes: \"%s\" ... \"%s\"\n", again->size(), static_cast<const char*>(again->data()),
                    static_cast<const char*>(again->data()) + (1 << 20) - 5);
        rc = again->size() == (1u << 20) ? 0 : 1;
      }
    }
  }
  ::unlink(path.c_str());
  return rc;
}
