// SPDX-License-Identifier: Apache-2.0
// `ipckit bridge FROM TO`: moves messages between two endpoints (docs/bridge.md). The work is the
// library's run_bridge() (endpoint/bridge.hpp); this file parses the options, prints the counters
// and maps outcomes to exit codes: 0 the stream ended (or --count messages went) · 1 failure (one
// line, then the counters; messages lost in transit are a failure) · 2 bad usage · 130/143
// interrupted by SIGINT/SIGTERM (what was in flight was delivered or is counted "in flight").
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/bridge.hpp"

namespace ipckit::cli {
namespace {

// The largest --size, as for send/recv: the channel's own max.
constexpr std::uint64_t kMaxSizeOption = kChannelMaxMessage;

// The signal that asked the bridge to stop (0: none). Written by the signal thread, read by the
// bridge's threads (relaxed: a flag that publishes no other data).
std::atomic<int> g_bridge_signal{0};

// SIGINT/SIGTERM are blocked in every thread (libnats' threads and the bridge's inherit the mask, so
// none of their system calls is interrupted) and taken by one thread with sigwait, which sets the
// flag: the bridge delivers what is in flight, prints its counters and exits 128 + the signal. The
// thread is detached: it ends with the process.
void install_bridge_signal_thread() {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([] {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) == 0) g_bridge_signal.store(sig, std::memory_order_relaxed);
    }
  }).detach();
}

int stop_signal() { return g_bridge_signal.load(std::memory_order_relaxed); }

struct BridgeArgs {
  std::string from;
  std::string to;
  bool both_ways = false;
  bool create = false;
  bool lines = false;
  bool raw = false;
  bool no_end_marker = false;
  bool stats = false;
  bool verbose = false;
  std::string count;
  std::string timeout;
  std::string size;
  std::string ready_fd;
};

int usage(const std::string& text) {
  std::fprintf(stderr, "ipckit bridge: %s\n", text.c_str());
  return kExitUsage;
}

// "chan:/ticks -> nats:h:4222/ticks: 100000 messages (24.4 MiB), 0 dropped, 1 reconnect, 0 in flight"
std::string counters_line(const BridgeCounters& c) {
  return fmt::format("{} -> {}: {} message{} ({}), {} dropped, {} reconnect{}, {} in flight", c.from, c.to, c.messages,
                     c.messages == 1 ? "" : "s", format_size(c.bytes), c.drops, c.reconnects,
                     c.reconnects == 1 ? "" : "s", c.in_flight);
}

void print_counters(const std::vector<BridgeCounters>& all) {
  static std::mutex mutex;  // --stats lines come from the progress callback; keep lines whole
  const std::lock_guard<std::mutex> lock(mutex);
  for (const auto& c : all) std::fprintf(stderr, "ipckit bridge: %s\n", counters_line(c).c_str());
  std::fflush(stderr);
}

int run_bridge_command(const BridgeArgs& a) {
  install_bridge_signal_thread();
  // The URLs first: a bad one is a usage error before anything opens.
  for (const std::string* u : {&a.from, &a.to}) {
    if (auto p = parse_url(*u); !p) return usage(p.error().str());
    if (parse_url(*u)->scheme == Scheme::kPipe) {
      return usage(fmt::format("{}: pipe: cannot be bridged (it runs a child; use ipckit send/recv pipe: -- CMD)", *u));
    }
  }
  if (a.lines && a.raw) return usage("--lines and --raw exclude each other");

  BridgeOptions o;
  o.both_ways = a.both_ways;
  o.endpoint.create = a.create;
  if (a.lines) o.endpoint.framing = Framing::kLines;
  if (a.raw) o.endpoint.framing = Framing::kRaw;
  o.endpoint.end_marker = !a.no_end_marker;
  o.endpoint.should_stop = [] { return stop_signal() != 0; };
  if (a.verbose) {
    o.endpoint.verbose = [](const std::string& line) { std::fprintf(stderr, "ipckit bridge: %s\n", line.c_str()); };
  }
  if (!a.count.empty()) {
    auto c = parse_count(a.count, "--count", 1);
    if (!c) return usage(c.error().str());
    o.count = *c;
  }
  if (!a.timeout.empty()) {
    auto t = parse_duration(a.timeout, "--timeout");
    if (!t) return usage(t.error().str());
    if (!timeout_is_forever(*t)) {
      o.timeout = std::chrono::ceil<std::chrono::milliseconds>(*t);
      o.endpoint.open_timeout = *o.timeout;
    } else {
      o.endpoint.open_timeout = std::chrono::milliseconds::max();
    }
  }
  if (!a.size.empty()) {
    auto s = parse_size(a.size, "--size", {1, kMaxSizeOption});
    if (!s) return usage(s.error().str());
    o.endpoint.max_message = static_cast<std::size_t>(*s);
  }
  int ready_fd = -1;
  if (!a.ready_fd.empty()) {
    auto fd = parse_count(a.ready_fd, "--ready-fd", 3, std::numeric_limits<int>::max());
    if (!fd) return usage(fd.error().str());
    ready_fd = static_cast<int>(*fd);
    if (::fcntl(ready_fd, F_GETFD) < 0) return usage(fmt::format("--ready-fd {}: not an open file descriptor", ready_fd));
  }
  std::optional<Error> ready_error;
  o.on_ready = [&] {
    if (a.verbose) std::fprintf(stderr, "ipckit bridge: open: %s and %s\n", a.from.c_str(), a.to.c_str());
    if (ready_fd < 0) return;
    const char byte = 1;
    auto w = write_full(ready_fd, as_bytes(std::string_view(&byte, 1)), nullptr, "--ready-fd");
    ::close(ready_fd);
    if (!w) ready_error = w.error();
  };
  if (a.stats) o.on_progress = [](const std::vector<BridgeCounters>& c) { print_counters(c); };

  std::vector<BridgeCounters> counters;
  auto r = run_bridge(a.from, a.to, o, &counters);
  if (ready_error) std::fprintf(stderr, "ipckit bridge: %s\n", ready_error->str().c_str());
  if (!r) {
    if (stop_signal() != 0 && counters.empty()) return 128 + stop_signal();  // Ctrl-C while opening
    std::fprintf(stderr, "ipckit bridge: %s\n", for_shell(r.error()).c_str());
    print_counters(counters);
    return kExitFailure;
  }
  print_counters(r->directions);
  if (r->end == BridgeEnd::kStopped) return 128 + (stop_signal() != 0 ? stop_signal() : SIGTERM);
  return ready_error ? kExitFailure : kExitOk;
}

}  // namespace

void add_bridge_command(CLI::App& app, Context& ctx) {
  static BridgeArgs args;
  auto* sub = app.add_subcommand(
      "bridge", "Move messages from FROM to TO (e.g. a channel to NATS and back on another host): ipckit bridge FROM TO");
  sub->add_option("from", args.from, "Endpoint URL to receive from, e.g. chan:/ticks, nats:hub:4222/ticks")->required();
  sub->add_option("to", args.to, "Endpoint URL to send to, e.g. nats:hub:4222/ticks, chan:/ticks")->required();
  sub->add_flag("--both-ways", args.both_ways,
                "Also move messages from TO to FROM (a second direction; a nats: side skips what this bridge "
                "published itself)");
  sub->add_flag("--create", args.create, "Create a missing fifo/mq/sysvmq/chan object, on FROM and on TO");
  sub->add_flag("--lines", args.lines, "Byte streams (fifo, unix, tcp) on either side carry lines");
  sub->add_flag("--raw", args.raw, "Plain bytes on byte streams, plain messages elsewhere, no end markers");
  sub->add_flag("--no-end-marker", args.no_end_marker,
                "Send and expect no end marker on either side (see End of stream in docs/endpoints.md)");
  sub->add_option("--ready-fd", args.ready_fd,
                  "Write one byte to fd N (3 or above) once both ends are open (start producers then: core NATS "
                  "drops what is published before a subscription exists)")
      ->type_name("N");
  sub->add_option("--timeout", args.timeout,
                  "How long to wait for either end to open, for a message to arrive, and for TO to take one "
                  "(e.g. 5, 300ms, 2m, inf; default: 5 s to open, then as long as it takes)")
      ->type_name("DURATION");
  sub->add_option("--count", args.count, "Stop after N messages (per direction), then end TO's stream")->type_name("N");
  sub->add_option("--size", args.size, "Largest message, 1 B..1 GiB (default 64KiB or the mechanism's limit)")
      ->type_name("SIZE");
  sub->add_flag("--stats", args.stats, "Print the counters on stderr every second (they are always printed on exit)");
  sub->add_flag("-v,--verbose", args.verbose, "Say what happens on stderr: connects, retries");
  sub->footer(
      "Counters on exit (stderr), one line per direction: messages, bytes, dropped (nats: messages missing\n"
      "from the sender's sequence), reconnects, in flight (read and not delivered when interrupted).\n"
      "nats: credentials come from the environment only: IPCKIT_NATS_TOKEN, IPCKIT_NATS_USER +\n"
      "IPCKIT_NATS_PASSWORD, IPCKIT_NATS_CREDS (a .creds file); nats+tls: IPCKIT_NATS_CA, IPCKIT_NATS_CERT,\n"
      "IPCKIT_NATS_KEY.\n\n"
      "Examples:\n"
      "  host A:  ipckit bridge chan:/ticks nats:hub:4222/ticks --create\n"
      "  host B:  ipckit bridge nats:hub:4222/ticks chan:/ticks --create\n"
      "  ipckit bridge mq:/jobs tcp:10.0.0.2:9000 --create\n\n"
      "Exit codes: 0 the stream ended (or --count messages went) · 1 failure, also messages lost in\n"
      "transit (the line says how many) · 2 bad usage · 130/143 SIGINT/SIGTERM.\n");
  sub->callback([&ctx] { ctx.exit_code = run_bridge_command(args); });
}

}  // namespace ipckit::cli
