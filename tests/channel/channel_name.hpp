// SPDX-License-Identifier: Apache-2.0
// A unique channel name for one test, whose objects are removed when the test ends (pass or fail):
//   test::ChannelName<SpscChannel> n;  ...open(n.name, ...)
#pragma once

#include <string>

#include "support/ipckit_test.hpp"

namespace ipckit::test {

template <class Channel>  // SpscChannel, MpmcChannel, BroadcastChannel: anything with unlink(name)
struct ChannelName {
  std::string name = unique_name();
  ChannelName() = default;
  ChannelName(const ChannelName&) = delete;
  ChannelName& operator=(const ChannelName&) = delete;
  ~ChannelName() { (void)Channel::unlink(name); }
};

}  // namespace ipckit::test
