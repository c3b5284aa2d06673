// SPDX-License-Identifier: Apache-2.0
// unix-stream: UNIX stream socket on an abstract address: the receiver accepts, the sender connects; stream framing. Blocking.
#include <sys/socket.h>

#include "engine/registry.hpp"
#include "engine/socket_mechanism.hpp"

namespace ipckit::bench {
namespace {

class UnixStreamMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "unix-stream"; }
  std::string_view description() const noexcept override { return "UNIX stream socket on an abstract address: the receiver accepts, the sender connects; stream framing"; }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    auto address = fresh_abstract_address();
    if (!address) return fail(address.error());
    auto s = std::make_unique<ListenerSession>(TransportSession::Kind::kStream, SOCK_STREAM);
    if (auto r = s->listen_on(*address, false); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& unix_stream_mechanism() {
  static const UnixStreamMechanism m;
  return m;
}

}  // namespace ipckit::bench
