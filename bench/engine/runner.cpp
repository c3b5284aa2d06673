// SPDX-License-Identifier: Apache-2.0
#include "engine/runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::bench {
namespace {

volatile sig_atomic_t g_stop = 0;

constexpr char kReady = 'R';
constexpr char kFailed = 'E';

Result<std::pair<UniqueFd, UniqueFd>> make_pipe(const char* what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_errno().fail("pipe2", what);
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<void> pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    return last_errno().fail("sched_setaffinity", fmt::format("cpu {}", cpu));
  }
  return {};
}

void write_byte(int fd, char c) noexcept {
  (void)no_eintr(::write, fd, &c, 1);
}

// One child: which side it is on and its number there.
struct Proc {
  Role role = Role::kSender;
  int index = 0;
  int cpu = 0;
};

// The child of one process. Never returns.
[[noreturn]] void child_main(const Proc& proc, Procs procs, const RunConfig& cfg, Session& session,
                             ControlBlock* control, int ready_fd, int go_fd) {
  // The parent owns Ctrl-C: it tells the children to stop and then removes every object.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_DFL);
  // A reader that left must end a writer's run as a value (EPIPE), never kill it.
  ::signal(SIGPIPE, SIG_IGN);
  SideStats& stats = proc.role == Role::kSender ? control->senders[proc.index] : control->receivers[proc.index];
  auto pinned = pin_to(proc.cpu);
  if (!pinned) {
    stats.set_error(pinned.error().str());
    write_byte(ready_fd, kFailed);
    ::_exit(1);
  }
  auto prepared = session.prepare(proc.role);
  if (!prepared) {
    stats.set_error(prepared.error().str());
    write_byte(ready_fd, kFailed);
    ::_exit(1);
  }
  write_byte(ready_fd, kReady);
  ::close(ready_fd);
  char c;
  (void)no_eintr(::read, go_fd, &c, 1);  // a byte or EOF: either way the go signal
  ::close(go_fd);
  // Every child wakes on EOF of the go pipe at the same moment; abort if the parent gave up.
  if (control->stop.load(std::memory_order_relaxed) != 0) ::_exit(0);
  RunContext ctx;
  ctx.pattern = cfg.pattern;
  ctx.size = cfg.size;
  ctx.warmup_ns = cfg.warmup_ns;
  ctx.duration_ns = cfg.duration_ns;
  ctx.control = control;
  ctx.payload = cfg.payload;
  ctx.procs = procs;
  ctx.index = proc.index;
  auto ran = session.run(proc.role, ctx, stats);
  if (!ran) {
    stats.set_error(ran.error().str());
    ::_exit(1);
  }
  ::_exit(0);
}

// The children of a run in start order (sender 0, receiver 0, sender 1, receiver 1, ...), each with
// its CPU: round robin over cpu_sender, cpu_receiver and the spare CPUs (RunConfig).
std::vector<Proc> plan_procs(const RunConfig& cfg, Procs procs) {
  std::vector<int> cpus{cfg.cpu_sender};
  if (cfg.cpu_receiver != cfg.cpu_sender) cpus.push_back(cfg.cpu_receiver);
  for (int c : cfg.spare_cpus) {
    if (std::find(cpus.begin(), cpus.end(), c) == cpus.end()) cpus.push_back(c);
  }
  std::vector<Proc> out;
  for (int i = 0; i < std::max(procs.producers, procs.consumers); ++i) {
    if (i < procs.producers) out.push_back({Role::kSender, i, 0});
    if (i < procs.consumers) out.push_back({Role::kReceiver, i, 0});
  }
  for (std::size_t k = 0; k < out.size(); ++k) out[k].cpu = cpus[k % cpus.size()];
  return out;
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

// "sender", "receiver", or "receiver 3" when its side has several processes.
std::string proc_name(const Proc& p, Procs procs) {
  const bool sender = p.role == Role::kSender;
  const int n = sender ? procs.producers : procs.consumers;
  const char* side = sender ? "sender" : "receiver";
  return n > 1 ? fmt::format("{} {}", side, p.index) : std::string(side);
}

std::string describe_exit(const std::string& who, const Child& c) {
  if (WIFSIGNALED(c.status)) return fmt::format("{} killed by signal {}", who, WTERMSIG(c.status));
  return fmt::format("{} exited with status {}", who, WEXITSTATUS(c.status));
}

}  // namespace

std::uint64_t check_delivery(const RunOutcome& o, Delivery delivery, std::string& problem) {
  std::uint64_t sent = 0, sent_digest = 0;
  for (const SideStats& s : o.senders) {
    sent += s.msgs_total;
    sent_digest += s.digest;  // wraps: a sum modulo 2^64 on both sides
  }
  if (delivery == Delivery::kEach) {
    // Every receiver checked its frames' sequence numbers one by one from 0: a count short of the
    // sender's is frames lost at the end.
    std::uint64_t lost = 0;
    for (const SideStats& r : o.receivers) {
      lost += sent > r.msgs_total ? sent - r.msgs_total : 0;
      if (r.msgs_total > sent && problem.empty()) {
        problem = fmt::format("a subscriber received {} frames, {} more than sent", r.msgs_total, r.msgs_total - sent);
      }
    }
    return lost;
  }
  std::uint64_t received = 0, received_digest = 0;
  for (const SideStats& r : o.receivers) {
    received += r.msgs_total;
    received_digest += r.digest;
  }
  if (received > sent) {
    problem = fmt::format("{} frames received more than sent", received - sent);
  } else if (received == sent && received_digest != sent_digest) {
    problem = "the consumers received other frames than the producers sent (lost and duplicated)";
  }
  return sent > received ? sent - received : 0;
}

void request_stop() noexcept { g_stop = 1; }
bool stop_requested() noexcept { return g_stop != 0; }
void clear_stop_request() noexcept { g_stop = 0; }

Result<RunOutcome> run_once(const RunConfig& cfg) {
  RunOutcome out;
  // consumers = 0: one process does both (memcpy).
  const Procs procs = cfg.mechanism->procs();
  if (procs.producers < 1 || procs.producers > kMaxSideProcs || procs.consumers < 0 ||
      procs.consumers > kMaxSideProcs || (procs.consumers == 0 && procs.producers != 1)) {
    out.error = fmt::format("{} producers x {} consumers: the bench runs 1..{} per side", procs.producers,
                            procs.consumers, kMaxSideProcs);
    return out;
  }
  auto control_map = Mapping::anonymous(sizeof(ControlBlock));
  if (!control_map) return fail(control_map.error());
  auto* control = new (control_map->data()) ControlBlock{};

  auto session = cfg.mechanism->open(cfg.pattern, cfg.size);
  if (!session) {
    out.error = session.error().str();
    return out;
  }
  auto ready = make_pipe("ready pipe");
  if (!ready) return fail(ready.error());
  auto go = make_pipe("go pipe");
  if (!go) return fail(go.error());

  const std::vector<Proc> plan = plan_procs(cfg, procs);
  const std::size_t total = plan.size();
  std::vector<Child> children(total);
  for (std::size_t i = 0; i < total; ++i) {
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
      child_main(plan[i], procs, cfg, **session, control, ready->second.get(), go->first.get());
    }
    children[i].pid = pid;
  }
  (*session)->after_fork();
  ready->second.reset();
  go->first.reset();

  auto collect = [&] {
    out.senders.assign(control->senders, control->senders + procs.producers);
    out.receivers.assign(control->receivers, control->receivers + procs.consumers);
  };
  // The first child that reported a failure, in start order.
  auto first_failure = [&]() -> std::string {
    for (const Proc& p : plan) {
      const SideStats& st = p.role == Role::kSender ? control->senders[p.index] : control->receivers[p.index];
      if (st.failed) return procs.producers + procs.consumers > 2 ? proc_name(p, procs) + ": " + st.error : st.error;
    }
    return {};
  };

  auto kill_all = [&] {
    control->stop.store(1, std::memory_order_relaxed);
    go->second.reset();
    // Give blocked children a moment to notice, then end them: a child blocked in a kernel call
    // with no peer (e.g. mq_send on a full queue) never would.
    for (int waited = 0; waited < 300; waited += 10) {
      bool all = true;
      for (auto& c : children) {
        reap(c, false);
        all = all && c.done;
      }
      if (all) return;
      sleep_ms(10);
    }
    for (auto& c : children) {
      if (!c.done) ::kill(c.pid, SIGKILL);
      reap(c, true);
    }
  };

  // Handshake: every child reports ready (or failed) before any starts.
  std::size_t ready_count = 0;
  bool setup_failed = false;
  const std::uint64_t setup_deadline = SideClock::now_ns() + 10'000'000'000ULL;
  while (ready_count < total && !setup_failed) {
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
      setup_failed = true;  // every child exited without reporting
    }
  }
  if (setup_failed) {
    kill_all();
    collect();
    out.error = first_failure();
    if (out.error.empty()) out.error = "a side failed to start";
    return out;
  }
  (*session)->after_ready();
  go->second.reset();  // go: every child sees EOF together

  // Wait for the children, bounded: one that outlives the first to end by a second, or the run by
  // its duration plus 10 s, is stopped and reported.
  const std::uint64_t limit = SideClock::now_ns() + cfg.warmup_ns + 2 * cfg.duration_ns + 10'000'000'000ULL;
  std::uint64_t first_exit = 0;
  for (;;) {
    std::size_t done = 0;
    for (auto& c : children) {
      reap(c, false);
      done += c.done ? 1 : 0;
    }
    if (done == total) break;
    const std::uint64_t now = SideClock::now_ns();
    if (stop_requested()) {
      kill_all();
      out.interrupted = true;
      return out;
    }
    if (done > 0 && first_exit == 0) first_exit = now;
    if ((first_exit != 0 && now - first_exit > 1'000'000'000ULL) || now > limit) {
      // Name the child that ended the run early (crashed or failed), before the others are stopped.
      std::string why = first_failure();
      for (std::size_t i = 0; i < total && why.empty(); ++i) {
        const Child& c = children[i];
        if (c.done && !(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)) {
          why = describe_exit(proc_name(plan[i], procs), c);
        }
      }
      kill_all();
      out.error = now > limit     ? "the run did not finish in time"
                  : why.empty()   ? "one side did not finish after the other ended"
                                  : why + "; the others were stopped";
      break;
    }
    sleep_ms(done > 0 ? 2 : 20);
  }
  collect();
  out.histogram = control->histogram;
  if (out.error.empty()) out.error = first_failure();
  if (out.error.empty()) {
    for (std::size_t i = 0; i < total; ++i) {
      const Child& c = children[i];
      if (!(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)) {
        out.error = describe_exit(proc_name(plan[i], procs), c);
        break;
      }
    }
  }
  return out;
}

}  // namespace ipckit::bench
