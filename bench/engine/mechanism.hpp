// SPDX-License-Identifier: Apache-2.0
// The mechanism driver interface of `ipckit bench`.
//
// A Mechanism describes one way of moving messages (a kernel IPC mechanism, a baseline, the ipckit
// channel, or a peer library) and opens Sessions. A Session owns the objects of one benchmark run:
// the parent creates it before fork(), each child (one per producer and per consumer) calls
// prepare() and run(), and the parent destroys it afterwards, which removes every object it
// created. Adding a mechanism (for example a peer library) is one more mech_<name>.cpp that defines
// a Mechanism and one line in registry.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/frame.hpp"
#include "engine/histogram.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit::bench {

enum class Pattern { kThroughput, kRtt };
// How a side waits for the other: spinning, spinning then sleeping on a futex, blocking in the
// kernel, or through epoll readiness.
enum class Wait { kBusy, kSpinFutex, kBlocking, kEpoll };
// kSender: throughput producer / round-trip client. kReceiver: consumer / round-trip echo server.
enum class Role { kSender = 0, kReceiver = 1 };

[[nodiscard]] std::string_view to_string(Pattern p) noexcept;
[[nodiscard]] std::string_view to_string(Wait w) noexcept;

// Processes of one run: `producers` senders and `consumers` receivers, each a forked child of its
// own (consumers = 0: one process does everything, e.g. memcpy).
struct Procs {
  int producers = 1;
  int consumers = 1;
};
// The most processes on one side of a run (the broadcast rows go up to 8 subscribers).
inline constexpr int kMaxSideProcs = 8;

// Where the frames of a run go when there are several consumers: each frame to one of them (a
// queue: the rate is the sum over consumers), or every frame to every consumer (broadcast: the rate
// is per consumer, each receiving all of them).
enum class Delivery { kOne, kEach };

// What one side reports; written by the child into shared memory (trivially copyable).
struct SideStats {
  std::uint64_t msgs_total = 0;  // every message sent/received, warm-up included
  std::uint64_t msgs = 0;        // after warm-up
  std::uint64_t elapsed_ns = 0;  // after warm-up, on this side's clock
  std::uint64_t cpu_ns = 0;      // CLOCK_PROCESS_CPUTIME_ID after warm-up
  std::uint64_t lost = 0;        // round trips given up (lossy mechanisms)
  // Sum of frame_digest(seq) over every frame sent/received, warm-up included (0 where a driver does
  // not compute it). With several consumers sharing the frames, equal sums on both sides show that
  // together they received exactly the frames sent: none lost, none twice (counts alone could hide a
  // loss and a duplicate).
  std::uint64_t digest = 0;
  std::uint32_t verified = 1;    // 0: a frame failed its check
  std::uint32_t failed = 0;      // 1: the side could not run; see error
  char error[240] = {};

  void set_error(std::string_view text) noexcept;
  void set_unverified(std::string_view text) noexcept;
};

// Shared between the parent and its children for one run (anonymous MAP_SHARED memory).
struct alignas(128) ControlBlock {
  std::atomic<std::uint32_t> stop{0};         // parent -> children: finish now
  alignas(128) std::atomic<std::uint32_t> sender_done{0};  // sender -> receiver (lossy mechanisms)
  // One slot per process, written only by that process (before it exits), read by the parent after
  // it reaped them all.
  alignas(128) SideStats senders[kMaxSideProcs];
  SideStats receivers[kMaxSideProcs];
  Histogram histogram;  // rtt: every round trip after warm-up, recorded by the client
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// What a side's body gets.
struct RunContext {
  Pattern pattern = Pattern::kThroughput;
  std::size_t size = 64;
  std::uint64_t warmup_ns = 0;
  std::uint64_t duration_ns = 0;  // measured window after warm-up
  ControlBlock* control = nullptr;
  const PayloadSource* payload = nullptr;
  Procs procs;    // the run's processes
  int index = 0;  // this process among its side's: 0 .. procs.producers/consumers - 1

  [[nodiscard]] bool stop_requested() const noexcept {
    return control->stop.load(std::memory_order_relaxed) != 0;  // a plain flag; no data depends on it
  }
};

// Measures one side's window: call begin() when the run starts, tick() as messages pass (it takes
// the warm-up snapshot), and finish() at the end.
class SideClock {
 public:
  explicit SideClock(const RunContext& ctx) noexcept;
  // Returns true while the sender should keep going (before warm-up + duration, no stop request).
  bool tick(std::uint64_t msgs_so_far) noexcept;
  // Records the last message time (receivers: the end of the window).
  void mark_last() noexcept;
  void finish(std::uint64_t msgs_total, SideStats& stats) noexcept;
  [[nodiscard]] bool warm() const noexcept { return warm_; }
  [[nodiscard]] static std::uint64_t now_ns() noexcept;
  [[nodiscard]] static std::uint64_t cpu_ns() noexcept;

 private:
  const RunContext& ctx_;
  std::uint64_t start_;
  std::uint64_t start_cpu_;
  std::uint64_t end_;
  bool warm_ = false;
  std::uint64_t snap_time_ = 0;
  std::uint64_t snap_cpu_ = 0;
  std::uint64_t snap_msgs_ = 0;
  std::uint64_t last_ = 0;
};

class Session {
 public:
  virtual ~Session() = default;  // parent: removes every object the session created
  // Child of `role`, pinned, before the start handshake: open this side's ends, close the other's.
  [[nodiscard]] virtual Result<void> prepare(Role role) = 0;
  // Child of `role`: the measured body. Frame failures go into stats (verified = 0), not errors.
  [[nodiscard]] virtual Result<void> run(Role role, const RunContext& ctx, SideStats& stats) = 0;
  // Parent, after the children are forked: close the parent's copies of their descriptors.
  virtual void after_fork() noexcept {}
  // Parent, after every child reported ready: remove names nobody needs to open any more.
  virtual void after_ready() noexcept {}
};

struct Availability {
  bool ok = true;
  std::string reason;  // why not, for not_available
};

class Mechanism {
 public:
  virtual ~Mechanism() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  // One line for --help and docs: what the driver does.
  [[nodiscard]] virtual std::string_view description() const noexcept = 0;
  [[nodiscard]] virtual Wait wait() const noexcept = 0;
  [[nodiscard]] virtual Procs procs() const noexcept { return {}; }
  // With several consumers: whether each frame goes to one of them or to every one (see Delivery).
  [[nodiscard]] virtual Delivery delivery() const noexcept { return Delivery::kOne; }
  // False for variants of a row (more subscribers, more producers x consumers): they run only when
  // named in --mechanisms, so the default run keeps its length.
  [[nodiscard]] virtual bool in_default_run() const noexcept { return true; }
  [[nodiscard]] virtual bool supports(Pattern pattern) const noexcept = 0;
  // True for mechanisms that may drop messages (udp): gaps are counted as lost, not failures.
  [[nodiscard]] virtual bool lossy() const noexcept { return false; }
  // True for mechanisms whose receiver reads the sender's bytes in place (iceoryx): their bytes/s
  // is not a copy bandwidth, and the output says so.
  [[nodiscard]] virtual bool zero_copy() const noexcept { return false; }
  // Parent, once at the end of a bench run (every exit path, Ctrl-C included): stops whatever the
  // mechanism started for the whole run (iceoryx: its private RouDi). Never fails.
  virtual void release() const noexcept {}
  [[nodiscard]] virtual Availability available() const { return {}; }
  // The limit that stops `size` from running, e.g. "msgsize_max=8192" (never raised: the bench does
  // not write /proc/sys), or nullopt.
  [[nodiscard]] virtual std::optional<std::string> limit(Pattern, std::size_t) const { return std::nullopt; }
  // A pattern whose message size is fixed (atomic-pingpong moves one 8-byte word).
  [[nodiscard]] virtual std::optional<std::size_t> fixed_size(Pattern) const noexcept { return std::nullopt; }
  // Parent: creates the objects of one run.
  [[nodiscard]] virtual Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const = 0;
};

// The registered mechanisms, in table order (registry.cpp).
[[nodiscard]] std::span<const Mechanism* const> all_mechanisms();
[[nodiscard]] const Mechanism* find_mechanism(std::string_view name);

// A unique name for one run's objects: "/ipckit.bench.<pid>.<n>" (valid for shm_open/mq_open;
// abstract socket names use it after '@').
[[nodiscard]] std::string unique_object_name();

// Spin-wait hint.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace ipckit::bench
