// SPDX-License-Identifier: Apache-2.0
// Fuzzes parse_url and parse_size, which read what users type (and what scripts generate).
//
// Checked: no crash or UB; a parsed URL is consistent (its scheme's name is the text's prefix, a
// tcp/udp URL has a host, query values are re-readable); an error names "url" and quotes the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipckit/endpoint/url.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto u = ipckit::parse_url(text);
  if (u) {
    // nats+tls: is the nats scheme with Url::tls set.
    const std::string prefix = std::string(ipckit::to_string(u->scheme)) + (u->tls ? "+tls:" : ":");
    check(text.substr(0, prefix.size()) == prefix);
    check(u->text == text);
    if (u->scheme == ipckit::Scheme::kTcp || u->scheme == ipckit::Scheme::kUdp) check(!u->host.empty());
    for (const auto& [k, v] : u->query) check(u->option(k) == v);
    // A URL that parsed once parses the same way again.
    auto again = ipckit::parse_url(u->text);
    check(again && again->address == u->address && again->query == u->query);
  } else {
    check(u.error().call() == "url");
  }
  auto s = ipckit::parse_size(text, "--size");
  if (!s) check(s.error().call() == "--size");
  return 0;
}
