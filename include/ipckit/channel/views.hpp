// SPDX-License-Identifier: Apache-2.0
/// @file
/// What the SPSC and MPMC endpoints hand out: a reservation to write into, a view of a received
/// record, the result of a copying receive. Each carries the channel's outcome (ChannelStatus).
#pragma once

#include <cstddef>
#include <span>

#include "ipckit/channel/options.hpp"
#include "ipckit/core/expect_ok.hpp"

namespace ipckit {

/// What reserve() hands out: a writable span of exactly the requested size when status is kOk.
struct [[nodiscard]] Reservation {
  ChannelStatus status = ChannelStatus::kWouldBlock;  ///< the outcome; data is meaningful only when kOk
  std::span<std::byte> data;                          ///< the bytes to fill in place, until commit()
  /// True when status is kOk.
  explicit operator bool() const noexcept { return status == ChannelStatus::kOk; }
};

/// What receive() hands out: a view into the ring, valid until release().
struct [[nodiscard]] ReceivedView {
  ChannelStatus status = ChannelStatus::kWouldBlock;  ///< the outcome; data is meaningful only when kOk
  std::span<const std::byte> data;                    ///< the record's payload, valid until release()
  bool redelivered = false;  ///< a previous consumer died holding this record
  /// True when status is kOk.
  explicit operator bool() const noexcept { return status == ChannelStatus::kOk; }
};

/// What the copying receive(buffer) reports.
struct [[nodiscard]] ReceivedCopy {
  ChannelStatus status = ChannelStatus::kWouldBlock;  ///< the outcome; size is meaningful only when kOk
  std::size_t size = 0;                               ///< bytes copied into the buffer
  bool redelivered = false;                           ///< a previous consumer died holding this record
  /// True when status is kOk.
  explicit operator bool() const noexcept { return status == ChannelStatus::kOk; }
};

}  // namespace ipckit
