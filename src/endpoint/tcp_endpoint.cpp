// SPDX-License-Identifier: Apache-2.0
// tcp:HOST:PORT and tcp:[v6]:PORT: TCP (stream/tcp.hpp), framed (framing.hpp).
#include <cerrno>

#include <fmt/format.h>

#include "adapters.hpp"
#include "ipckit/stream/tcp.hpp"
#include "stream_socket_endpoint.hpp"

namespace ipckit::detail {

Result<SenderPtr> open_tcp_sender(const Url& url, const EndpointOptions& options) {
  std::optional<Error> last;
  const Deadline deadline = deadline_after(options.open_timeout);
  auto s = retry_until<StreamSocket>(url, options, [&]() -> Result<std::optional<StreamSocket>> {
    // connect_until: a host that drops SYNs must not hold us past the deadline.
    auto c = Tcp::connect_until(url.host, url.port, deadline);
    if (c && *c) return std::optional<StreamSocket>(**std::move(c));
    if (c) return std::optional<StreamSocket>();  // the deadline passed
    if (c.error().is(ECONNREFUSED)) {  // nobody listening yet: the receiver may still be starting
      last = c.error();
      return std::optional<StreamSocket>();
    }
    return fail(c.error());
  });
  if (!s) return fail(s.error());
  if (!*s) return open_timed_out(url, options, "listener", last);
  if (options.verbose) {
    auto peer = (*s)->peer_address();
    auto local = (*s)->local_address();
    options.verbose(fmt::format("connected to {} from {}", peer ? peer->to_string() : std::string("?"),
                                local ? local->to_string() : std::string("?")));
  }
  return SenderPtr(new StreamSocketSender(url, options, std::move(**s)));
}

Result<ReceiverPtr> open_tcp_receiver(const Url& url, const EndpointOptions& options) {
  auto l = Tcp::listen(url.host, url.port);
  if (!l) return fail(l.error());
  return ReceiverPtr(new StreamSocketReceiver(url, options, std::move(*l), nullptr));
}

}  // namespace ipckit::detail
