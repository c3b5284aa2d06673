// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/poll.hpp"

extern char** environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace ipckit {
namespace {

// Which step of the child failed; reported over the error pipe with errno.
enum class ChildStep : int { kSetsid, kControllingTty, kDup, kChdir, kCloexec, kExec };

const char* step_call(ChildStep step) {
  switch (step) {
    case ChildStep::kSetsid: return "setsid";
    case ChildStep::kControllingTty: return "ioctl(TIOCSCTTY)";
    case ChildStep::kDup: return "dup2";
    case ChildStep::kChdir: return "chdir";
    case ChildStep::kCloexec: return "close_range";
    case ChildStep::kExec: return "execve";
  }
  return "child";
}

struct ChildReport {
  int step;
  int err;
};

// Everything the child needs, allocated before fork().
struct ChildPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;
  int stdio[3] = {-1, -1, -1};  // source fd for 0, 1, 2; -1 = inherit
  bool stderr_to_stdout = false;
  bool new_session = false;
  int ctty = -1;
  const int* pass_fds = nullptr;
  std::size_t pass_count = 0;
  int report_fd = -1;
  int max_fd = 1024;  // for the close_range fallback
};

[[noreturn]] void child_fail(const ChildPlan& plan, ChildStep step, int err) {
  const ChildReport report{static_cast<int>(step), err};
  // Async-signal-safe: write() only; a short write is impossible for 8 bytes on a pipe.
  (void)no_eintr(::write, plan.report_fd, &report, sizeof report);
  ::_exit(127);
}

// Runs in the child between fork() and execve(): async-signal-safe calls only, no allocation.
[[noreturn]] void child_main(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  if (plan.new_session && ::setsid() < 0) child_fail(plan, ChildStep::kSetsid, errno);
  if (plan.ctty >= 0 && ::ioctl(plan.ctty, TIOCSCTTY, 0) < 0) child_fail(plan, ChildStep::kControllingTty, errno);
  // Move sources out of 0..2 first, so dup2(a, 0) cannot clobber the source meant for 1 or 2.
  int src[3];
  for (int i = 0; i < 3; ++i) {
    src[i] = plan.stdio[i];
    if (src[i] >= 0 && src[i] < 3) {
      src[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 3);
      if (src[i] < 0) child_fail(plan, ChildStep::kDup, errno);
    }
  }
  for (int i = 0; i < 3; ++i) {
    // dup2 clears FD_CLOEXEC on the new descriptor, so the child keeps it across exec.
    if (src[i] >= 0 && ::dup2(src[i], i) < 0) child_fail(plan, ChildStep::kDup, errno);
  }
  if (plan.stderr_to_stdout && ::dup2(1, 2) < 0) child_fail(plan, ChildStep::kDup, errno);
  if (plan.cwd != nullptr && ::chdir(plan.cwd) < 0) child_fail(plan, ChildStep::kChdir, errno);
  // Nothing but 0..2 and pass_fds survives exec (the report pipe closes on exec itself).
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < plan.max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (std::size_t i = 0; i < plan.pass_count; ++i) {
    if (::fcntl(plan.pass_fds[i], F_SETFD, 0) < 0) child_fail(plan, ChildStep::kCloexec, errno);
  }
  ::execve(plan.path, plan.argv, plan.envp);
  child_fail(plan, ChildStep::kExec, errno);
}

// execvp's PATH search, done in the parent (it allocates).
Result<std::string> find_program(const std::string& name) {
  if (name.empty()) return fail_library(LibraryCode::kInvalidArgument, "execvp", quoted(name), "empty program name");
  if (name.find('/') != std::string::npos) return name;
  const char* env_path = std::getenv("PATH");
  const std::string path = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  int last_err = ENOENT;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      last_err = EACCES;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return fail_errno(last_err, "execvp", quoted(name),
                    last_err == ENOENT ? fmt::format("not found in PATH ({})", path)
                                       : "found in PATH but not executable by this user");
}

struct ParentPipe {
  UniqueFd parent;
  UniqueFd child;
};

// pipe2(O_CLOEXEC) with only the parent's end made non-blocking: the child's end is what a normal
// program expects, a blocking descriptor. `child_reads` says which end is the child's.
Result<ParentPipe> make_stdio_pipe(bool child_reads, const std::string& object) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_errno().fail("pipe2", object);
  ParentPipe p;
  p.child.reset(child_reads ? fds[0] : fds[1]);
  p.parent.reset(child_reads ? fds[1] : fds[0]);
  return p;
}

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

void pause_for(Clock::duration d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return fmt::format("exited {}", code);
  const char* name = ::sigabbrev_np(signal);
  return name != nullptr ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", signal);
}

ExitStatus ExitStatus::from_wait_status(int status) noexcept {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

std::vector<std::string> Subprocess::shell(std::string_view command) {
  return {"/bin/sh", "-c", std::string(command)};
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)),
      name_(std::move(other.name_)),
      in_(std::move(other.in_)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    reset();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    status_ = std::exchange(other.status_, std::nullopt);
    name_ = std::move(other.name_);
    in_ = std::move(other.in_);
    out_ = std::move(other.out_);
    err_ = std::move(other.err_);
  }
  return *this;
}

Subprocess::~Subprocess() { reset(); }

void Subprocess::reset() noexcept {
  (void)in_.close();
  (void)out_.close();
  (void)err_.close();
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    (void)no_eintr(::waitpid, pid_, &st, 0);
  }
  pid_ = -1;
  pidfd_.reset();
  status_.reset();
}

Result<Subprocess> Subprocess::spawn(const std::vector<std::string>& argv, const SubprocessOptions& options) {
  if (argv.empty()) return fail_library(LibraryCode::kInvalidArgument, "execvp", quoted(""), "empty argv");
  const std::string object = quoted(argv[0]);
  auto path = find_program(argv[0]);
  if (!path) return fail(path.error());

  // Prepare every allocation now: the child may not allocate.
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  if (options.env) {
    c_env.reserve(options.env->size() + 1);
    for (const auto& e : *options.env) c_env.push_back(const_cast<char*>(e.c_str()));
    c_env.push_back(nullptr);
  }

  Subprocess proc;
  proc.name_ = argv[0];
  UniqueFd dev_null;
  UniqueFd child_ends[3];
  ChildPlan plan;
  const Stdio* stdio[3] = {&options.in, &options.out, &options.err};
  for (int i = 0; i < 3; ++i) {
    switch (stdio[i]->kind) {
      case Stdio::Kind::kInherit:
        break;
      case Stdio::Kind::kFd:
        plan.stdio[i] = stdio[i]->fd;
        break;
      case Stdio::Kind::kNull:
        if (!dev_null) {
          dev_null.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
          if (!dev_null) return last_errno().fail("open", quoted("/dev/null"));
        }
        plan.stdio[i] = dev_null.get();
        break;
      case Stdio::Kind::kPipe: {
        auto p = make_stdio_pipe(i == 0, object);
        if (!p) return fail(p.error());
        plan.stdio[i] = p->child.get();
        child_ends[i] = std::move(p->child);
        const std::string pipe_name = fmt::format("{} {}", argv[0], i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr");
        if (i == 0) {
          auto w = PipeWriter::adopt(std::move(p->parent), pipe_name);
          if (!w) return fail(w.error());
          proc.in_ = std::move(*w);
        } else {
          auto r = PipeReader::adopt(std::move(p->parent), pipe_name);
          if (!r) return fail(r.error());
          (i == 1 ? proc.out_ : proc.err_) = std::move(*r);
        }
        break;
      }
    }
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return last_errno().fail("pipe2", object);
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  plan.path = path->c_str();
  plan.argv = c_argv.data();
  plan.envp = options.env ? c_env.data() : environ;
  plan.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  plan.stderr_to_stdout = options.stderr_to_stdout;
  plan.new_session = options.new_session;
  plan.ctty = options.controlling_terminal;
  plan.pass_fds = options.pass_fds.data();
  plan.pass_count = options.pass_fds.size();
  plan.report_fd = report_write.get();
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  plan.max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    return fail_errno(err, "fork", object, err == EAGAIN ? "RLIMIT_NPROC or /proc/sys/kernel/pid_max reached" : "");
  }
  if (pid == 0) child_main(plan);

  proc.pid_ = pid;
  report_write.reset();
  for (auto& c : child_ends) c.reset();
  dev_null.reset();
  // The report pipe closes on a successful exec (0 bytes) or carries the failing step.
  ChildReport r{};
  const ssize_t n = no_eintr(::read, report_read.get(), &r, sizeof r);
  if (n == static_cast<ssize_t>(sizeof r)) {
    int st = 0;
    (void)no_eintr(::waitpid, pid, &st, 0);
    proc.pid_ = -1;
    const auto step = static_cast<ChildStep>(r.step);
    std::string hint;
    if (step == ChildStep::kExec && r.err == ENOENT) hint = "the program or its interpreter does not exist";
    if (step == ChildStep::kExec && r.err == EACCES) hint = "the program is not executable by this user";
    const std::string what = step == ChildStep::kChdir ? quoted(options.cwd) : step == ChildStep::kExec ? quoted(*path) : object;
    return fail_errno(r.err, step_call(step), what, hint);
  }
  const int pfd = pidfd_open(pid);
  if (pfd >= 0) proc.pidfd_.reset(pfd);  // pidfds are always close-on-exec
  return proc;
}

Result<Subprocess> Subprocess::open_read(const std::vector<std::string>& argv) {
  SubprocessOptions o;
  o.out = Stdio::pipe();
  return spawn(argv, o);
}

Result<Subprocess> Subprocess::open_write(const std::vector<std::string>& argv) {
  SubprocessOptions o;
  o.in = Stdio::pipe();
  return spawn(argv, o);
}

Result<ExitStatus> Subprocess::wait() {
  (void)in_.close();
  if (status_) return *status_;
  if (pid_ <= 0) return fail_errno(ECHILD, "waitpid", quoted(name_), "the child was detached or never started");
  int st = 0;
  if (no_eintr(::waitpid, pid_, &st, 0) < 0) return last_errno().fail("waitpid", quoted(name_));
  status_ = ExitStatus::from_wait_status(st);
  return *status_;
}

Result<Attempt<ExitStatus>> Subprocess::try_wait() {
  if (status_) return Attempt<ExitStatus>(*status_);
  if (pid_ <= 0) return fail_errno(ECHILD, "waitpid", quoted(name_), "the child was detached or never started");
  int st = 0;
  const pid_t r = no_eintr(::waitpid, pid_, &st, WNOHANG);
  if (r == 0) return Attempt<ExitStatus>::none(IoStatus::kWouldBlock);
  if (r < 0) return last_errno().fail("waitpid", quoted(name_));
  status_ = ExitStatus::from_wait_status(st);
  return Attempt<ExitStatus>(*status_);
}

Result<Attempt<ExitStatus>> Subprocess::wait_until(Deadline deadline) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto s = try_wait();
    if (!s || *s) return s;
    if (Clock::now() >= deadline) return Attempt<ExitStatus>::none(IoStatus::kTimedOut);
    if (pidfd_) {
      // Readable once the child has ended.
      auto ready = poll_one(pidfd_.get(), POLLIN, deadline);
      if (!ready) return fail(ready.error());
    } else {
      pause_for(std::min<Clock::duration>(pause, remaining(deadline)));
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  }
}

Result<void> Subprocess::kill(int signal) {
  if (status_) return {};
  if (pid_ <= 0) return fail_errno(ESRCH, "kill", quoted(name_), "the child was detached or never started");
#ifdef SYS_pidfd_send_signal
  if (pidfd_) {
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0) == 0) return {};
    if (errno == ESRCH) return {};  // ended, not yet reaped
    if (errno != ENOSYS) return last_errno().fail("pidfd_send_signal", quoted(name_));
  }
#endif
  // Safe without a pidfd too: an unreaped child's pid cannot be reused.
  if (::kill(pid_, signal) != 0 && errno != ESRCH) return last_errno().fail("kill", quoted(name_));
  return {};
}

Result<CommandOutput> Subprocess::run(const std::vector<std::string>& argv, std::string_view input,
                                      SubprocessOptions options, std::size_t limit) {
  options.in = input.empty() ? Stdio::null() : Stdio::pipe();
  options.out = Stdio::pipe();
  auto proc = spawn(argv, options);
  if (!proc) return fail(proc.error());
  CommandOutput result;
  std::size_t sent = 0;
  if (input.empty()) (void)proc->in_.close();
  char chunk[16384];
  while (proc->out_.valid()) {
    pollfd fds[2] = {{proc->out_.native_handle(), POLLIN, 0}, {proc->in_.native_handle(), POLLOUT, 0}};
    const nfds_t nfds = proc->in_.valid() ? 2 : 1;
    if (no_eintr(::poll, fds, nfds, -1) < 0) return last_errno().fail("poll", quoted(argv[0]));
    if (nfds == 2 && fds[1].revents != 0) {
      auto w = proc->in_.try_write(input.substr(sent));
      if (!w) return fail(w.error());
      sent += w->bytes;
      // All sent, or the child closed its stdin: either way we are done feeding it.
      if (sent == input.size() || w->status == IoStatus::kPeerClosed) (void)proc->in_.close();
    }
    if (fds[0].revents != 0) {
      auto r = proc->out_.try_read(std::as_writable_bytes(std::span<char>(chunk)));
      if (!r) return fail(r.error());
      if (r->bytes > limit - result.out.size()) {
        return fail_library(LibraryCode::kTooLarge, "read", quoted(argv[0] + " stdout"),
                            fmt::format("the output exceeds the {}-byte limit of Subprocess::run()", limit));
      }
      result.out.append(chunk, r->bytes);
      if (r->status == IoStatus::kEndOfStream) (void)proc->out_.close();
    }
  }
  auto status = proc->wait();
  if (!status) return fail(status.error());
  result.status = *status;
  return result;
}

}  // namespace ipckit
