// SPDX-License-Identifier: Apache-2.0
// unix-dgram: two UNIX datagram sockets on abstract addresses, connected to each other by the
// parent. One datagram per frame; reliable on Linux (a full receiver blocks the sender). Blocking.
#include <sys/socket.h>

#include "engine/registry.hpp"
#include "engine/socket_mechanism.hpp"

namespace ipckit::bench {
namespace {

class DgramSession final : public FdSession {
 public:
  DgramSession() noexcept : FdSession(Kind::kMessage, false, true) {
    ends_[0] = {0, 0};
    ends_[1] = {1, 1};
  }
  std::array<UniqueFd, 4>& owned() noexcept { return owned_; }
};

class UnixDgramMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "unix-dgram"; }
  std::string_view description() const noexcept override {
    return "two connected UNIX datagram sockets on abstract addresses; one datagram per frame";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    return unix_message_limit(SOCK_DGRAM, size);
  }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto a = fresh_abstract_address();
    if (!a) return fail(a.error());
    auto b = fresh_abstract_address();
    if (!b) return fail(b.error());
    auto s = std::make_unique<DgramSession>();
    if (auto r = make_datagram_pair(s->owned(), *a, *b, SOCK_DGRAM, false, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& unix_dgram_mechanism() {
  static const UnixDgramMechanism m;
  return m;
}

}  // namespace ipckit::bench
