// SPDX-License-Identifier: Apache-2.0
// tcp6: TCP over loopback [::1] with TCP_NODELAY: the receiver accepts, the sender connects.
// Stream framing; blocking.
#include <netinet/in.h>
#include <sys/socket.h>

#include "engine/registry.hpp"
#include "engine/socket_mechanism.hpp"

namespace ipckit::bench {
namespace {

class Tcp6Mechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "tcp6"; }
  std::string_view description() const noexcept override {
    return "TCP on [::1] (ephemeral port), TCP_NODELAY; stream framing";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Availability available() const override { return loopback_available(AF_INET6); }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    auto address = loopback(AF_INET6, SOCK_STREAM);
    if (!address) return fail(address.error());
    auto s = std::make_unique<ListenerSession>(TransportSession::Kind::kStream, SOCK_STREAM);
    if (auto r = s->listen_on(*address, true); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& tcp6_mechanism() {
  static const Tcp6Mechanism m;
  return m;
}

}  // namespace ipckit::bench
