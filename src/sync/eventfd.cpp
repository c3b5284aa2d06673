// SPDX-License-Identifier: Apache-2.0
#include "ipckit/sync/eventfd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/platform.hpp"
#include "ipckit/core/poll.hpp"

namespace ipckit {
namespace {

std::string object_of(int fd) { return fmt::format("eventfd {}", fd_object(fd)); }

}  // namespace

Result<EventFd> EventFd::create(std::uint64_t initial, EventFdMode mode) {
  int flags = EFD_CLOEXEC | EFD_NONBLOCK;
  if (mode == EventFdMode::kSemaphore) flags |= EFD_SEMAPHORE;
  // eventfd2() takes an unsigned int start value; any initial count is written after creation.
  const int fd = ::eventfd(0, flags);
  if (fd < 0) {
    const int err = errno;
    if (err == EINVAL && !has_feature(Feature::kEventfd)) {
      if (auto r = require_feature(Feature::kEventfd); !r) return fail(r.error());
    }
    return fail_errno(err, "eventfd", "", err == EMFILE ? "the per-process descriptor limit (ulimit -n) is reached" : "");
  }
  EventFd e(UniqueFd(fd), mode);
  if (initial > 0) {
    auto w = e.try_write(initial);
    if (!w) return fail(w.error());
    if (*w != IoStatus::kOk) return fail_library(LibraryCode::kInvalidArgument, "eventfd", "", "initial count above kMaxCount");
  }
  return e;
}

Result<IoStatus> EventFd::try_write(std::uint64_t n) {
  if (n == 0 || n > kMaxCount) {
    return fail_library(LibraryCode::kInvalidArgument, "write", object_of(fd_.get()),
                        fmt::format("an eventfd increment must be in 1..{}", kMaxCount));
  }
  // An eventfd moves its 8 bytes whole or fails: there is no short count to finish.
  if (no_eintr(::write, fd_.get(), &n, sizeof n) >= 0) return IoStatus::kOk;
  if (errno == EAGAIN) return IoStatus::kWouldBlock;
  return last_errno().fail("write", object_of(fd_.get()));
}

Result<void> EventFd::write(std::uint64_t n) {
  for (;;) {
    auto r = try_write(n);
    if (!r) return fail(r.error());
    if (*r == IoStatus::kOk) return {};
    if (auto w = wait_writable(fd_.get(), kNoDeadline); !w) return fail(w.error());
  }
}

Result<Attempt<std::uint64_t>> EventFd::try_read() {
  std::uint64_t v = 0;
  if (no_eintr(::read, fd_.get(), &v, sizeof v) >= 0) return Attempt<std::uint64_t>(v);
  if (errno == EAGAIN) return Attempt<std::uint64_t>::none(IoStatus::kWouldBlock);
  return last_errno().fail("read", object_of(fd_.get()));
}

Result<Attempt<std::uint64_t>> EventFd::read_until(Deadline deadline) {
  for (;;) {
    auto r = try_read();
    if (!r || r->has_value()) return r;
    // Another reader may take the count between poll() and read(): loop until the deadline.
    auto ready = wait_readable(fd_.get(), deadline);
    if (!ready) return fail(ready.error());
    if (*ready == IoStatus::kTimedOut) return Attempt<std::uint64_t>::none(IoStatus::kTimedOut);
  }
}

Result<std::uint64_t> EventFd::read() {
  auto r = read_until(kNoDeadline);
  if (!r) return fail(r.error());
  return **r;  // kNoDeadline never times out, so it holds a value
}

}  // namespace ipckit
