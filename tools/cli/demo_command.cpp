// SPDX-License-Identifier: Apache-2.0
// `ipckit demo [NAME]`: runs the reference tutorials' classic programs, narrated. Each demo is an
// example program already built and run as a test (examples/<layer>/<name>.cpp ->
// example_<layer>_<name>), so the demos, the docs and the test suite share one source. The CLI only
// finds that executable and runs it with stdout/stderr inherited (the narration streams as it
// happens); it holds no IPC logic of its own.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"

extern char** environ;

namespace ipckit::cli {
namespace {

struct Demo {
  const char* name;     // what the user types: ipckit demo NAME
  const char* example;  // examples/<layer>/<stem>.cpp, built as example_<layer>_<stem>
  const char* summary;  // one line for the listing
  // The roles the program can run as alone (ipckit demo NAME ROLE), "|"-separated; nullptr: none.
  // Without a role every demo runs all of its parts itself.
  const char* roles = nullptr;
};

// One entry per program of the reference tutorials (docs/cli.md lists them with their tutorial).
constexpr Demo kDemos[] = {
    {"pipe", "demo/pipe", "pipe between a parent and its forked child: the parent writes, the child reads to end"},
    {"pipe-dup2", "demo/pipe_dup2",
     "pipe to a child: its stdin and stdout dup2()ed onto pipes, the parent feeds and reads it"},
    {"popen", "demo/popen", "popen/pclose without a shell: read a command's output, feed a command's input"},
    {"byte-stream", "demo/byte_stream",
     "byte stream vs message boundaries: three writes into a pipe vs three datagrams"},
    {"fifo", "demo/fifo", "FIFO between two unrelated processes: mkfifo, each open blocks until the other side opens"},
    {"posix-mq", "demo/posix_mq",
     "POSIX message queue: priorities, and mq_notify when a message reaches the empty queue"},
    {"sysv-mq", "demo/sysv_mq", "System V message queue: typed messages received by type (exact, lowest <= N, first)"},
    {"posix-shm", "memory/posix_shm",
     "POSIX shm: one process creates and writes it, another opens it by name and reads", "write|read"},
    {"sysv-shm", "memory/sysv_shm", "System V shm: shmget/shmat shared with a child by id, IPC_STAT, IPC_RMID"},
    {"shared-counter", "memory/shared_counter",
     "anonymous MAP_SHARED counter across fork: plain ++ loses updates, atomic add does not"},
    {"mapped-file", "demo/mapped_file", "mmap of a file shared by two processes (MAP_SHARED, msync)"},
    {"shm-sem", "demo/shm_sem", "producer/consumer: POSIX shm ring + named semaphores counting free and full slots"},
    {"unnamed-sem", "demo/unnamed_sem",
     "unnamed process-shared semaphores (sem_init pshared=1) in shared memory: ping-pong"},
    {"mutex-condvar", "demo/mutex_condvar", "process-shared mutex + condition variable: a consumer waits for a job"},
    {"robust-mutex", "sync/robust_mutex",
     "robust mutex: the owner is killed mid-update, the next locker gets EOWNERDEAD and repairs"},
    {"file-lock", "sync/file_locks",
     "file locking: two shared locks coexist, an exclusive one waits until both are released"},
    {"sysv-sem", "demo/sysv_sem",
     "System V semaphores: SEM_UNDO gives a killed holder's lock back, without it the lock is lost"},
    {"futex-eventfd", "sync/futex_eventfd", "futex wait/wake on a word in shared memory, and an eventfd counter"},
    {"socketpair", "demo/socketpair", "socketpair: one bidirectional connection between a parent and its child"},
    {"unix-stream", "demo/unix_stream",
     "UNIX stream socket server on a path: two clients, peer credentials, the socket file removed"},
    {"unix-dgram", "demo/unix_dgram",
     "UNIX datagram (abstract name) request/reply, and a seqpacket connection: whole records, end of stream"},
    {"tcp", "demo/tcp", "TCP server with several clients, over IPv4 and IPv6 loopback"},
    {"udp", "demo/udp", "UDP: datagrams keep boundaries, a datagram too long for the buffer is truncated"},
    {"fd-passing", "demo/fd_passing",
     "UNIX socket with fd passing: a client sends an open file's descriptor (SCM_RIGHTS)"},
    {"signal-payload", "signal/signalfd", "signals with a payload: sigqueue() values read from a signalfd"},
    {"pty", "demo/pty", "a pseudoterminal: a shell runs on the slave side, the parent reads the master"},
    {"memfd", "demo/memfd",
     "a sealed memfd passed over a UNIX socket: the receiver checks the seals, nothing can change under it"},
    {"files", "file/atomic_replace",
     "files as IPC: a config replaced atomically under a reader, and a log three processes append to"},
    {"channel", "channel/spsc_channel",
     "the ipckit channel: zero-copy SPSC ring in shared memory between two processes"},
    {"channel-epoll", "channel/epoll_loop",
     "the channel in an epoll loop beside a timerfd and a signalfd: drain, arm, wait"},
};

std::string example_binary_name(std::string_view example) {
  std::string name = "example_" + std::string(example);
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string self_dir() {
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return {};
  buf.resize(static_cast<std::size_t>(n));
  const auto slash = buf.rfind('/');
  return slash == std::string::npos ? std::string{} : buf.substr(0, slash);
}

// Where the examples live, in order: $IPCKIT_EXAMPLES_DIR; next to this binary in a build tree
// (<build>/ipckit and <build>/examples/example_*); an installed layout (<prefix>/bin/ipckit and
// <prefix>/libexec/ipckit/example_*).
std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("IPCKIT_EXAMPLES_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
  if (const std::string self = self_dir(); !self.empty()) {
    dirs.push_back(self + "/examples");
    dirs.push_back(self + "/../libexec/ipckit");
  }
  return dirs;
}

std::optional<std::string> find_example(const Demo& demo, std::vector<std::string>& tried) {
  const std::string file = example_binary_name(demo.example);
  for (const std::string& dir : search_dirs()) {
    std::string path = dir + "/" + file;
    if (is_executable_file(path)) return path;
    tried.push_back(std::move(path));
  }
  return std::nullopt;
}

std::string names_list() {
  std::string out;
  for (const Demo& d : kDemos) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

void list_demos() {
  std::size_t width = 0;
  for (const Demo& d : kDemos) width = std::max(width, std::strlen(d.name));
  for (const Demo& d : kDemos) {
    if (d.roles != nullptr) {
      std::printf("%-*s  %s (or one side: ipckit demo %s %s)\n", static_cast<int>(width), d.name, d.summary, d.name,
                  d.roles);
    } else {
      std::printf("%-*s  %s\n", static_cast<int>(width), d.name, d.summary);
    }
  }
  std::fflush(stdout);
}

// Whether `role` is one of the demo's "|"-separated roles.
bool has_role(const Demo& demo, std::string_view role) {
  if (demo.roles == nullptr) return false;
  std::string_view rest = demo.roles;
  while (!rest.empty()) {
    const auto bar = rest.find('|');
    if (rest.substr(0, bar) == role) return true;
    rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
  }
  return false;
}

std::string roles_text(const Demo& demo) {
  std::string text = demo.roles;
  std::replace(text.begin(), text.end(), '|', ',');
  return text;
}

// Runs the example (with `role` as its argument, if any) with our stdin/stdout/stderr; returns its
// exit code (128 + signal if killed).
int run_demo(const Demo& demo, const std::string& role) {
  std::vector<std::string> tried;
  const auto path = find_example(demo, tried);
  if (!path) {
    std::fprintf(stderr, "ipckit demo %s: executable %s not found; looked in:\n", demo.name,
                 example_binary_name(demo.example).c_str());
    for (const auto& t : tried) std::fprintf(stderr, "  %s\n", t.c_str());
    std::fprintf(stderr, "build the examples (IPCKIT_BUILD_EXAMPLES=ON) or set IPCKIT_EXAMPLES_DIR\n");
    return 2;
  }
  std::printf("== ipckit demo %s: %s\n== source: examples/%s.cpp\n", demo.name, demo.summary, demo.example);
  std::fflush(stdout);  // before the child writes to the same stdout

  char* argv[] = {const_cast<char*>(path->c_str()), role.empty() ? nullptr : const_cast<char*>(role.c_str()), nullptr};
  pid_t pid = -1;
  if (const int err = ::posix_spawn(&pid, path->c_str(), nullptr, nullptr, argv, environ); err != 0) {
    std::fprintf(stderr, "posix_spawn(\"%s\"): %s\n", path->c_str(), std::strerror(err));
    return 2;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "waitpid(%d): %s\n", static_cast<int>(pid), std::strerror(errno));
      return 2;
    }
  }
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "ipckit demo %s: the example was killed by signal %d (%s)\n", demo.name,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  const int code = WEXITSTATUS(status);
  if (code != 0) std::fprintf(stderr, "ipckit demo %s: the example exited with status %d\n", demo.name, code);
  return code;
}

}  // namespace

void add_demo_command(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("demo",
                                 "Run a classic IPC program from the reference tutorials, narrated step by step.\n"
                                 "Without NAME: list the demos, one per line. A ROLE runs one side of a demo that\n"
                                 "has them (ipckit demo posix-shm write, then ipckit demo posix-shm read).");
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  sub->add_option("name", *name, "the demo to run (see: ipckit demo)");
  sub->add_option("role", *role, "one side of the demo, for demos that have roles (see: ipckit demo)");
  sub->callback([&ctx, name, role] {
    if (name->empty()) {
      list_demos();
      ctx.exit_code = 0;
      return;
    }
    for (const Demo& d : kDemos) {
      if (*name != d.name) continue;
      if (!role->empty() && !has_role(d, *role)) {
        if (d.roles == nullptr) {
          std::fprintf(stderr, "ipckit demo %s: takes no role (got \"%s\"); run it as: ipckit demo %s\n", d.name,
                       role->c_str(), d.name);
        } else {
          std::fprintf(stderr, "ipckit demo %s: unknown role \"%s\"; the roles are: %s (or none: both sides)\n",
                       d.name, role->c_str(), roles_text(d).c_str());
        }
        ctx.exit_code = 2;
        return;
      }
      ctx.exit_code = run_demo(d, *role);
      return;
    }
    std::fprintf(stderr, "ipckit demo: unknown demo \"%s\"; the demos are: %s\n", name->c_str(),
                 names_list().c_str());
    ctx.exit_code = 2;
  });
}

}  // namespace ipckit::cli
