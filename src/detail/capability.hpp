// SPDX-License-Identifier: Apache-2.0
// Private helper: whether this process has a capability in its effective set (capget(2)); used to
// say in limit errors whether CAP_SYS_RESOURCE could have bypassed a limit.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ipckit::detail {

inline bool has_effective_capability(int cap) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace ipckit::detail
