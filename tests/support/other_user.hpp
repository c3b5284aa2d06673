// SPDX-License-Identifier: Apache-2.0
// Tests of ownership checks: run something as another user ('nobody', uid and gid 65534) in a
// forked child, so the objects it creates are owned by that user. Needs root (setresuid): callers
// GTEST_SKIP() first when !test::is_root().
#pragma once

#include <grp.h>
#include <sys/types.h>
#include <unistd.h>

#include <functional>

#include "support/ipckit_test.hpp"

namespace ipckit::test {

inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

// Forks; the child drops its supplementary groups, then sets real, effective and saved gid and uid
// to 65534 and runs `body` (exit codes 90-92: a step of the switch failed).
inline ChildResult run_as_nobody(const std::function<int()>& body) {
  return run_in_child([&] {
    if (::setgroups(0, nullptr) != 0) return 90;
    if (::setresgid(kNobodyGid, kNobodyGid, kNobodyGid) != 0) return 91;
    if (::setresuid(kNobodyUid, kNobodyUid, kNobodyUid) != 0) return 92;
    return body();
  });
}

}  // namespace ipckit::test
