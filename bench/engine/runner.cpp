#include "engine/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include <fmt/format.h>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::bench {
namespace {

volatile sig_atomic_t g_stop = 0;

constexpr char kReady = 'R';
constexpr char kFailed = 'E';

Result<std::pair<UniqueFd, UniqueFd>> make_pipe(const char* what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno(errno, "pipe2", what);
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<void> pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    return fail_errno(errno, "sched_setaffinity", fmt::format("cpu {}", cpu));
  }
  return {};
}

void write_byte(int fd, char c) noexcept {
  while (::write(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

// The child of one side. Never returns.
[[noreturn]] void child_main(Role role, const RunConfig& cfg, Session& session, ControlBlock* control,
                             int ready_fd, int go_fd) {
  // The parent owns Ctrl-C: it tells the children to stop and then removes every object.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_DFL);
  // A reader that left must end a writer's run as a value (EPIPE), never kill it.
  ::signal(SIGPIPE, SIG_IGN);
  SideStats& stats = control->sides[static_cast<int>(role)];
  auto pinned = pin_to(role == Role::kSender ? cfg.cpu_sender : cfg.cpu_receiver);
  if (!pinned) {
    stats.set_error(pinned.error().str());
    write_byte(ready_fd, kFailed);
    ::_exit(1);
  }
  auto prepared = session.prepare(role);
  if (!prepared) {
    stats.set_error(prepared.error().str());
    write_byte(ready_fd, kFailed);
    ::_exit(1);
  }
  write_byte(ready_fd, kReady);
  ::close(ready_fd);
  char c;
  ssize_t n;
  while ((n = ::read(go_fd, &c, 1)) < 0 && errno == EINTR) {
  }
  ::close(go_fd);
  // Both sides wake on EOF of the go pipe at the same moment; abort if the parent gave up.
  if (control->stop.load(std::memory_order_relaxed) != 0) ::_exit(0);
  RunContext ctx;
  ctx.pattern = cfg.pattern;
  ctx.size = cfg.size;
  ctx.warmup_ns = cfg.warmup_ns;
  ctx.duration_ns = cfg.duration_ns;
  ctx.control = control;
  ctx.payload = cfg.payload;
  auto ran = session.run(role, ctx, stats);
  if (!ran) {
    stats.set_error(ran.error().str());
    ::_exit(1);
  }
  ::_exit(0);
}

struct Child {
  pid_t pid = -1;
  int status = 0;
  bool done = false;
};

void reap(Child& c, bool block) noexcept {
  if (c.pid <= 0 || c.done) return;
  for (;;) {
    const pid_t r = ::waitpid(c.pid, &c.status, block ? 0 : WNOHANG);
    if (r == c.pid) {
      c.done = true;
      return;
    }
    if (r == 0) return;
    if (errno != EINTR) {
      c.done = true;  // not our child any more: nothing to wait for
      return;
    }
  }
}

void sleep_ms(int ms) noexcept { ::poll(nullptr, 0, ms); }

std::string describe_exit(const char* side, const Child& c) {
  if (WIFSIGNALED(c.status)) return fmt::format("{} killed by signal {}", side, WTERMSIG(c.status));
  return fmt::format("{} exited with status {}", side, WEXITSTATUS(c.status));
}

}  // namespace

void request_stop() noexcept { g_stop = 1; }
bool stop_requested() noexcept { return g_stop != 0; }
void clear_stop_request() noexcept { g_stop = 0; }

Result<RunOutcome> run_once(const RunConfig& cfg) {
  auto control_map = Mapping::anonymous(sizeof(ControlBlock));
  if (!control_map) return fail(control_map.error());
  auto* control = new (control_map->data()) ControlBlock{};

  RunOutcome out;
  auto session = cfg.mechanism->open(cfg.pattern, cfg.size);
  if (!session) {
    out.error = session.error().str();
    return out;
  }
  auto ready = make_pipe("ready pipe");
  if (!ready) return fail(ready.error());
  auto go = make_pipe("go pipe");
  if (!go) return fail(go.error());

  const int sides = cfg.mechanism->procs().consumers > 0 ? 2 : 1;
  Child children[2];
  for (int i = 0; i < sides; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      control->stop.store(1, std::memory_order_relaxed);
      go->second.reset();
      for (auto& c : children) reap(c, true);
      return fail_errno(err, "fork", "", "RLIMIT_NPROC or memory: see ulimit -u");
    }
    if (pid == 0) {
      ready->first.reset();
      go->second.reset();
      child_main(static_cast<Role>(i), cfg, **session, control, ready->second.get(), go->first.get());
    }
    children[i].pid = pid;
  }
  (*session)->after_fork();
  ready->second.reset();
  go->first.reset();

  auto kill_all = [&] {
    control->stop.store(1, std::memory_order_relaxed);
    go->second.reset();
    // Give blocked sides a moment to notice, then end them: a side blocked in a kernel call with
    // no peer (e.g. mq_send on a full queue) never would.
    for (int waited = 0; waited < 300; waited += 10) {
      bool all = true;
      for (int i = 0; i < sides; ++i) {
        reap(children[i], false);
        all = all && children[i].done;
      }
      if (all) return;
      sleep_ms(10);
    }
    for (int i = 0; i < sides; ++i) {
      if (!children[i].done) ::kill(children[i].pid, SIGKILL);
      reap(children[i], true);
    }
  };

  // Handshake: every side reports ready (or failed) before any starts.
  int ready_count = 0;
  bool setup_failed = false;
  const std::uint64_t setup_deadline = SideClock::now_ns() + 10'000'000'000ULL;
  while (ready_count < sides && !setup_failed) {
    if (stop_requested()) {
      kill_all();
      out.interrupted = true;
      return out;
    }
    if (SideClock::now_ns() > setup_deadline) {
      kill_all();
      out.error = "set-up timed out after 10 s";
      return out;
    }
    pollfd p{ready->first.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, 50);
    if (r <= 0) continue;
    char c;
    const ssize_t n = ::read(ready->first.get(), &c, 1);
    if (n == 1) {
      if (c == kReady) {
        ++ready_count;
      } else {
        setup_failed = true;
      }
    } else if (n == 0) {
      setup_failed = true;  // every side exited without reporting
    }
  }
  if (setup_failed) {
    kill_all();
    out.sender = control->sides[0];
    out.receiver = control->sides[1];
    out.error = out.sender.failed ? out.sender.error : out.receiver.failed ? out.receiver.error : "a side failed to start";
    return out;
  }
  (*session)->after_ready();
  go->second.reset();  // go: both sides see EOF together

  // Wait for the sides, bounded: a side that outlives its peer by a second, or the run by its
  // duration plus 10 s, is stopped and reported.
  const std::uint64_t limit = SideClock::now_ns() + cfg.warmup_ns + 2 * cfg.duration_ns + 10'000'000'000ULL;
  std::uint64_t first_exit = 0;
  for (;;) {
    int done = 0;
    for (int i = 0; i < sides; ++i) {
      reap(children[i], false);
      done += children[i].done ? 1 : 0;
    }
    if (done == sides) break;
    const std::uint64_t now = SideClock::now_ns();
    if (stop_requested()) {
      kill_all();
      out.interrupted = true;
      return out;
    }
    if (done > 0 && first_exit == 0) first_exit = now;
    if ((first_exit != 0 && now - first_exit > 1'000'000'000ULL) || now > limit) {
      kill_all();
      out.error = now > limit ? "the run did not finish in time" : "one side did not finish after the other ended";
      break;
    }
    sleep_ms(done > 0 ? 2 : 20);
  }
  out.sender = control->sides[0];
  out.receiver = control->sides[1];
  out.histogram = control->histogram;
  if (out.error.empty()) {
    if (out.sender.failed) {
      out.error = out.sender.error;
    } else if (sides == 2 && out.receiver.failed) {
      out.error = out.receiver.error;
    } else {
      for (int i = 0; i < sides; ++i) {
        const Child& c = children[i];
        if (!(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)) {
          out.error = describe_exit(i == 0 ? "sender" : "receiver", c);
        }
      }
    }
  }
  return out;
}

}  // namespace ipckit::bench
