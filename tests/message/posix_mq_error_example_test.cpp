// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// The error example that README.md and docs/errors.md quote is what the library prints: the test
// makes the same failing call (a queue of 65536-byte messages, above msgsize_max) and requires both
// pages to contain its text verbatim. It runs in a child with a fresh IPC namespace (its own mqueue
// sysctls at their defaults, msgsize_max 8192, and its own queue names: the fixed name "/jobs" the
// pages show cannot meet a host queue, and the call fails, so nothing is created) and without
// CAP_SYS_RESOURCE, which would bypass the limit.
#include <linux/capability.h>
#include <sched.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/message/posix_mq.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(IPCKIT_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PosixMqErrorExample, ReadmeAndErrorsPageQuoteTheRealText) {
  if (!test::is_root()) GTEST_SKIP() << "needs root for unshare(CLONE_NEWIPC)";
  auto r = test::run_in_child([]() -> int {
    if (::unshare(CLONE_NEWIPC) != 0) return 90;
    if (!test::drop_capability(CAP_SYS_RESOURCE)) return 91;
    MqOptions o;
    o.open = OpenMode::kCreateExclusive;
    o.attributes = {10, 65536};
    const auto q = PosixMq::open("/jobs", o);
    if (q) return 10;
    const std::string text = q.error().str();
    // The call, the object as named, the errno, the limit with its file and value, the way out.
    if (text.rfind("mq_open(\"/jobs\"): EINVAL: message_size 65536 > /proc/sys/fs/mqueue/msgsize_max (8192)", 0) != 0) {
      std::fprintf(stderr, "unexpected error text: %s\n", text.c_str());
      return 11;
    }
    int rc = 0;
    for (const char* page : {"README.md", "docs/errors.md"}) {
      if (read_source_file(page).find(text) == std::string::npos) {
        std::fprintf(stderr, "%s does not quote the library's text:\n  %s\n", page, text.c_str());
        rc = 12;
      }
    }
    return rc;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace ipckit
