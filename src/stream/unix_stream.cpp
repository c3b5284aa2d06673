// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/unix_stream.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "detail/file_kind.hpp"
#include "detail/unix_socket_file.hpp"

#include "socket_connect.hpp"

namespace ipckit {
namespace {

// The path exists. Returns success when it was a stale socket of ours and is now gone; otherwise the
// error says what kept it (docs/design.md, Lifecycle: never remove on a guess). Liveness is asked of the kernel
// (detail/unix_socket_file.hpp), never by connecting: a live one-connection server would take a
// probe connection for its client.
Result<void> remove_if_stale(const std::string& path, bool allowed) {
  const std::string object = quoted(path);
  if (!allowed) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
    return fail_errno(EADDRINUSE, "bind", object, "a file exists at this path (remove_stale is off)");
  }
  return detail::replace_stale_socket_file(path, "bind", object);
}

// Moves the bound socket file into place without replacing anything there.
int rename_noreplace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // Filesystems without RENAME_NOREPLACE: link() also refuses to replace (EEXIST).
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
}

Result<void> listen_on(int fd, int backlog, const std::string& object) {
  if (::listen(fd, backlog) != 0) return last_errno().fail("listen", object);
  return {};
}

Result<StreamListener> listen_path(const std::string& path,
                                   const UnixListenOptions& options) {
  const std::string object = quoted(path);
  // 1. A private 0700 directory beside the target (same filesystem, so rename works).
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmpdir = (dir == "/" ? "" : dir) + "/.ipckit-bind.XXXXXX";
  if (::mkdtemp(tmpdir.data()) == nullptr) {
    return last_errno().fail("mkdtemp", quoted(tmpdir),
                      "the socket's directory must exist and be writable by this user");
  }
  const std::string tmp_sock = tmpdir + "/s";
  struct Cleanup {
    const std::string& dir;
    const std::string& sock;
    ~Cleanup() {
      ::unlink(sock.c_str());
      ::rmdir(dir.c_str());
    }
  } cleanup{tmpdir, tmp_sock};
  auto tmp_addr = SocketAddress::unix_socket(tmp_sock);
  UniqueFd tmpdir_fd;
  if (!tmp_addr) {
    // The private directory's path is longer than the target's and no longer fits sun_path: reach
    // it through /proc/self/fd/N instead, which is short whatever the directory's depth.
    tmpdir_fd.reset(::open(tmpdir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!tmpdir_fd) return last_errno().fail("open", quoted(tmpdir));
    tmp_addr = SocketAddress::unix_socket(fmt::format("/proc/self/fd/{}/s", tmpdir_fd.get()));
    if (!tmp_addr) return fail(tmp_addr.error());
  }
  auto sock = make_socket(AF_UNIX, SOCK_STREAM, /*nonblocking=*/true, object);
  if (!sock) return fail(sock.error());
  // 2. bind + listen where only we can reach it; 3. set the mode; 4. publish atomically.
  if (::bind(sock->get(), tmp_addr->get(), tmp_addr->size()) != 0) return last_errno().fail("bind", object);
  if (auto l = listen_on(sock->get(), options.backlog, object); !l) return fail(l.error());
  if (::chmod(tmp_sock.c_str(), options.mode) != 0) return last_errno().fail("chmod", object);
  for (int attempt = 0;; ++attempt) {
    if (rename_noreplace(tmp_sock.c_str(), path.c_str()) == 0) break;
    const int err = errno;
    if (err != EEXIST || attempt > 0) {
      if (err == EEXIST) return fail_errno(EADDRINUSE, "bind", object, "the path was taken again while binding");
      return fail_errno(err, "rename", object);
    }
    if (auto stale = remove_if_stale(path, options.remove_stale); !stale) return fail(stale.error());
  }
  return StreamListener(std::move(*sock), path, path);
}

}  // namespace

Result<StreamListener> UnixStream::listen(std::string_view address, const UnixListenOptions& options) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(addr.error());
  const std::string name(address);
  if (!addr->is_abstract()) return listen_path(name, options);
  const std::string object = quoted(name);
  auto sock = make_socket(AF_UNIX, SOCK_STREAM, /*nonblocking=*/true, object);
  if (!sock) return fail(sock.error());
  if (::bind(sock->get(), addr->get(), addr->size()) != 0) {
    const int err = errno;
    return fail_errno(err, "bind", object,
                      err == EADDRINUSE ? "another socket holds this abstract name (names vanish with their last "
                                          "socket; there is no file to remove)"
                                        : "");
  }
  if (auto l = listen_on(sock->get(), options.backlog, object); !l) return fail(l.error());
  return StreamListener(std::move(*sock), name);
}

Result<Attempt<StreamSocket>> UnixStream::connect_until(std::string_view address, Deadline deadline) {
  auto addr = SocketAddress::unix_socket(address);
  if (!addr) return fail(addr.error());
  const std::string name(address);
  auto fd = detail::connect_stream(*addr, deadline, quoted(name));
  if (!fd) return fail(fd.error());
  if (!*fd) return Attempt<StreamSocket>::none(IoStatus::kTimedOut);
  return Attempt<StreamSocket>(StreamSocket(std::move(**fd), name));
}

Result<StreamSocket> UnixStream::connect(std::string_view address) {
  auto s = connect_until(address, kNoDeadline);
  if (!s) return fail(s.error());
  return std::move(**s);
}

Result<std::pair<StreamSocket, StreamSocket>> UnixStream::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return last_errno().fail("socketpair", "AF_UNIX, SOCK_STREAM");
  }
  return std::pair<StreamSocket, StreamSocket>(StreamSocket(UniqueFd(fds[0]), "socketpair[0]"),
                                               StreamSocket(UniqueFd(fds[1]), "socketpair[1]"));
}

Result<void> UnixStream::remove(std::string_view path) {
  const std::string p(path);
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return last_errno().fail("lstat", quoted(p));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail_errno(ENOTSOCK, "unlink", quoted(p),
                      fmt::format("the path is {}, not a socket; it was left alone", detail::describe_file_type(st.st_mode)));
  }
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return last_errno().fail("unlink", quoted(p));
  return {};
}

}  // namespace ipckit
