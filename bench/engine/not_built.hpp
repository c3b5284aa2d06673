// SPDX-License-Identifier: Apache-2.0
// A mechanism this build cannot run: it stays in the driver table so runs list it under
// not_available with the reason, instead of hiding it.
#pragma once

#include <string>
#include <string_view>

#include "engine/mechanism.hpp"

namespace ipckit::bench {

class NotBuiltMechanism final : public Mechanism {
 public:
  constexpr NotBuiltMechanism(std::string_view name, Wait wait, std::string_view reason) noexcept
      : name_(name), wait_(wait), reason_(reason) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view description() const noexcept override { return reason_; }
  Wait wait() const noexcept override { return wait_; }
  bool supports(Pattern) const noexcept override { return true; }
  Availability available() const override { return {false, std::string(reason_)}; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    return fail_library(LibraryCode::kNotAvailable, "bench", ipckit::quoted(name_), std::string(reason_));
  }

 private:
  std::string_view name_;
  Wait wait_;
  std::string_view reason_;
};

inline constexpr std::string_view kNoChannelLayer = "not built: channel layer missing";

}  // namespace ipckit::bench
