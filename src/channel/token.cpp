// SPDX-License-Identifier: Apache-2.0
#include "token.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/error.hpp"

namespace ipckit::detail {
namespace {

// Every open TokenFd, so that a forked child can drop its copies of our descriptions: a child that
// kept one would keep this process's tokens held after this process died.
std::mutex g_registry_mutex;
std::vector<int>& registry() {
  static std::vector<int> fds;
  return fds;
}

void lock_registry() noexcept { g_registry_mutex.lock(); }
void unlock_registry() noexcept { g_registry_mutex.unlock(); }

// In the child, after fork() (async-signal-safe calls only): each registered number gets a new
// description of the same object (no locks on it), so the child's endpoints (unusable there: the
// fork generation) still close a valid fd of their own later, and the parent's locks belong to the
// parent alone. The prepare handler holds the mutex across fork(), so the list is consistent.
void on_fork_child() noexcept {
  for (int fd : registry()) {
    char path[40];
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int fresh = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fresh < 0) fresh = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fresh >= 0) {
      ::dup3(fresh, fd, O_CLOEXEC);
      ::close(fresh);
    } else {
      ::close(fd);  // no fd left to put there: better a closed number than the parent's lock
    }
  }
  g_registry_mutex.unlock();
}

void register_fork_handler() {
  static const bool registered = [] {
    ::pthread_atfork(lock_registry, unlock_registry, on_fork_child);
    return true;
  }();
  (void)registered;
}

flock byte_lock(short type, std::uint64_t offset) noexcept {
  flock fl{};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  fl.l_pid = 0;  // required by F_OFD_*
  return fl;
}

}  // namespace

TokenFd::TokenFd(int fd) noexcept : fd_(fd) {
  if (fd_ < 0) return;
  register_fork_handler();
  std::lock_guard lock(g_registry_mutex);
  registry().push_back(fd_);
}

TokenFd& TokenFd::operator=(TokenFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void TokenFd::reset() noexcept {
  if (fd_ < 0) return;
  {
    std::lock_guard lock(g_registry_mutex);
    auto& fds = registry();
    if (auto it = std::find(fds.begin(), fds.end(), fd_); it != fds.end()) fds.erase(it);
  }
  ::close(fd_);
  fd_ = -1;
}

Result<TokenFd> own_description(int fd, std::string_view name) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_errno().fail("fcntl(F_GETFL)", quoted(name));
  const std::string path = fmt::format("/proc/self/fd/{}", fd);
  const int access = (flags & O_ACCMODE) == O_RDONLY ? O_RDONLY : O_RDWR;
  const int own = no_eintr(::open, path.c_str(), access | O_CLOEXEC);
  if (own < 0) {
    return last_errno().fail("open", quoted(path),
                             fmt::format("a description of {} of this process's own, for its liveness token; "
                                         "/proc must be mounted", quoted(name)));
  }
  return TokenFd(own);
}

Result<bool> take_token(const TokenFd& fd, std::uint64_t offset, std::string_view name) {
  flock fl = byte_lock(F_WRLCK, offset);
  if (::fcntl(fd.get(), F_OFD_SETLK, &fl) == 0) return true;
  if (errno == EAGAIN || errno == EACCES) return false;
  return last_errno().fail("fcntl(F_OFD_SETLK)", quoted(name),
                           fmt::format("the liveness token at byte {}", offset));
}

void drop_token(const TokenFd& fd, std::uint64_t offset) noexcept {
  if (!fd.valid()) return;
  flock fl = byte_lock(F_UNLCK, offset);
  (void)::fcntl(fd.get(), F_OFD_SETLK, &fl);
}

TokenState token_state(int fd, std::uint64_t offset) noexcept {
  if (fd < 0) return TokenState::kUnknown;
  flock fl = byte_lock(F_WRLCK, offset);
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return TokenState::kUnknown;
  return fl.l_type == F_UNLCK ? TokenState::kFree : TokenState::kHeld;
}

}  // namespace ipckit::detail
