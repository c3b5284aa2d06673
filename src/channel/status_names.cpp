// SPDX-License-Identifier: Apache-2.0
// The channel's enum names (options.hpp, broadcast.hpp): one place for the words every pattern prints.
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/options.hpp"

namespace ipckit {

const char* to_string(WaitStrategy strategy) noexcept {
  switch (strategy) {
    case WaitStrategy::kBusyPoll: return "busy-poll";
    case WaitStrategy::kSpinThenFutex: return "spin-then-futex";
    case WaitStrategy::kBlocking: return "blocking";
  }
  return "unknown";
}

const char* to_string(ChannelStatus status) noexcept {
  switch (status) {
    case ChannelStatus::kOk: return "ok";
    case ChannelStatus::kWouldBlock: return "would block";
    case ChannelStatus::kTimedOut: return "timed out";
    case ChannelStatus::kPeerClosed: return "peer closed";
    case ChannelStatus::kPeerDied: return "peer died";
  }
  return "unknown";
}

const char* to_string(BroadcastPolicy policy) noexcept {
  switch (policy) {
    case BroadcastPolicy::kLapse: return "lapse";
    case BroadcastPolicy::kBlock: return "block";
  }
  return "unknown";
}

const char* to_string(BroadcastStatus status) noexcept {
  switch (status) {
    case BroadcastStatus::kOk: return "ok";
    case BroadcastStatus::kWouldBlock: return "would block";
    case BroadcastStatus::kTimedOut: return "timed out";
    case BroadcastStatus::kPeerClosed: return "peer closed";
    case BroadcastStatus::kPeerDied: return "peer died";
    case BroadcastStatus::kLapsed: return "lapsed";
    case BroadcastStatus::kEvicted: return "evicted";
  }
  return "unknown";
}

}  // namespace ipckit
