// SPDX-License-Identifier: Apache-2.0
/// @file
/// expect_ok(): the exception-style path for calls whose success still carries a status. or_throw()
/// throws only on errors; a send to a channel whose consumer closed succeeds with kPeerClosed, and a
/// reservation made then has an empty span. expect_ok() throws for those too, so its value can be
/// used without looking at the status:
///
/// @code
///   auto slot = ipckit::expect_ok(tx.reserve(64));     // throws unless the status is kOk
///   std::memcpy(slot.data.data(), "hello", 5);         // slot.data has the 64 bytes asked for
/// @endcode
///
/// It takes a Result of a status enum (ChannelStatus, BroadcastStatus, IoStatus, ...) or of a type
/// with a `status` member (Reservation, ReceivedView, ReceivedCopy, BroadcastReceived, IoResult),
/// whose enum has a kOk and a to_string() found by argument-dependent lookup.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Thrown by expect_ok() for an error-free outcome other than kOk. status_name() is the status's
/// to_string() ("peer closed", "would block", ...); what() is "unexpected status: NAME (expected ok)".
class UnexpectedStatus : public std::runtime_error {
 public:
  /// Records the status's to_string() text and its numeric value.
  UnexpectedStatus(std::string status_name, int status_value)
      : std::runtime_error("unexpected status: " + status_name + " (expected ok)"),
        name_(std::move(status_name)), value_(status_value) {}
  /// The status's to_string() text ("peer closed", "would block", ...).
  [[nodiscard]] const std::string& status_name() const noexcept { return name_; }
  /// The enum's numeric value, for a switch over the original enum (static_cast it back).
  [[nodiscard]] int status_value() const noexcept { return value_; }

 private:
  std::string name_;
  int value_;
};

namespace detail {

template <class S>
concept StatusEnum = std::is_enum_v<S> && requires(S s) {
  S::kOk;
  { to_string(s) };
};

template <class T>
concept HasStatus = requires { requires StatusEnum<std::remove_cvref_t<decltype(std::declval<const T&>().status)>>; };

template <StatusEnum S>
void expect_ok_status(S status) {
  if (status != S::kOk) throw UnexpectedStatus(std::string(to_string(status)), static_cast<int>(status));
}

}  // namespace detail

/// The value when the call succeeded with kOk; ErrorException (the error) or UnexpectedStatus (any
/// other status) otherwise.
template <class T>
  requires(detail::StatusEnum<T> || detail::HasStatus<T>)
[[nodiscard]] T expect_ok(Result<T>&& result) {
  T value = or_throw(std::move(result));
  if constexpr (detail::StatusEnum<T>) {
    detail::expect_ok_status(value);
  } else {
    detail::expect_ok_status(value.status);
  }
  return value;
}

/// For a call whose success carries nothing, expect_ok is or_throw: it throws on error.
inline void expect_ok(Result<void>&& result) { or_throw(std::move(result)); }

}  // namespace ipckit
