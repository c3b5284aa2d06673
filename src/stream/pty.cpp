// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/pty.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>

#include "ipckit/core/eintr.hpp"

namespace ipckit {

Result<Pty> Pty::open() {
  const int fd = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string hint;
    if (err == ENOENT) hint = "no /dev/ptmx: devpts is not mounted";
    if (err == EAGAIN || err == ENOSPC) hint = "all ptys are in use (/proc/sys/kernel/pty/max)";
    return fail_errno(err, "posix_openpt", quoted("/dev/ptmx"), hint);
  }
  Pty pty;
  pty.master_.reset(fd);
  if (::grantpt(fd) != 0) return last_errno().fail("grantpt", fd_object(fd));
  if (::unlockpt(fd) != 0) return last_errno().fail("unlockpt", fd_object(fd));
  char name[128];
  if (const int err = ::ptsname_r(fd, name, sizeof name); err != 0) return fail_errno(err, "ptsname_r", fd_object(fd));
  pty.slave_path_ = name;
  if (auto nb = set_nonblocking(fd, true); !nb) return fail(nb.error());
  return pty;
}

Result<UniqueFd> Pty::open_slave() const {
  const int fd = no_eintr(::open, slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return last_errno().fail("open", quoted(slave_path_));
  return UniqueFd(fd);
}

Result<void> Pty::set_window_size(WindowSize size) {
  winsize ws{};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  if (::ioctl(master_.get(), TIOCSWINSZ, &ws) != 0) return last_errno().fail("ioctl(TIOCSWINSZ)", quoted(slave_path_));
  return {};
}

Result<WindowSize> Pty::window_size() const {
  winsize ws{};
  if (::ioctl(master_.get(), TIOCGWINSZ, &ws) != 0) return last_errno().fail("ioctl(TIOCGWINSZ)", quoted(slave_path_));
  return WindowSize{ws.ws_row, ws.ws_col};
}

Result<PtyProcess> spawn_on_pty(const std::vector<std::string>& argv, WindowSize size, SubprocessOptions options) {
  auto pty = Pty::open();
  if (!pty) return fail(pty.error());
  if (auto ws = pty->set_window_size(size); !ws) return fail(ws.error());
  auto slave = pty->open_slave();
  if (!slave) return fail(slave.error());
  options.in = Stdio::from_fd(slave->get());
  options.out = Stdio::from_fd(slave->get());
  options.err = Stdio::from_fd(slave->get());
  options.stderr_to_stdout = false;
  options.new_session = true;
  options.controlling_terminal = slave->get();
  auto proc = Subprocess::spawn(argv, options);
  if (!proc) return fail(proc.error());
  slave->reset();  // only the child holds the slave now: its exit ends the stream
  return PtyProcess{std::move(*pty), std::move(*proc)};
}

}  // namespace ipckit
