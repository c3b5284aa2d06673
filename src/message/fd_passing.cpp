// SPDX-License-Identifier: Apache-2.0
#include "ipckit/message/fd_passing.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/retry.hpp"
#include "socket_detail.hpp"

namespace ipckit {
namespace {

using detail::WaitMode;

// Control-message storage aligned for cmsghdr (CMSG_* macros need size_t alignment).
std::vector<std::uint64_t> control_buffer(std::size_t bytes) { return std::vector<std::uint64_t>(bytes / 8 + 1); }

// Completes a stream send after the first sendmsg moved `sent` of `data` (the descriptors went with
// the first byte, so the rest must follow whatever the mode: the receiver would otherwise see a torn
// message).
Result<IoStatus> finish_stream_send(int fd, std::span<const std::byte> data, std::size_t sent) {
  const auto rest = data.subspan(sent);
  detail::TransferSpec spec;
  spec.direction = detail::Direction::kWrite;
  spec.mode = WaitMode::kBlock;  // polls when the descriptor is non-blocking
  auto r = detail::transfer(
      fd, rest.size(), spec,
      [&](std::size_t offset, bool) -> long {
        return ::send(fd, rest.data() + offset, rest.size() - offset, MSG_NOSIGNAL);
      },
      [](int err) -> std::optional<IoStatus> {
        if (err == EPIPE || err == ECONNRESET) return IoStatus::kPeerClosed;
        return std::nullopt;
      },
      [&] { return detail::CallNames{"send", fd_object(fd)}; });
  if (!r) return fail(std::move(r.error()));
  return r->status;
}

Result<IoStatus> send_message(int fd, std::span<const std::byte> data, std::span<const int> fds,
                              const Credentials* creds, WaitMode mode, Deadline deadline, const char* call) {
  if (data.empty()) {
    return fail_library(LibraryCode::kInvalidArgument, call, fd_object(fd),
                        "send at least one byte with descriptors or credentials (stream sockets drop an "
                        "empty message together with its control data)");
  }
  if (fds.size() > kMaxFdsPerMessage) {
    return fail_library(LibraryCode::kInvalidArgument, call, fd_object(fd),
                        fmt::format("{} descriptors > SCM_MAX_FD ({}) per message; split them over several "
                                    "messages",
                                    fds.size(), kMaxFdsPerMessage));
  }
  const std::size_t fd_bytes = fds.size() * sizeof(int);
  auto control = control_buffer((fds.empty() ? 0 : CMSG_SPACE(fd_bytes)) + (creds ? CMSG_SPACE(sizeof(ucred)) : 0));
  iovec iov{const_cast<std::byte*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::size_t control_len = 0;
  if (!fds.empty() || creds != nullptr) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size() * sizeof(std::uint64_t);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!fds.empty()) {
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fd_bytes);
      std::memcpy(CMSG_DATA(c), fds.data(), fd_bytes);
      control_len += CMSG_SPACE(fd_bytes);
      c = CMSG_NXTHDR(&msg, c);
    }
    if (creds != nullptr) {
      ucred u{creds->pid, creds->uid, creds->gid};
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_CREDENTIALS;
      c->cmsg_len = CMSG_LEN(sizeof u);
      std::memcpy(CMSG_DATA(c), &u, sizeof u);
      control_len += CMSG_SPACE(sizeof u);
    }
    msg.msg_controllen = control_len;
  }
  std::size_t first = 0;
  auto result = detail::socket_retry(
      fd, POLLOUT, mode, deadline,
      [&](bool dontwait) -> long { return ::sendmsg(fd, &msg, MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0)); },
      [&](long n) -> Result<IoStatus> {
        first = static_cast<std::size_t>(n);
        return IoStatus::kOk;
      },
      [](IoStatus s) -> Result<IoStatus> { return s; },
      [&](int err) -> Result<IoStatus> {
        if (err == EPIPE || err == ECONNRESET) return IoStatus::kPeerClosed;
        if (err == EMSGSIZE) return fail_errno(err, "sendmsg", fd_object(fd), detail::emsgsize_hint(fd, data.size()));
        if (err == ETOOMANYREFS) {
          return fail_errno(err, "sendmsg", fd_object(fd),
                            "too many descriptors in flight: the sender's unreceived SCM_RIGHTS descriptors "
                            "exceed RLIMIT_NOFILE (ulimit -n)");
        }
        if (err == EPERM && creds != nullptr) {
          return fail_errno(err, "sendmsg", fd_object(fd),
                            fmt::format("the kernel refused credentials pid {} uid {} gid {}: a process may "
                                        "only claim its own unless it has CAP_SYS_ADMIN/CAP_SETUID/CAP_SETGID",
                                        creds->pid, creds->uid, creds->gid));
        }
        return fail_errno(err, "sendmsg", fd_object(fd));
      });
  if (!result || *result != IoStatus::kOk) return result;
  if (first < data.size()) return finish_stream_send(fd, data, first);
  return IoStatus::kOk;
}

Result<FdMessage> receive_message(int fd, std::span<std::byte> buf, std::size_t max_fds, WaitMode mode,
                                  Deadline deadline) {
  if (max_fds > kMaxFdsPerMessage) max_fds = kMaxFdsPerMessage;
  // Room for the descriptors and for credentials, which SO_PASSCRED may add to any message.
  auto control = control_buffer((max_fds ? CMSG_SPACE(max_fds * sizeof(int)) : 0) + CMSG_SPACE(sizeof(ucred)));
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  return detail::socket_retry(
      fd, POLLIN, mode, deadline,
      [&](bool dontwait) -> long {
        msg = msghdr{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size() * sizeof(std::uint64_t);
        return ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (dontwait ? MSG_DONTWAIT : 0));
      },
      [&](long n) -> Result<FdMessage> {
        FdMessage out;
        out.bytes = static_cast<std::size_t>(n);
        out.data_truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        // Take ownership of every descriptor first, so that any failure below closes them all.
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != SOL_SOCKET) continue;
          if (c->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
              int got = -1;
              std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
              out.fds.emplace_back(got);
            }
          } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
            ucred u{};
            std::memcpy(&u, CMSG_DATA(c), sizeof u);
            out.credentials = Credentials{u.pid, u.uid, u.gid};
          }
        }
        // The control buffer also has room for credentials, so a few descriptors beyond max_fds can
        // arrive without MSG_CTRUNC: treat both the same way.
        if ((msg.msg_flags & MSG_CTRUNC) != 0 || out.fds.size() > max_fds) {
          const std::size_t arrived = out.fds.size();
          out.fds.clear();  // closes every descriptor that did arrive
          return fail_library(LibraryCode::kTruncated, "recvmsg", fd_object(fd),
                              fmt::format("control message truncated (MSG_CTRUNC): the sender passed more "
                                          "than max_fds = {} descriptors; the {} that arrived were closed "
                                          "and the rest discarded by the kernel",
                                          max_fds, arrived));
        }
        if (n == 0 && !buf.empty() && out.fds.empty() && detail::socket_type(fd) != SOCK_DGRAM) {
          out.status = IoStatus::kEndOfStream;
        }
        return out;
      },
      [](IoStatus s) -> Result<FdMessage> {
        FdMessage out;
        out.status = s;
        return out;
      },
      [&](int err) -> Result<FdMessage> {
        if (err == ECONNRESET) {
          FdMessage out;
          out.status = IoStatus::kEndOfStream;
          return out;
        }
        return fail_errno(err, "recvmsg", fd_object(fd));
      });
}

}  // namespace

Credentials own_credentials() noexcept { return Credentials{::getpid(), ::geteuid(), ::getegid()}; }

Result<IoStatus> send_fds(int socket_fd, std::span<const std::byte> data, std::span<const int> fds) {
  return send_message(socket_fd, data, fds, nullptr, WaitMode::kBlock, kNoDeadline, "send_fds");
}
Result<IoStatus> try_send_fds(int socket_fd, std::span<const std::byte> data, std::span<const int> fds) {
  return send_message(socket_fd, data, fds, nullptr, WaitMode::kTry, kNoDeadline, "send_fds");
}
Result<IoStatus> send_fds_until(int socket_fd, std::span<const std::byte> data, std::span<const int> fds,
                                Deadline deadline) {
  return send_message(socket_fd, data, fds, nullptr, WaitMode::kUntil, deadline, "send_fds");
}
Result<IoStatus> send_credentials(int socket_fd, std::span<const std::byte> data, const Credentials& credentials) {
  return send_message(socket_fd, data, {}, &credentials, WaitMode::kBlock, kNoDeadline, "send_credentials");
}

Result<void> enable_credentials(int socket_fd) {
  const int on = 1;
  if (::setsockopt(socket_fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    return last_errno().fail("setsockopt(SO_PASSCRED)", fd_object(socket_fd));
  }
  return {};
}

Result<Credentials> peer_credentials(int socket_fd) {
  ucred u{};
  socklen_t len = sizeof u;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &u, &len) != 0) {
    return last_errno().fail("getsockopt(SO_PEERCRED)", fd_object(socket_fd));
  }
  return Credentials{u.pid, u.uid, u.gid};
}

Result<FdMessage> receive_fds(int socket_fd, std::span<std::byte> buf, std::size_t max_fds) {
  return receive_message(socket_fd, buf, max_fds, WaitMode::kBlock, kNoDeadline);
}
Result<FdMessage> try_receive_fds(int socket_fd, std::span<std::byte> buf, std::size_t max_fds) {
  return receive_message(socket_fd, buf, max_fds, WaitMode::kTry, kNoDeadline);
}
Result<FdMessage> receive_fds_until(int socket_fd, std::span<std::byte> buf, Deadline deadline,
                                    std::size_t max_fds) {
  return receive_message(socket_fd, buf, max_fds, WaitMode::kUntil, deadline);
}

}  // namespace ipckit
