// SPDX-License-Identifier: Apache-2.0
// unix-seqpacket:/path and unix-seqpacket:@name: UNIX seqpacket sockets (message/unix_datagram.hpp):
// connection-oriented like unix:, but each message arrives whole, so no framing is needed. The
// receiver listens and serves one connection; the end of it is the end of stream.
#include "adapters.hpp"
#include <cerrno>

#include "datagram_endpoint.hpp"
#include "ipckit/message/unix_datagram.hpp"

namespace ipckit::detail {

Result<std::unique_ptr<Sender>> open_unix_seqpacket_sender(const Url& url, const EndpointOptions& options) {
  std::optional<Error> last;
  auto s = retry_until<DatagramSocket>(url, options, [&]() -> Result<std::optional<DatagramSocket>> {
    auto c = UnixDatagram::connect_seqpacket(url.address);
    if (c) return std::optional<DatagramSocket>(std::move(*c));
    if (c.error().is(ENOENT) || c.error().is(ECONNREFUSED)) {  // nobody listening yet
      last = c.error();
      return std::optional<DatagramSocket>();
    }
    return fail(c.error());
  });
  if (!s) return fail(s.error());
  if (!*s) return open_timed_out(url, options, "listener", last);
  return std::unique_ptr<Sender>(new DatagramSender(url, options, std::move(**s), SIZE_MAX, false));
}

Result<std::unique_ptr<Receiver>> open_unix_seqpacket_receiver(const Url& url, const EndpointOptions& options) {
  auto l = SeqPacketListener::listen(url.address);
  if (!l) return fail(l.error());
  if (auto r = chmod_unix_socket_path(url, options); !r) return fail(r.error());
  auto listener = std::make_shared<SeqPacketListener>(std::move(*l));
  auto accept = [listener](Deadline deadline) -> Result<std::optional<DatagramSocket>> {
    auto a = listener->accept_until(deadline);
    if (!a) return fail(a.error());
    if (!*a) return std::optional<DatagramSocket>();  // the deadline passed
    return std::optional<DatagramSocket>(**std::move(a));
  };
  return std::unique_ptr<Receiver>(new DatagramReceiver(url, options, std::nullopt, std::move(accept),
                                                        [url] { return remove_unix_socket_path(url); }));
}

}  // namespace ipckit::detail
