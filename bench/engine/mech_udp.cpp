// SPDX-License-Identifier: Apache-2.0
// udp: two UDP sockets on 127.0.0.1 connected to each other. One datagram per frame. UDP may drop
// datagrams when the receiver falls behind: gaps are counted as `lost` and make the row unverified;
// receives time out so a lost end frame or reply cannot hang a side. Blocking.
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "engine/socket_mechanism.hpp"

namespace ipckit::bench {
namespace {

// IPv4: 65535 - 20 (IP header) - 8 (UDP header).
constexpr std::size_t kUdpMaxPayload = 65507;

class UdpSession final : public FdSession {
 public:
  UdpSession() noexcept : FdSession(Kind::kMessage, true, true) {
    ends_[0] = {0, 0};
    ends_[1] = {1, 1};
  }
  std::array<UniqueFd, 4>& owned() noexcept { return owned_; }
};

class UdpMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "udp"; }
  std::string_view description() const noexcept override {
    return "two connected UDP sockets on 127.0.0.1; one datagram per frame; losses counted";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  bool lossy() const noexcept override { return true; }
  Availability available() const override { return loopback_available(AF_INET); }
  std::optional<std::string> limit(Pattern, std::size_t size) const override {
    if (size > kUdpMaxPayload) return fmt::format("udp max payload={}", kUdpMaxPayload);
    return std::nullopt;
  }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t size) const override {
    auto a = loopback(AF_INET, SOCK_DGRAM);
    if (!a) return fail(a.error());
    auto s = std::make_unique<UdpSession>();
    if (auto r = make_datagram_pair(s->owned(), *a, *a, SOCK_DGRAM, true, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& udp_mechanism() {
  static const UdpMechanism m;
  return m;
}

}  // namespace ipckit::bench
