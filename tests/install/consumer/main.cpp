// SPDX-License-Identifier: Apache-2.0
// A program outside the ipckit tree, built against an installed ipckit.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "ipckit/core/core.hpp"
#include "ipckit/version.hpp"

int main() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 1;
  ipckit::UniqueFd r(fds[0]), w(fds[1]);
  auto wrote = ipckit::write_full(w.get(), ipckit::as_bytes("ok"));
  if (!wrote || !wrote->ok()) return 2;
  char buf[2];
  auto got = ipckit::read_full(r.get(), std::as_writable_bytes(std::span(buf)));
  if (!got || got->bytes != 2) return 3;
  std::printf("ipckit %s %.2s\n", ipckit::kVersionString, buf);
  return 0;
}
