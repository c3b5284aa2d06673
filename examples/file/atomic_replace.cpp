// SPDX-License-Identifier: Apache-2.0
// Files as IPC: publish a config atomically (a reader sees the old or the new version, never half of
// one) while a reader process keeps reading it, and let several processes append to one log without
// interleaving their records. Every child's exit status is collected and checked (waitpid, not
// wait(NULL), which would throw a failure away).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ipckit/core/io.hpp"
#include "ipckit/file/append_log.hpp"
#include "ipckit/file/atomic_file.hpp"

namespace {

constexpr const char* kOld = R"({"workers": 4})";
constexpr const char* kNew = R"({"workers": 8})";

// Waits for `pid` (EINTR retried) and says whether it exited 0.
bool child_succeeded(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Forks a child that runs `body` and _exit()s with its result; -1 if fork failed.
template <class F>
pid_t fork_child(F body) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int rc = body();
    std::fflush(stdout);
    ::_exit(rc);
  }
  if (pid < 0) std::perror("fork");
  return pid;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string dir = "/tmp/ipckit.example.files." + std::to_string(::getpid());
  std::error_code ec;
  if (!std::filesystem::create_directory(dir, ec)) {
    std::fprintf(stderr, "mkdir(\"%s\"): %s\n", dir.c_str(), ec ? ec.message().c_str() : "exists");
    return 1;
  }
  const std::string config = dir + "/config.json";
  const std::string logpath = dir + "/events.log";
  bool ok = true;

  // 1. Atomic replace: write a temporary file, fsync, rename over the old one.
  if (auto r = ipckit::atomic_replace(config, ipckit::as_bytes(std::string(kOld))); !r) {
    std::fprintf(stderr, "%s\n", r.error().str().c_str());
    ok = false;
  }
  std::printf("[writer] published %s: %s\n", config.c_str(), kOld);
  int seen_old[2];  // the reader tells the writer it has read the old version: then the writer replaces it
  if (::pipe2(seen_old, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return 1;
  }
  const pid_t reader = fork_child([&]() -> int {
    ::close(seen_old[0]);
    // Reads the file many times while the writer replaces it: every read is one whole version.
    int old_seen = 0, new_seen = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (new_seen == 0) {
      if (std::chrono::steady_clock::now() > give_up) return 4;  // the writer never published

      auto text = ipckit::read_file(config);
      if (!text) return 2;
      if (*text == kOld) {
        if (++old_seen == 1) (void)!::write(seen_old[1], "x", 1);
      } else if (*text == kNew) {
        ++new_seen;
      } else {
        std::printf("[reader %d] read a torn version: %s\n", static_cast<int>(::getpid()), text->c_str());
        return 3;
      }
    }
    std::printf("[reader %d] read the file %d times while it was replaced: the old version %d times, then the new "
                "one; never a mix of the two\n",
                static_cast<int>(::getpid()), old_seen + new_seen, old_seen);
    return 0;
  });
  ::close(seen_old[1]);
  char byte = 0;
  const bool reader_started = reader > 0 && ::read(seen_old[0], &byte, 1) == 1;  // 0: the reader failed first
  ::close(seen_old[0]);
  if (reader_started) std::printf("[writer] the reader is reading the old version; replacing it now\n");
  if (auto r = ipckit::atomic_replace(config, ipckit::as_bytes(std::string(kNew))); !r) {
    std::fprintf(stderr, "%s\n", r.error().str().c_str());
    ok = false;
  }
  std::printf("[writer] replaced it atomically (temporary file, fsync, rename): %s\n", kNew);
  ok = reader > 0 && child_succeeded(reader) && ok;

  // 2. An append log: three processes append records at the end of one file at the same time.
  std::vector<pid_t> writers;
  for (int w = 0; w < 3; ++w) {
    writers.push_back(fork_child([&, w]() -> int {
      auto log = ipckit::AppendLog::open(logpath, ipckit::OpenMode::kOpenOrCreate);
      if (!log) {
        std::fprintf(stderr, "%s\n", log.error().str().c_str());
        return 1;
      }
      for (int i = 0; i < 5; ++i) {
        if (!log->append("writer " + std::to_string(w) + " event " + std::to_string(i))) return 1;
      }
      std::printf("[appender %d] appended 5 records to %s\n", static_cast<int>(::getpid()), logpath.c_str());
      return 0;
    }));
  }
  for (const pid_t pid : writers) ok = pid > 0 && child_succeeded(pid) && ok;
  auto contents = ipckit::read_log(logpath);
  ok = ok && contents && contents->records.size() == 15 && !contents->torn_tail;
  std::printf("[parent] the log holds %zu whole records from 3 processes, none interleaved%s\n",
              contents ? contents->records.size() : 0, contents && contents->torn_tail ? ", and a torn tail" : "");
  std::filesystem::remove_all(dir, ec);
  std::printf("[parent] removed %s\n", dir.c_str());
  return ok ? 0 : 1;
}
