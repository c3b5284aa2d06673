// SPDX-License-Identifier: Apache-2.0
// udp:HOST:PORT and udp:[v6]:PORT: UDP (message/udp.hpp). The receiver binds and raises SO_RCVBUF to
// net.core.rmem_max (with SO_RCVBUFFORCE beyond it when the process has CAP_NET_ADMIN), so a
// loopback burst is not dropped for want of buffer; UDP may still lose datagrams, and nothing here
// hides that. The sender connects (no handshake: start the receiver first).
#include "adapters.hpp"
#include <sys/socket.h>

#include <cerrno>
#include <fstream>

#include "datagram_endpoint.hpp"
#include "ipckit/message/udp.hpp"

namespace ipckit::detail {
namespace {

// The largest UDP payload: 65535 - 8 (UDP header) - 20 (IPv4) or - 0 (IPv6 counts its own header
// outside the payload length): 65507 / 65527.
std::size_t udp_limit(const Url& url) { return url.host.find(':') != std::string::npos ? 65527 : 65507; }

Result<void> raise_receive_buffer(DatagramSocket& s) {
  long rmem_max = 0;
  std::ifstream("/proc/sys/net/core/rmem_max") >> rmem_max;
  if (rmem_max <= 0) return {};
  // SO_RCVBUFFORCE (CAP_NET_ADMIN) is not capped by rmem_max, so it gets the full amount even where
  // the cap is lower than asked; the kernel doubles either request for its bookkeeping. The message
  // layer has no force setter, hence the one setsockopt here; without the capability fall back to
  // SO_RCVBUF, which the kernel caps at rmem_max.
  const int want = static_cast<int>(std::min<long>(rmem_max, INT32_MAX / 2));
  if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) == 0) return {};
  return s.set_receive_buffer_size(want);
}

}  // namespace

Result<std::unique_ptr<Sender>> open_udp_sender(const Url& url, const EndpointOptions& options) {
  auto s = Udp::connect(url.host, url.port);
  if (!s) return fail(s.error());
  return std::unique_ptr<Sender>(new DatagramSender(url, options, std::move(*s), udp_limit(url), true));
}

Result<std::unique_ptr<Receiver>> open_udp_receiver(const Url& url, const EndpointOptions& options) {
  auto s = Udp::bind(url.host, url.port);
  if (!s) return fail(s.error());
  if (auto r = raise_receive_buffer(*s); !r) return fail(r.error());
  return std::unique_ptr<Receiver>(new DatagramReceiver(url, options, std::move(*s), nullptr, nullptr));
}

}  // namespace ipckit::detail
