// SPDX-License-Identifier: Apache-2.0
// Running programs: capture a command's output, and feed one through stdin while reading stdout.
#include <cstdio>

#include "ipckit/stream/subprocess.hpp"

int main() {
  using ipckit::Subprocess;
  // Like popen(.., "r"), but with argv: no shell, no quoting problems.
  auto out = ipckit::or_throw(Subprocess::run({"uname", "-s"}));
  std::printf("uname -s: %s(%s)\n", out.out.c_str(), out.status.describe().c_str());

  // stdin and stdout both piped; run() interleaves them, so any size works without deadlock.
  auto sorted = ipckit::or_throw(Subprocess::run({"sort"}, "pear\napple\nfig\n"));
  std::printf("sorted:\n%s", sorted.out.c_str());

  // A shell only when asked for.
  auto sh = ipckit::or_throw(Subprocess::run(Subprocess::shell("echo $((6 * 7))")));
  std::printf("sh: %s", sh.out.c_str());
  return (out.status.success() && sorted.out == "apple\nfig\npear\n" && sh.out == "42\n") ? 0 : 1;
}
