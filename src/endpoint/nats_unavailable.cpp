// SPDX-License-Identifier: Apache-2.0
// The nats: scheme in a libipckit built without libnats (IPCKIT_WITH_NATS=OFF, or libnats-dev not
// found at configure time; cmake/IpckitNats.cmake builds this file instead of nats_endpoint.cpp).
// URLs still parse, so a script gets the same usage errors; opening one says what is missing.
#include "adapters.hpp"

namespace ipckit {

bool nats_built_in() noexcept { return false; }

namespace detail {
namespace {

Unexpected built_without_nats(const Url& url, std::string_view call) {
  return fail_library(LibraryCode::kNotAvailable, std::string(call), url_object(url),
                      "this ipckit was built without NATS: install libnats-dev (scripts/install-deps) and "
                      "reconfigure with -DIPCKIT_WITH_NATS=ON");
}

}  // namespace

Result<std::unique_ptr<Sender>> open_nats_sender(const Url& url, const EndpointOptions& /*options*/) {
  return built_without_nats(url, "open_sender");
}

Result<std::unique_ptr<Receiver>> open_nats_receiver(const Url& url, const EndpointOptions& /*options*/) {
  return built_without_nats(url, "open_receiver");
}

}  // namespace detail
}  // namespace ipckit
