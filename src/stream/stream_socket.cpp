// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/stream_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/poll.hpp"

namespace ipckit {

Result<void> StreamSocket::shutdown(ShutdownHow how) {
  if (::shutdown(fd_.get(), static_cast<int>(how)) != 0) return last_errno().fail("shutdown", quoted(name_));
  return {};
}

Result<PeerCredentials> StreamSocket::peer_credentials() const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return last_errno().fail("getsockopt(SO_PEERCRED)", quoted(name_));
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

Result<void> StreamSocket::set_nodelay(bool on) {
  const int v = on ? 1 : 0;
  if (::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) {
    return last_errno().fail("setsockopt(TCP_NODELAY)", quoted(name_), "TCP_NODELAY applies to TCP sockets only");
  }
  return {};
}

StreamListener::StreamListener(UniqueFd fd, std::string name, std::string unlink_path)
    : fd_(std::move(fd)), name_(std::move(name)), unlink_path_(std::move(unlink_path)) {
  struct stat st {};
  if (!unlink_path_.empty() && ::lstat(unlink_path_.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

Result<SocketAddress> StreamListener::local_address() const {
  if (!unlink_path_.empty()) return SocketAddress::unix_socket(unlink_path_);
  return SocketAddress::local_of(fd_.get());
}

Result<Attempt<StreamSocket>> StreamListener::try_accept() {
  // The listening descriptor is O_NONBLOCK (set by the factories), so accept4 never blocks here;
  // the accepted socket is blocking (accept4 does not inherit O_NONBLOCK on Linux).
  for (;;) {
    const int fd = no_eintr(::accept4, fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return Attempt<StreamSocket>(StreamSocket(UniqueFd(fd), name_));
    const int err = errno;
    // A connection reset before we took it: not our failure, look for the next one.
    if (err == ECONNABORTED) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return Attempt<StreamSocket>::none(IoStatus::kWouldBlock);
    std::string hint;
    if (err == EMFILE) hint = "the process is at RLIMIT_NOFILE (ulimit -n)";
    if (err == ENFILE) hint = "the system is at /proc/sys/fs/file-max";
    return fail_errno(err, "accept4", quoted(name_), hint);
  }
}

Result<Attempt<StreamSocket>> StreamListener::accept_until(Deadline deadline) {
  for (;;) {
    auto got = try_accept();
    if (!got || *got) return got;
    auto ready = poll_one(fd_.get(), POLLIN, deadline);
    if (!ready) return fail(ready.error());
    if (*ready == 0) return Attempt<StreamSocket>::none(IoStatus::kTimedOut);
  }
}

Result<StreamSocket> StreamListener::accept() {
  auto got = accept_until(kNoDeadline);
  if (!got) return fail(got.error());
  return std::move(**got);
}

Result<void> StreamListener::close_and_unlink() {
  fd_.reset();
  if (unlink_path_.empty()) return {};
  const std::string path = std::exchange(unlink_path_, {});
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return last_errno().fail("lstat", quoted(path));
  }
  // Another server may have replaced our (stale) file since: leave its socket alone.
  if (st.st_dev != dev_ || st.st_ino != ino_) return {};
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return last_errno().fail("unlink", quoted(path));
  return {};
}

}  // namespace ipckit
