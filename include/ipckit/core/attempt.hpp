// SPDX-License-Identifier: Apache-2.0
/// @file
/// Attempt<T>: what a verb that may do nothing returns (try_*, *_until, *_for) when it has a value
/// to hand back: the value with IoStatus::kOk, or no value with the reason (kWouldBlock from a try_
/// form, kTimedOut when a deadline passed first). Verbs with no value to hand back (sends, waits)
/// return the IoStatus itself. So "would block" and "timed out" have one form in every layer: a
/// status compared with IoStatus::kWouldBlock / kTimedOut (docs/errors.md).
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "ipckit/core/io.hpp"

namespace ipckit {

/// A value, or the reason there is none (see the file comment). Converts to true only with a value
/// (status kOk); `*a` and `a->` reach the value and must only be used then. expect_ok() accepts it
/// (any status but kOk throws UnexpectedStatus).
template <class T>
class [[nodiscard]] Attempt {
 public:
  /// The verb did its work: \p value with status kOk.
  Attempt(T value) : status(IoStatus::kOk), value_(std::move(value)) {}  // NOLINT(google-explicit-constructor): `return value;`
  /// The verb did nothing, for \p why (kWouldBlock or kTimedOut; never kOk).
  static Attempt none(IoStatus why) noexcept {
    assert(why != IoStatus::kOk);
    return Attempt(why);
  }

  /// kOk with a value; otherwise why there is none. Read it; do not assign it.
  IoStatus status;

  /// True when the attempt produced a value (status kOk).
  explicit operator bool() const noexcept { return value_.has_value(); }
  /// True when the attempt produced a value (status kOk).
  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }

  /// The value; only with has_value().
  [[nodiscard]] T& operator*() & noexcept {
    check();
    return *value_;
  }
  /// The value; only with has_value().
  [[nodiscard]] const T& operator*() const& noexcept {
    check();
    return *value_;
  }
  /// The value, moved out; only with has_value().
  [[nodiscard]] T&& operator*() && noexcept {
    check();
    return std::move(*value_);
  }
  /// The value's members; only with has_value().
  [[nodiscard]] T* operator->() noexcept {
    check();
    return &*value_;
  }
  /// The value's members; only with has_value().
  [[nodiscard]] const T* operator->() const noexcept {
    check();
    return &*value_;
  }

 private:
  explicit Attempt(IoStatus why) noexcept : status(why) {}
  void check() const noexcept { assert(value_.has_value() && "Attempt used without a value: test it first"); }

  std::optional<T> value_;
};

}  // namespace ipckit
