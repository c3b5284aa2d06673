// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// Golden errors for every POSIX mq limit. Each runs in a child that enters a new IPC namespace (its
// own mqueue sysctls at their defaults and its own queue count: nothing on the host is touched or
// counted) and drops CAP_SYS_RESOURCE, which would bypass the sysctls.
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/message/posix_mq.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

// Runs `body(expected_prefix)` in a child with a fresh IPC namespace and without CAP_SYS_RESOURCE.
// Returns 0 when the body's checks pass; prints the mismatch otherwise.
void in_limited_child(const std::function<int()>& body) {
  if (!test::is_root()) GTEST_SKIP() << "needs root for unshare(CLONE_NEWIPC)";
  auto r = test::run_in_child([&]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return 90;
    if (!test::drop_capability(CAP_SYS_RESOURCE)) return 91;
    return body();
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

MqOptions create(long max_messages, long message_size) {
  MqOptions o;
  o.open = OpenMode::kCreateExclusive;
  o.attributes = {max_messages, message_size};
  return o;
}

int expect_text(const Result<PosixMq>& r, const std::string& expected) {
  if (r) return 10;
  if (r.error().str() != expected) {
    std::fprintf(stderr, "got:      %s\nexpected: %s\n", r.error().str().c_str(), expected.c_str());
    return 11;
  }
  return 0;
}

TEST(PosixMqLimits, MsgMaxIsNamedWithValueAndFile) {
  const std::string name = test::unique_name();
  in_limited_child([&]() -> int {
    return expect_text(PosixMq::open(name, create(11, 64)),
                       "mq_open(\"" + name + "\"): EINVAL: max_messages 11 > /proc/sys/fs/mqueue/msg_max (10): "
                       "raise it there (as root), or create the queue from a process with CAP_SYS_RESOURCE, "
                       "which bypasses it");
  });
}

TEST(PosixMqLimits, MsgSizeMaxIsNamedWithValueAndFile) {
  const std::string name = test::unique_name();
  in_limited_child([&]() -> int {
    return expect_text(PosixMq::open(name, create(2, 8193)),
                       "mq_open(\"" + name + "\"): EINVAL: message_size 8193 > /proc/sys/fs/mqueue/msgsize_max "
                       "(8192): raise it there (as root), or create the queue from a process with "
                       "CAP_SYS_RESOURCE, which bypasses it");
  });
}

TEST(PosixMqLimits, RlimitMsgqueueIsNamedWithValue) {
  const std::string name = test::unique_name();
  in_limited_child([&]() -> int {
    const rlimit small{4096, 4096};
    if (::setrlimit(RLIMIT_MSGQUEUE, &small) != 0) return 20;
    return expect_text(PosixMq::open(name, create(10, 1024)),
                       "mq_open(\"" + name + "\"): EMFILE: the queue needs max_messages × message_size = 10240 "
                       "bytes plus kernel bookkeeping, and this user's queues together may use at most "
                       "RLIMIT_MSGQUEUE = 4096 bytes: raise it with ulimit -q, setrlimit(RLIMIT_MSGQUEUE) or "
                       "/etc/security/limits.conf (msgqueue), or remove unused queues (CAP_SYS_RESOURCE does "
                       "not bypass this rlimit)");
  });
}

TEST(PosixMqLimits, QueuesMaxIsNamedWithValueAndFile) {
  const std::string base = test::unique_name();
  in_limited_child([&]() -> int {
    // Lower queues_max in this namespace only, so the test needs 2 queues instead of 256.
    {
      std::ofstream f("/proc/sys/fs/mqueue/queues_max");
      f << 2;
      if (!f) return 30;
    }
    std::vector<std::string> made;
    for (int i = 0; i < 2; ++i) {
      made.push_back(base + "." + std::to_string(i));
      if (!PosixMq::open(made.back(), create(1, 16))) return 31;
    }
    const std::string third = base + ".2";
    const int rc = expect_text(PosixMq::open(third, create(1, 16)),
                               "mq_open(\"" + third + "\"): ENOSPC: /proc/sys/fs/mqueue/queues_max (2) queues "
                               "already exist on this system: remove unused ones (mq_unlink) or raise it there "
                               "(as root); CAP_SYS_RESOURCE bypasses it");
    for (const auto& n : made) (void)PosixMq::unlink(n);
    return rc;
  });
}

}  // namespace
}  // namespace ipckit
