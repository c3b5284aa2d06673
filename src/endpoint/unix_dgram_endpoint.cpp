// SPDX-License-Identifier: Apache-2.0
// unix-dgram:/path and unix-dgram:@name: UNIX datagram sockets (message/unix_datagram.hpp). The
// receiver binds; senders connect (retrying until the socket exists) and may be many.
#include "adapters.hpp"
#include <cerrno>

#include "datagram_endpoint.hpp"
#include "ipckit/message/unix_datagram.hpp"

namespace ipckit::detail {

Result<std::unique_ptr<Sender>> open_unix_dgram_sender(const Url& url, const EndpointOptions& options) {
  std::optional<Error> last;
  auto s = retry_until<DatagramSocket>(url, options, [&]() -> Result<std::optional<DatagramSocket>> {
    auto c = UnixDatagram::connect(url.address);
    if (c) return std::optional<DatagramSocket>(std::move(*c));
    if (c.error().is(ENOENT) || c.error().is(ECONNREFUSED)) {  // the receiver has not bound yet
      last = c.error();
      return std::optional<DatagramSocket>();
    }
    return fail(c.error());
  });
  if (!s) return fail(s.error());
  if (!*s) return open_timed_out(url, options, "receiver bound", last);
  // A UNIX datagram carries at most about SO_SNDBUF bytes; the layer's EMSGSIZE error names it.
  return std::unique_ptr<Sender>(new DatagramSender(url, options, std::move(**s), SIZE_MAX, true));
}

Result<std::unique_ptr<Receiver>> open_unix_dgram_receiver(const Url& url, const EndpointOptions& options) {
  auto s = UnixDatagram::bind(url.address);
  if (!s) return fail(s.error());
  if (auto r = chmod_unix_socket_path(url, options); !r) return fail(r.error());
  return std::unique_ptr<Receiver>(
      new DatagramReceiver(url, options, std::move(*s), nullptr, [url] { return remove_unix_socket_path(url); }));
}

}  // namespace ipckit::detail
