// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: the per-scheme adapters and the helpers they share.
//
// Each scheme lives in its own <scheme>_endpoint.cpp, built on its mechanism layer's types, and is
// listed in the table in endpoint.cpp.
#pragma once

#include <cerrno>
#include <chrono>
#include <optional>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "ipckit/endpoint/endpoint.hpp"

namespace ipckit::detail {

using SenderPtr = std::unique_ptr<Sender>;
using ReceiverPtr = std::unique_ptr<Receiver>;
using OpenSenderFn = Result<SenderPtr> (*)(const Url&, const EndpointOptions&);
using OpenReceiverFn = Result<ReceiverPtr> (*)(const Url&, const EndpointOptions&);

// One pair per scheme, in <scheme>_endpoint.cpp.
[[nodiscard]] Result<std::unique_ptr<Sender>> open_pipe_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_pipe_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_fifo_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_fifo_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_unix_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_unix_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_tcp_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_tcp_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_mq_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_mq_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_sysvmq_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_sysvmq_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_unix_dgram_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_unix_dgram_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_unix_seqpacket_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_unix_seqpacket_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_udp_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_udp_receiver(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Sender>> open_chan_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_chan_receiver(const Url& url, const EndpointOptions& options);
// nats_endpoint.cpp, or nats_unavailable.cpp when built without libnats.
[[nodiscard]] Result<std::unique_ptr<Sender>> open_nats_sender(const Url& url, const EndpointOptions& options);
[[nodiscard]] Result<std::unique_ptr<Receiver>> open_nats_receiver(const Url& url, const EndpointOptions& options);

// The permission for created objects: URL mode= over options.mode.
[[nodiscard]] mode_t effective_mode(const Url& url, const EndpointOptions& options);
// The framing of a byte stream: --lines/--raw (options.framing), else raw for pipe:, length otherwise.
[[nodiscard]] Framing effective_framing(const Url& url, const EndpointOptions& options) noexcept;
// options.max_message, or kDefaultMaxMessage when 0.
[[nodiscard]] std::size_t effective_max(const EndpointOptions& options) noexcept;
// "3 messages (117 B)": what a receiver got, for the errors of a session cut short.
[[nodiscard]] std::string arrived_text(std::uint64_t messages, std::uint64_t bytes);
// The URL as error messages quote it: quoted(url.text).
[[nodiscard]] std::string url_object(const Url& url);

// A named object (fifo/mq/sysvmq/chan) that does not exist: the layer's ENOENT with a hint in endpoint
// terms ("mq:/jobs does not exist; pass --create ..."). Other errors pass through unchanged.
[[nodiscard]] Error explain_missing(const Url& url, Error error);

// The ETIMEDOUT error of a sender that gave up: names the URL, the timeout and what it waited for.
[[nodiscard]] Unexpected open_timed_out(const Url& url, const EndpointOptions& options, std::string_view waiting_for,
                                        const std::optional<Error>& last);

// Calls `attempt` (returning Result<std::optional<T>>: nullopt = not yet, retry) until it yields a value
// or an error, or options.open_timeout passes (then nullopt), or options.should_stop() (then ECANCELED).
// Backs off from 1 ms to 50 ms between attempts: the peer's arrival has no fd to wait on (a socket
// file, a FIFO reader, a queue's creation).
template <class T, class F>
[[nodiscard]] Result<std::optional<T>> retry_until(const Url& url, const EndpointOptions& options, F&& attempt) {
  const Deadline deadline = deadline_after(options.open_timeout);
  auto pause = std::chrono::milliseconds(1);
  unsigned attempts = 0;
  for (;;) {
    auto r = attempt();
    if (!r) return fail(r.error());
    if (*r) return r;
    if (options.should_stop && options.should_stop()) {
      return fail_errno(ECANCELED, "open_sender", url_object(url), "interrupted");
    }
    const auto now = Clock::now();
    ++attempts;
    if (options.verbose && (attempts <= 3 || attempts % 20 == 0)) {
      // The first few, then one in twenty (about every second once the backoff reached 50 ms).
      options.verbose(fmt::format("attempt {}: {} not reachable yet; retrying until the --timeout", attempts,
                                  url.text));
    }
    if (now >= deadline) return std::optional<T>();
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace ipckit::detail
