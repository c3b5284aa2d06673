// SPDX-License-Identifier: Apache-2.0
#include "unix_socket_file.hpp"

#include <dirent.h>
#include <sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "file_kind.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::detail {
namespace {

enum class Bound { kNo, kYes, kUnknown };

struct Probe {
  Bound bound = Bound::kUnknown;
  std::uint32_t socket_inode = 0;  // the bound socket's inode (socket:[N] in /proc/PID/fd)
  std::string why;                 // for kUnknown
};

// A NETLINK_SOCK_DIAG socket in this thread's network namespace, or in the one behind `netns_fd`
// (created by a short-lived thread that enters it: setns(CLONE_NEWNET) changes only the calling
// thread, and a socket keeps the namespace it was created in). -1 with errno set on failure.
int sock_diag_socket(int netns_fd) {
  if (netns_fd < 0) return ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  int fd = -1;
  int err = 0;
  std::thread t([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) err = errno;
  });
  t.join();
  if (fd < 0) errno = err;
  return fd;
}

}  // namespace

// Asks sock_diag for every UNIX socket with its bound file (UDIAG_SHOW_VFS). Read-only: nothing is
// sent to any socket.
BoundSocketScan scan_bound_socket_files(int netns_fd) {
  BoundSocketScan p;
  UniqueFd fd(sock_diag_socket(netns_fd));
  if (!fd) {
    p.why = fmt::format("socket(NETLINK_SOCK_DIAG): {}", errno_name(errno));
    return p;
  }
  struct {
    nlmsghdr nlh;
    unix_diag_req req;
  } request{};
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.req.sdiag_family = AF_UNIX;
  request.req.udiag_states = ~0U;
  request.req.udiag_show = UDIAG_SHOW_VFS;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const ssize_t sent = no_eintr(::sendto, fd.get(), &request, sizeof request, 0,
                                reinterpret_cast<const sockaddr*>(&kernel), socklen_t{sizeof kernel});
  if (sent < 0) {
    p.why = fmt::format("sendto(NETLINK_SOCK_DIAG): {}", errno_name(errno));
    return p;
  }
  std::vector<char> buf(64 * 1024);
  for (;;) {
    const ssize_t n = no_eintr(::recv, fd.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      p.why = fmt::format("recv(NETLINK_SOCK_DIAG): {}", errno_name(errno));
      return p;
    }
    int len = static_cast<int>(n);
    // NLMSG_OK compares the kernel's unsigned nlmsg_len with the int length its own API asks for;
    // clang flags the mixed signs inside the macro, and the values are bounded by the buffer size.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
#pragma GCC diagnostic pop
      if (h->nlmsg_type == NLMSG_DONE) {
        p.complete = true;
        return p;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        p.why = fmt::format("sock_diag: {} (is unix_diag loaded?)", errno_name(-e->error));
        p.files.clear();
        return p;
      }
      const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
      int alen = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
      for (auto* a = reinterpret_cast<rtattr*>(const_cast<unix_diag_msg*>(msg) + 1); RTA_OK(a, alen);
           a = RTA_NEXT(a, alen)) {
        if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(unix_diag_vfs)) continue;
        unix_diag_vfs vfs{};
        std::memcpy(&vfs, RTA_DATA(a), sizeof vfs);
        // The kernel reports its internal dev_t (major << 20 | minor), not stat's encoding.
        p.files.push_back(BoundSocketFile{vfs.udiag_vfs_dev >> 20, vfs.udiag_vfs_dev & 0xfffff, vfs.udiag_vfs_ino,
                                          msg->udiag_ino});
      }
    }
  }
}

namespace {

// Is any socket of this network namespace bound to st's device and inode?
Probe bound_socket(const struct stat& st) {
  Probe p;
  const BoundSocketScan scan = scan_bound_socket_files(-1);
  if (!scan.complete) {
    p.why = scan.why;
    return p;
  }
  p.bound = Bound::kNo;
  for (const BoundSocketFile& f : scan.files) {
    if (f.dev_major == ::major(st.st_dev) && f.dev_minor == ::minor(st.st_dev) && f.ino == st.st_ino) {
      p.bound = Bound::kYes;
      p.socket_inode = f.socket_inode;
    }
  }
  return p;
}

// "pid 1234 (ipckit)" for the process holding socket inode `ino`, when /proc shows it.
std::string holder_of(std::uint32_t ino) {
  if (ino == 0) return {};
  const std::string want = fmt::format("socket:[{}]", ino);
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return {};
  std::string out;
  while (dirent* d = ::readdir(proc)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    const std::string fd_dir = fmt::format("/proc/{}/fd", d->d_name);
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* f = ::readdir(fds)) {
      char target[64];
      const std::string link = fd_dir + "/" + f->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0 || want.compare(0, want.size(), target, static_cast<std::size_t>(n)) != 0) continue;
      std::string comm;
      std::ifstream(fmt::format("/proc/{}/comm", d->d_name)) >> comm;
      out = comm.empty() ? fmt::format("pid {}", d->d_name) : fmt::format("pid {} ({})", d->d_name, comm);
      break;
    }
    ::closedir(fds);
    if (!out.empty()) break;
  }
  ::closedir(proc);
  return out;
}

}  // namespace

Result<void> replace_stale_socket_file(const std::string& path, const std::string& call, const std::string& object) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};  // gone meanwhile: bind again
    return last_errno().fail("lstat", object);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail_errno(EADDRINUSE, call, object,
                      fmt::format("the path exists and is {}, not a socket; it was left alone (choose another "
                                  "path, or rm {} if it is yours to remove)",
                                  describe_file_type(st.st_mode), path));
  }
  // Another user's socket file is theirs: never replaced, whatever its state.
  const ObjectOwner owner{st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
  if (auto r = check_owner(owner, 07777, {}, call, object); !r) {
    return fail_errno(EADDRINUSE, call, object,
                      fmt::format("a socket file owned by uid {} ({}), not this user's, is there; it was left alone",
                                  st.st_uid, user_name(st.st_uid)));
  }
  const Probe p = bound_socket(st);
  if (p.bound == Bound::kYes) {
    const std::string holder = holder_of(p.socket_inode);
    return fail_errno(EADDRINUSE, call, object,
                      fmt::format("a live server is bound to this socket file{}; stop it first or choose another "
                                  "path",
                                  holder.empty() ? std::string() : " (held by " + holder + ")"));
  }
  if (p.bound == Bound::kUnknown) {
    return fail_errno(EADDRINUSE, call, object,
                      fmt::format("a socket file is there and could not be proven stale ({}); if no server uses "
                                  "it, rm {}",
                                  p.why, path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return last_errno().fail("unlink", object);
  return {};
}

}  // namespace ipckit::detail
