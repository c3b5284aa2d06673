// SPDX-License-Identifier: Apache-2.0
#include "engine/peers/roudi_daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/mechanism.hpp"
#include "engine/report.hpp"
#include "engine/runner.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::bench {
namespace {

// Paths fixed by iceoryx 2.0 (iceoryx_posh_types.hpp, platform_settings.hpp).
constexpr const char* kLockPath = "/tmp/iox-unique-roudi.lock";
constexpr const char* kRouDiSocket = "/tmp/roudi";
constexpr const char* kMgmtSegment = "/dev/shm/iceoryx_mgmt";
constexpr const char* kReadyLine = "RouDi is ready for clients";

// Mempools for frames of 64 B .. 1 MiB. Each pool holds enough chunks for a subscriber queue of 64,
// the chunk each side holds, and a second service (round trips), with room to spare.
constexpr const char* kConfig = R"([general]
version = 1

[[segment]]

[[segment.mempool]]
size = 128
count = 512

[[segment.mempool]]
size = 1024
count = 512

[[segment.mempool]]
size = 4096
count = 512

[[segment.mempool]]
size = 16384
count = 256

[[segment.mempool]]
size = 65536
count = 256

[[segment.mempool]]
size = 262144
count = 160

[[segment.mempool]]
size = 1048576
count = 160
)";

struct State {
  pid_t pid = -1;
  std::string config;
  std::string log;
};
State g_roudi;

std::string find_roudi() {
  if (const char* env = std::getenv("IPCKIT_IOX_ROUDI")) return env;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    const std::size_t end = dirs.find(':', pos);
    std::string dir = dirs.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!dir.empty()) {
      const std::string candidate = dir + "/iox-roudi";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return {};
}

std::string log_tail(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return {};
  std::string t = *text;
  if (t.size() > 400) t = t.substr(t.size() - 400);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  for (char& c : t) {
    if (c == '\n') c = '|';
  }
  return t;
}

void remove_files() noexcept {
  if (!g_roudi.config.empty()) ::unlink(g_roudi.config.c_str());
  if (!g_roudi.log.empty()) ::unlink(g_roudi.log.c_str());
  g_roudi.config.clear();
  g_roudi.log.clear();
}

// After a RouDi of ours had to be killed: what its clean shutdown would have removed.
void remove_segments() noexcept {
  ::unlink(kMgmtSegment);
  if (const group* g = ::getgrgid(::getegid())) {
    const std::string data = std::string("/dev/shm/") + g->gr_name;  // the data segment: the writer group
    ::unlink(data.c_str());
  }
  ::unlink(kRouDiSocket);
  ::unlink((std::string(kRouDiSocket) + ".lock").c_str());  // the socket's own lock file
  ::unlink(kLockPath);
}

// Waits up to `ms` for `pid` to end; true with its status when it did.
bool wait_exit(pid_t pid, int ms, int& status) noexcept {
  for (int waited = 0; waited <= ms; waited += 10) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      status = -1;  // not ours to wait for any more: its state is unknown
      return true;
    }
    ::poll(nullptr, 0, 10);
  }
  return false;
}

}  // namespace

bool RouDiDaemon::external_running() noexcept {
  if (g_roudi.pid > 0) return false;
  // Probe the lock RouDi holds for its lifetime; never create it (that would leave a file behind).
  const int fd = ::open(kLockPath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    held = errno == EWOULDBLOCK;
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return held;
}

pid_t RouDiDaemon::private_pid() noexcept { return g_roudi.pid; }

std::string RouDiDaemon::unavailable_reason() {
  if (g_roudi.pid > 0 || external_running()) return {};
  if (find_roudi().empty()) return "iox-roudi not found in PATH (Debian package iceoryx; or set IPCKIT_IOX_ROUDI)";
  return {};
}

Result<void> RouDiDaemon::ensure() {
  if (g_roudi.pid > 0) {
    int status = 0;
    if (::waitpid(g_roudi.pid, &status, WNOHANG) == 0) return {};  // still serving
    g_roudi.pid = -1;  // it died: clean up after it and start another
    remove_segments();
    remove_files();
  }
  if (external_running()) return {};
  const std::string exe = find_roudi();
  if (exe.empty()) {
    return fail_library(LibraryCode::kNotAvailable, "iox-roudi", "PATH", "iox-roudi not found (Debian package iceoryx)");
  }
  const std::string base = "/tmp" + unique_object_name();
  g_roudi.config = base + ".roudi.toml";
  g_roudi.log = base + ".roudi.log";
  {
    const int fd = ::open(g_roudi.config.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      const std::string failed = g_roudi.config;
      g_roudi.config.clear();
      g_roudi.log.clear();
      return fail_errno(err, "open", ipckit::quoted(failed));
    }
    UniqueFd guard(fd);
    if (auto w = write_full(fd, std::as_bytes(std::span(kConfig, std::char_traits<char>::length(kConfig)))); !w) {
      remove_files();
      return fail(w.error());
    }
  }
  const int log_fd = ::open(g_roudi.log.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    const int err = errno;
    const std::string failed = g_roudi.log;
    remove_files();
    return fail_errno(err, "open", ipckit::quoted(failed));
  }
  UniqueFd log_guard(log_fd);
  std::vector<std::string> args = {exe, "-c", g_roudi.config, "-l", "info"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    remove_files();
    return fail_errno(err, "fork", "iox-roudi", "RLIMIT_NPROC or memory: see ulimit -u");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::setpgid(0, 0);                   // a terminal's Ctrl-C goes to the bench, which stops RouDi itself
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // ... and if the bench is killed, RouDi shuts down cleanly
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  g_roudi.pid = pid;
  log_guard.reset();
  // Ready when RouDi logs its ready line; a RouDi that exits first (another RouDi won the lock,
  // a bad config) is reported with the end of its log.
  const std::uint64_t deadline = SideClock::now_ns() + 10'000'000'000ULL;
  for (;;) {
    auto text = read_text_file(g_roudi.log);
    if (text && text->find(kReadyLine) != std::string::npos) return {};
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      const std::string tail = log_tail(g_roudi.log);
      g_roudi.pid = -1;
      remove_files();
      return fail_library(LibraryCode::kNotReady, "iox-roudi", ipckit::quoted(exe),
                          fmt::format("exited with status {} before it was ready: {}",
                                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), tail));
    }
    if (stop_requested() || SideClock::now_ns() > deadline) {
      const std::string tail = log_tail(g_roudi.log);
      const bool stopped = stop_requested();
      release();
      if (stopped) return fail_library(LibraryCode::kNotReady, "iox-roudi", ipckit::quoted(exe), "interrupted");
      return fail_library(LibraryCode::kNotReady, "iox-roudi", ipckit::quoted(exe),
                          fmt::format("not ready after 10 s: {}", tail));
    }
    ::poll(nullptr, 0, 10);
  }
}

void RouDiDaemon::release() noexcept {
  if (g_roudi.pid <= 0) return;
  const pid_t pid = g_roudi.pid;
  g_roudi.pid = -1;
  ::kill(pid, SIGTERM);  // RouDi's clean shutdown removes its segments, socket and lock
  int status = 0;
  if (!wait_exit(pid, 5000, status)) {
    ::kill(pid, SIGKILL);
    (void)wait_exit(pid, 5000, status);
    status = -1;
  }
  // A RouDi that did not end cleanly (killed, or aborted in its shutdown: iceoryx 2.0 asserts when a
  // registered client no longer exists) left its segments, socket and lock: remove them.
  if (!(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)) remove_segments();
  remove_files();
}

}  // namespace ipckit::bench
