// SPDX-License-Identifier: Apache-2.0
#include "engine/transport.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace ipckit::bench {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

// How often (in messages) the loops read the clock: every message for large frames, every 16 for
// small ones, where a clock read would be a visible share of the work.
std::uint64_t clock_mask(std::size_t size) noexcept { return size >= 4096 ? 0 : 15; }

std::string frame_failure(FrameCheck check, std::uint64_t expected) {
  return fmt::format("frame {}: {}", expected, to_string(check));
}

}  // namespace

Result<void> TransportSession::run(Role role, const RunContext& ctx, SideStats& stats) {
  if (ctx.pattern == Pattern::kThroughput) {
    if (role == Role::kSender) return throughput_sender(ctx, stats);
    return kind_ == Kind::kStream ? stream_receiver(ctx, stats) : message_receiver(ctx, stats);
  }
  return role == Role::kSender ? rtt_client(ctx, stats) : rtt_server(ctx, stats);
}

Result<void> TransportSession::throughput_sender(const RunContext& ctx, SideStats& stats) {
  std::vector<std::byte> buf(ctx.size);
  const std::uint64_t mask = clock_mask(ctx.size);
  SideClock clock(ctx);
  std::uint64_t seq = 0;
  bool peer_gone = false;
  for (;;) {
    if ((seq & mask) == 0 && !clock.tick(seq)) break;
    ctx.payload->fill(buf.data(), ctx.size, seq);
    auto sent = send(buf);
    if (!sent) return fail(sent.error());
    if (!*sent) {
      peer_gone = true;
      break;
    }
    ++seq;
  }
  clock.finish(seq, stats);
  if (!peer_gone) {
    if (kind_ == Kind::kMessage) {
      ctx.payload->fill(buf.data(), ctx.size, seq, kFlagEnd);
      // A lossy transport may drop one end frame; the receiver also stops on sender_done.
      for (int i = 0; i < (lossy_ ? 3 : 1); ++i) {
        auto sent = send(buf);
        if (!sent) return fail(sent.error());
      }
    }
    auto done = finish_sending();
    if (!done) return done;
  }
  ctx.control->sender_done.store(1, std::memory_order_release);  // pairs with acquire in receivers
  return {};
}

Result<void> TransportSession::stream_receiver(const RunContext& ctx, SideStats& stats) {
  const std::size_t cap = 2 * std::max(ctx.size, kReadChunk);
  std::vector<std::byte> buf(cap);
  std::size_t have = 0;
  std::size_t pos = 0;
  std::uint64_t expected = 0;
  const std::uint64_t mask = clock_mask(ctx.size);
  SideClock clock(ctx);
  for (;;) {
    auto got = receive(std::span(buf).subspan(have, std::min(kReadChunk, cap - have)));
    if (!got) return fail(got.error());
    const std::size_t n = got->value_or(0);
    if (n == 0) break;  // end of stream: the sender closed
    have += n;
    bool bad = false;
    while (have - pos >= ctx.size) {
      const FrameCheck c = check_frame(buf.data() + pos, ctx.size, ctx.size, expected);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(frame_failure(c, expected));
        bad = true;
        break;
      }
      pos += ctx.size;
      ++expected;
      if ((expected & mask) == 0) clock.tick(expected);
    }
    if (bad) break;  // closing makes the sender's next write fail with EPIPE: the run ends
    // Move the partial frame to the front: less than one frame, and less than one read (64 KiB)
    // for large frames, since a frame completes within the read that finishes it. Afterwards at
    // least cap - size >= 64 KiB are free for the next read.
    if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
      pos = 0;
    }
  }
  clock.mark_last();
  if (have != pos && stats.verified) stats.set_unverified("stream ended inside a frame");
  clock.finish(expected, stats);
  return {};
}

Result<void> TransportSession::message_receiver(const RunContext& ctx, SideStats& stats) {
  std::vector<std::byte> buf(ctx.size + 1);
  std::uint64_t expected = 0;
  std::uint64_t received = 0;
  const std::uint64_t mask = clock_mask(ctx.size);
  SideClock clock(ctx);
  for (;;) {
    auto got = receive(buf);
    if (!got) return fail(got.error());
    if (!*got) {  // timed out (lossy only): finished when the sender is
      if (ctx.control->sender_done.load(std::memory_order_acquire) != 0 || ctx.stop_requested()) break;
      continue;
    }
    const std::size_t n = **got;
    if (n == 0) break;  // a connected message socket closed by the sender
    std::uint64_t seq = expected;
    if (lossy_ && n == ctx.size) {
      seq = read_header(buf.data()).seq;
      if (seq < expected) {  // duplicated or reordered: the transport broke its promise
        stats.set_unverified(fmt::format("frame {} arrived after {}", seq, expected));
        break;
      }
    }
    const FrameCheck c = check_frame(buf.data(), n, ctx.size, seq);
    if (c == FrameCheck::kEnd) break;
    if (c != FrameCheck::kOk) {
      stats.set_unverified(frame_failure(c, expected));
      break;
    }
    if (lossy_) clock.mark_last();
    expected = seq + 1;
    ++received;
    if ((received & mask) == 0) clock.tick(received);
  }
  if (!lossy_) clock.mark_last();
  clock.finish(received, stats);
  return {};
}

Result<std::size_t> TransportSession::receive_frame(std::span<std::byte> buf, std::size_t size,
                                                    bool& timed_out) {
  timed_out = false;
  if (kind_ == Kind::kMessage) {
    auto got = receive(buf.first(size + 1));
    if (!got) return fail(got.error());
    if (!*got) {
      timed_out = true;
      return 0;
    }
    return **got;  // a wrong length is reported by check_frame
  }
  std::size_t have = 0;
  while (have < size) {
    auto got = receive(buf.subspan(have, size - have));
    if (!got) return fail(got.error());
    const std::size_t n = got->value_or(0);
    if (n == 0) return 0;  // end of stream (a partial frame counts as the peer leaving)
    have += n;
  }
  return have;
}

Result<void> TransportSession::rtt_client(const RunContext& ctx, SideStats& stats) {
  std::vector<std::byte> out(ctx.size);
  std::vector<std::byte> in(ctx.size + 1);
  SideClock clock(ctx);
  std::uint64_t seq = 0;
  bool peer_gone = false;
  while (clock.tick(seq)) {
    ctx.payload->fill(out.data(), ctx.size, seq);
    const std::uint64_t t0 = SideClock::now_ns();
    auto sent = send(out);
    if (!sent) return fail(sent.error());
    if (!*sent) {
      peer_gone = true;
      break;
    }
    bool answered = false;
    for (;;) {
      bool timed_out = false;
      auto got = receive_frame(in, ctx.size, timed_out);
      if (!got) return fail(got.error());
      if (timed_out) break;  // lossy: give this round trip up
      if (*got == 0) {
        peer_gone = true;
        break;
      }
      if (lossy_ && *got == ctx.size && read_header(in.data()).seq < seq) continue;  // late reply
      const FrameCheck c = check_frame(in.data(), *got, ctx.size, seq);
      if (c != FrameCheck::kOk) {
        stats.set_unverified(frame_failure(c, seq));
        peer_gone = true;
        break;
      }
      answered = true;
      break;
    }
    if (peer_gone) break;
    if (answered) {
      const std::uint64_t t1 = SideClock::now_ns();
      if (clock.warm()) ctx.control->histogram.record(t1 - t0);
    } else {
      ++stats.lost;
    }
    ++seq;
  }
  clock.finish(seq, stats);
  if (!peer_gone) {
    if (kind_ == Kind::kMessage) {
      ctx.payload->fill(out.data(), ctx.size, seq, kFlagEnd);
      for (int i = 0; i < (lossy_ ? 3 : 1); ++i) {
        auto sent = send(out);
        if (!sent) return fail(sent.error());
      }
    }
    auto done = finish_sending();
    if (!done) return done;
  }
  ctx.control->sender_done.store(1, std::memory_order_release);  // pairs with acquire in rtt_server()
  return {};
}

Result<void> TransportSession::rtt_server(const RunContext& ctx, SideStats& stats) {
  std::vector<std::byte> in(ctx.size + 1);
  std::vector<std::byte> out(ctx.size);
  SideClock clock(ctx);
  std::uint64_t expected = 0;
  std::uint64_t served = 0;
  for (;;) {
    bool timed_out = false;
    auto got = receive_frame(in, ctx.size, timed_out);
    if (!got) return fail(got.error());
    if (timed_out) {
      if (ctx.control->sender_done.load(std::memory_order_acquire) != 0 || ctx.stop_requested()) break;
      continue;
    }
    if (*got == 0) break;  // the client closed
    std::uint64_t seq = expected;
    if (lossy_ && *got == ctx.size) seq = std::max(expected, read_header(in.data()).seq);
    const FrameCheck c = check_frame(in.data(), *got, ctx.size, seq);
    if (c == FrameCheck::kEnd) break;
    if (c != FrameCheck::kOk) {
      stats.set_unverified(frame_failure(c, seq));
      break;
    }
    ctx.payload->fill(out.data(), ctx.size, seq);
    auto sent = send(out);
    if (!sent) return fail(sent.error());
    if (!*sent) break;
    expected = seq + 1;
    ++served;
    clock.tick(served);
  }
  clock.mark_last();
  clock.finish(served, stats);
  return {};
}

}  // namespace ipckit::bench
