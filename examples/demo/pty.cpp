// SPDX-License-Identifier: Apache-2.0
// A pseudoterminal: the child runs with the slave side as its stdin, stdout, stderr and controlling
// terminal (a new session), so it behaves as in a terminal window; the parent holds the master side
// and sees what a terminal emulator or sshd would see (note the \r\n: the tty's output processing).
#include <cstdio>
#include <string>

#include "ipckit/stream/pty.hpp"

static std::string visible(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto p = ipckit::spawn_on_pty({"sh", "-c", "tty; stty size; test -t 0 && echo stdin is a terminal"}, {30, 100});
  if (!p) {
    std::fprintf(stderr, "%s\n", p.error().str().c_str());
    return 1;
  }
  std::printf("[parent] posix_openpt + grantpt + unlockpt: master fd %d, slave %s, window 30x100 (TIOCSWINSZ)\n",
              p->pty.native_handle(), p->pty.slave_path().c_str());
  std::printf("[parent] child %d: setsid(), TIOCSCTTY on the slave, slave dup2()ed onto 0, 1, 2, exec sh\n",
              static_cast<int>(p->process.pid()));
  auto out = p->pty.read_to_end();  // until the child's side closes
  auto st = p->process.wait();
  if (!out || !st) return 1;
  std::printf("[parent] read from the master: \"%s\"\n", visible(*out).c_str());
  std::printf("[parent] the child %s\n", st->describe().c_str());
  return st->success() && out->find("30 100\r\n") != std::string::npos &&
                 out->find("stdin is a terminal") != std::string::npos
             ? 0
             : 1;
}
