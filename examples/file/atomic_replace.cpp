// SPDX-License-Identifier: Apache-2.0
// Files as IPC: publish a config atomically (readers see old or new, never half) and let several
// processes append to one log without interleaving.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/file/append_log.hpp"
#include "ipckit/file/atomic_file.hpp"

int main() {
  const std::string dir = "/tmp/ipckit.example." + std::to_string(::getpid());
  std::filesystem::create_directory(dir);
  const std::string config = dir + "/config.json";
  const std::string logpath = dir + "/events.log";

  bool ok = ipckit::atomic_replace(config, ipckit::as_bytes(std::string(R"({"workers": 4})"))).has_value();
  ok = ok && ipckit::atomic_replace(config, ipckit::as_bytes(std::string(R"({"workers": 8})"))).has_value();
  auto text = ipckit::read_file(config);
  ok = ok && text && *text == R"({"workers": 8})";

  for (int w = 0; w < 3; ++w) {
    if (::fork() == 0) {
      auto log = ipckit::AppendLog::open(logpath, ipckit::OpenMode::kOpenOrCreate);
      for (int i = 0; log && i < 5; ++i) (void)log->append("writer " + std::to_string(w) + " event " + std::to_string(i));
      ::_exit(log ? 0 : 1);
    }
  }
  for (int w = 0; w < 3; ++w) ::wait(nullptr);
  auto contents = ipckit::read_log(logpath);
  ok = ok && contents && contents->records.size() == 15 && !contents->torn_tail;
  std::printf("config: %s\nlog: %zu whole records\n", text ? text->c_str() : "?", contents ? contents->records.size() : 0);
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
