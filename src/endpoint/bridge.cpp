// SPDX-License-Identifier: Apache-2.0
#include "ipckit/endpoint/bridge.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/units.hpp"

namespace ipckit {
namespace {

// Long waits are cut into slices this long, so should_stop() and the other direction's failure are
// seen promptly (the endpoints retry EINTR, as they must, so a signal alone ends no wait).
constexpr auto kSlice = std::chrono::milliseconds(100);
// After a stop, what is in flight gets this long to be delivered; the rest is reported as in flight.
constexpr auto kStopGrace = std::chrono::seconds(2);

std::string messages_text(std::uint64_t n) { return fmt::format("{} message{}", n, n == 1 ? "" : "s"); }

// One direction: FROM's receiver, TO's sender, and what it moved (atomics: read by the progress
// reporter on the calling thread while the direction's thread runs; relaxed, as they are counts that
// publish no other data; the final values are read after join()).
struct Direction {
  Url from;
  Url to;
  EndpointOptions from_options;
  EndpointOptions to_options;
  std::unique_ptr<Receiver> rx;
  std::unique_ptr<Sender> tx;
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::optional<Error> error;  // written by the direction's thread before it ends; read after join
  BridgeEnd end = BridgeEnd::kEndOfStream;

  [[nodiscard]] BridgeCounters counters() const {
    BridgeCounters c;
    c.from = from.text;
    c.to = to.text;
    c.messages = messages.load(std::memory_order_relaxed);
    c.bytes = bytes.load(std::memory_order_relaxed);
    c.in_flight = in_flight.load(std::memory_order_relaxed);
    const auto& fc = from_options.nats.counters;
    const auto& tc = to_options.nats.counters;
    c.drops = fc->lost.load(std::memory_order_relaxed) + fc->dropped.load(std::memory_order_relaxed);
    c.reconnects = fc->reconnects.load(std::memory_order_relaxed) + tc->reconnects.load(std::memory_order_relaxed);
    return c;
  }
};

class Pump {
 public:
  Pump(Direction& d, const BridgeOptions& o, const std::atomic<bool>& abort) : d_(d), o_(o), abort_(abort) {}

  Result<BridgeEnd> run() {
    std::vector<std::string> batch;
    std::string msg;
    bool ended = false;
    std::optional<Error> read_error;
    Deadline idle = idle_deadline();
    for (;;) {
      if (stopping()) return BridgeEnd::kStopped;
      // Fill: wait for one message, then take what is already there, up to the window.
      batch.clear();
      std::size_t batch_bytes = 0;
      auto want_more = [&] {
        return batch.size() < o_.window_messages && batch_bytes < o_.window_bytes &&
               (o_.count == 0 || forwarded_ + batch.size() < o_.count);
      };
      for (bool first = true; want_more(); first = false) {
        const Deadline limit = first ? std::min(idle, deadline_after(kSlice)) : Clock::now();
        auto r = d_.rx->receive_until(msg, limit);
        if (!r) {
          read_error = r.error();
          break;
        }
        if (*r == ReceiveStatus::kOk) {
          batch_bytes += msg.size();
          batch.push_back(std::move(msg));
          msg = std::string();
          continue;
        }
        if (*r == ReceiveStatus::kEndOfStream) {
          ended = true;
          break;
        }
        if (*r == ReceiveStatus::kPeerDied) {
          read_error = Error::library(LibraryCode::kProtocol, "receive", quoted(d_.from.text),
                                      fmt::format("the sender was found dead after {}: the stream is cut short",
                                                  messages_text(received_ + batch.size())));
          break;
        }
        // kTimedOut: with nothing yet, look at the stop flag and the idle limit; else send the batch.
        if (!first) break;
        if (stopping()) return BridgeEnd::kStopped;
        if (Clock::now() >= idle) {
          return fail_errno(ETIMEDOUT, "bridge", quoted(d_.from.text),
                            fmt::format("no message for {} (after {}; raise it with --timeout, or leave it out to "
                                        "wait as long as it takes)",
                                        format_duration(*o_.timeout), messages_text(received_)));
        }
      }
      if (!batch.empty()) {
        received_ += batch.size();
        idle = idle_deadline();
        d_.in_flight.store(batch.size(), std::memory_order_relaxed);  // a count only
        if (auto r = deliver(batch); !r) return fail(r.error());
        if (stopped_) return BridgeEnd::kStopped;
      }
      if (read_error) return fail(*read_error);  // TO is left without its end marker: the stream was cut
      const bool counted = o_.count != 0 && forwarded_ >= o_.count;
      if (ended || counted) {
        if (auto r = finish(); !r) return fail(r.error());
        if (stopped_) return BridgeEnd::kStopped;
        return counted ? BridgeEnd::kCount : BridgeEnd::kEndOfStream;
      }
    }
  }

 private:
  [[nodiscard]] bool stopping() const {
    return abort_.load(std::memory_order_relaxed) || (o_.endpoint.should_stop && o_.endpoint.should_stop());
  }
  [[nodiscard]] Deadline idle_deadline() const { return o_.timeout ? deadline_after(*o_.timeout) : kNoDeadline; }

  // Sends the batch in order. A stop lets what is in flight go within kStopGrace; what did not go
  // stays counted in in_flight.
  Result<void> deliver(const std::vector<std::string>& batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Deadline limit = o_.timeout ? deadline_after(*o_.timeout) : kNoDeadline;
      for (;;) {
        if (!stopped_ && stopping()) {
          stopped_ = true;
          limit = std::min(limit, deadline_after(kStopGrace));
        }
        auto r = d_.tx->send_until(as_bytes(batch[i]), std::min(limit, deadline_after(kSlice)));
        if (!r) return fail(r.error());
        if (*r == SendStatus::kOk) break;
        if (*r == SendStatus::kPeerClosed) {
          return fail_errno(EPIPE, "bridge", quoted(d_.to.text),
                            fmt::format("the receiver went away after {}", messages_text(forwarded_)));
        }
        if (Clock::now() >= limit) {
          if (stopped_) return {};
          return fail_errno(ETIMEDOUT, "bridge", quoted(d_.to.text),
                            fmt::format("took no message for {} (after {}; raise it with --timeout)",
                                        format_duration(*o_.timeout), messages_text(forwarded_)));
        }
      }
      ++forwarded_;
      d_.messages.fetch_add(1, std::memory_order_relaxed);  // a count only
      d_.bytes.fetch_add(batch[i].size(), std::memory_order_relaxed);
      d_.in_flight.store(batch.size() - i - 1, std::memory_order_relaxed);
    }
    return {};
  }

  // Ends TO's stream with its end marker (for nats: flushed to the server).
  Result<void> finish() {
    Deadline limit = o_.timeout ? deadline_after(*o_.timeout) : kNoDeadline;
    for (;;) {
      if (!stopped_ && stopping()) {
        stopped_ = true;
        limit = std::min(limit, deadline_after(kStopGrace));
      }
      auto r = d_.tx->finish_until(std::min(limit, deadline_after(kSlice)));
      if (!r) return fail(r.error());
      // kPeerClosed: every message went and the receiver left before the end (as for send).
      if (*r != SendStatus::kTimedOut) {
        stopped_ = false;  // the stream ended after all
        return {};
      }
      if (Clock::now() >= limit) {
        if (stopped_) return {};
        return fail_errno(ETIMEDOUT, "bridge", quoted(d_.to.text),
                          fmt::format("the end of the stream was not taken within {}", format_duration(*o_.timeout)));
      }
    }
  }

  Direction& d_;
  const BridgeOptions& o_;
  const std::atomic<bool>& abort_;
  std::uint64_t received_ = 0;
  std::uint64_t forwarded_ = 0;
  bool stopped_ = false;
};

// Keeps the senders of a failed bridge open until the process exits (bridge.hpp): reachable from a
// static pointer that is never destroyed, so no exit-time destructor ends their streams cleanly.
void abandon(std::unique_ptr<Sender> sender) {
  if (!sender) return;
  static std::mutex mutex;
  static auto* kept = new std::vector<std::unique_ptr<Sender>>();
  const std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(std::move(sender));
}

std::vector<BridgeCounters> snapshot(const std::vector<std::unique_ptr<Direction>>& dirs) {
  std::vector<BridgeCounters> out;
  for (const auto& d : dirs) out.push_back(d->counters());
  return out;
}

}  // namespace

Result<BridgeResult> run_bridge(std::string_view from, std::string_view to, const BridgeOptions& options,
                                std::vector<BridgeCounters>* counters) {
  auto from_url = parse_url(from);
  if (!from_url) return fail(from_url.error());
  auto to_url = parse_url(to);
  if (!to_url) return fail(to_url.error());
  if (options.window_messages == 0 || options.window_bytes == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "run_bridge", "window", "the window must hold a message");
  }

  std::vector<std::unique_ptr<Direction>> dirs;
  auto add = [&](const Url& a, const Url& b) {
    auto d = std::make_unique<Direction>();
    d->from = a;
    d->to = b;
    d->from_options = options.endpoint;
    d->to_options = options.endpoint;
    d->from_options.nats.counters = std::make_shared<NatsCounters>();
    d->to_options.nats.counters = std::make_shared<NatsCounters>();
    d->from_options.nats.ignore_own_senders = options.both_ways || options.endpoint.nats.ignore_own_senders;
    dirs.push_back(std::move(d));
  };
  add(*from_url, *to_url);
  if (options.both_ways) add(*to_url, *from_url);
  auto report = [&] {
    if (counters != nullptr) *counters = snapshot(dirs);
  };

  // Receiving sides first (they bind, create, subscribe), then the sending sides, which wait for
  // their receivers; nothing moves before every end is open.
  for (auto& d : dirs) {
    auto rx = open_receiver(d->from, d->from_options);
    if (!rx) return fail(rx.error());
    d->rx = std::move(*rx);
  }
  for (auto& d : dirs) {
    auto tx = open_sender(d->to, d->to_options);
    if (!tx) return fail(tx.error());
    d->tx = std::move(*tx);
  }
  if (options.on_ready) options.on_ready();

  std::atomic<bool> abort{false};
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t running = dirs.size();  // guarded by mutex
  std::vector<std::thread> threads;
  for (auto& d : dirs) {
    threads.emplace_back([&, dir = d.get()] {
      auto r = Pump(*dir, options, abort).run();
      if (r) {
        dir->end = *r;
      } else {
        dir->error = r.error();
        abort.store(true, std::memory_order_relaxed);  // only a flag: the error is read after join()
      }
      const std::lock_guard<std::mutex> lock(mutex);
      --running;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (running > 0) {
      if (cv.wait_for(lock, options.progress_interval, [&] { return running == 0; })) break;
      if (options.on_progress) {
        lock.unlock();
        options.on_progress(snapshot(dirs));
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  report();

  BridgeResult result;
  result.directions = snapshot(dirs);
  result.end = dirs.front()->end;
  for (auto& d : dirs) {
    if (d->error) {
      // TO must not see an end: destroying some senders ends their stream as cleanly as
      // finish_until() would (a chan: producer closes), so the senders of a failed bridge are
      // abandoned instead, and held until the process exits (then a chan: receiver sees its
      // producer dead, kPeerDied). Documented in bridge.hpp.
      for (auto& other : dirs) abandon(std::move(other->tx));
      return fail(*d->error);
    }
    if (d->end == BridgeEnd::kStopped) result.end = BridgeEnd::kStopped;
  }
  return result;
}

}  // namespace ipckit
