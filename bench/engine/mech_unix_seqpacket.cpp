// SPDX-License-Identifier: Apache-2.0
// unix-seqpacket: UNIX seqpacket socket on an abstract address: the receiver accepts, the sender connects; one message per frame. Blocking.
#include <sys/socket.h>

#include "engine/registry.hpp"
#include "engine/socket_mechanism.hpp"

namespace ipckit::bench {
namespace {

class UnixSeqpacketMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "unix-seqpacket"; }
  std::string_view description() const noexcept override { return "UNIX seqpacket socket on an abstract address: the receiver accepts, the sender connects; one message per frame"; }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    return unix_message_limit(SOCK_SEQPACKET, size);
  }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto address = fresh_abstract_address();
    if (!address) return fail(address.error());
    auto s = std::make_unique<ListenerSession>(TransportSession::Kind::kMessage, SOCK_SEQPACKET);
    if (auto r = s->listen_on(*address, false, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& unix_seqpacket_mechanism() {
  static const UnixSeqpacketMechanism m;
  return m;
}

}  // namespace ipckit::bench
