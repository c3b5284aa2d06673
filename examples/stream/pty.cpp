// SPDX-License-Identifier: Apache-2.0
// Run a program on a pseudoterminal: it sees a real terminal of the size we chose.
#include <cstdio>
#include <string>

#include "ipckit/stream/pty.hpp"

int main() {
  // `stty size` prints "ROWS COLS" of its terminal, and fails when stdin is not a terminal.
  auto p = ipckit::or_throw(ipckit::spawn_on_pty({"stty", "size"}, {30, 100}));
  const std::string out = ipckit::or_throw(p.pty.read_to_end());  // until the child exits
  const auto status = ipckit::or_throw(p.process.wait());
  std::printf("stty size on %s: %s", p.pty.slave_path().c_str(), out.c_str());
  return (status.success() && out == "30 100\r\n") ? 0 : 1;
}
