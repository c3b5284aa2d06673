// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/io.hpp"

#include <unistd.h>

#include <cerrno>

#include "ipckit/core/poll.hpp"

namespace ipckit {
namespace {

std::string name_of(int fd, std::string_view object) {
  return object.empty() ? fd_object(fd) : std::string(object);
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

const char* to_string(IoStatus status) noexcept {
  switch (status) {
    case IoStatus::kOk: return "ok";
    case IoStatus::kEndOfStream: return "end of stream";
    case IoStatus::kPeerClosed: return "peer closed";
    case IoStatus::kWouldBlock: return "would block";
    case IoStatus::kTimedOut: return "timed out";
  }
  return "unknown";
}

Result<IoResult> read_some(int fd, std::span<std::byte> buf, ReadFn fn, std::string_view object) {
  if (fn == nullptr) fn = ::read;
  for (;;) {
    const ssize_t n = fn(fd, buf.data(), buf.size());
    if (n > 0) return IoResult{static_cast<std::size_t>(n), IoStatus::kOk};
    if (n == 0) return IoResult{0, buf.empty() ? IoStatus::kOk : IoStatus::kEndOfStream};
    if (errno == EINTR) continue;
    if (would_block(errno)) return IoResult{0, IoStatus::kWouldBlock};
    return last_errno().fail("read", name_of(fd, object));
  }
}

Result<IoResult> write_some(int fd, std::span<const std::byte> buf, WriteFn fn, std::string_view object) {
  if (fn == nullptr) fn = ::write;
  for (;;) {
    const ssize_t n = fn(fd, buf.data(), buf.size());
    if (n >= 0) return IoResult{static_cast<std::size_t>(n), IoStatus::kOk};
    if (errno == EINTR) continue;
    if (would_block(errno)) return IoResult{0, IoStatus::kWouldBlock};
    if (errno == EPIPE) return IoResult{0, IoStatus::kPeerClosed};
    return last_errno().fail("write", name_of(fd, object));
  }
}

Result<IoResult> read_full(int fd, std::span<std::byte> buf, ReadFn fn, std::string_view object) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto r = read_some(fd, buf.subspan(done), fn, object);
    if (!r) return r;
    done += r->bytes;
    if (r->status != IoStatus::kOk) return IoResult{done, r->status};
  }
  return IoResult{done, IoStatus::kOk};
}

Result<IoResult> write_full(int fd, std::span<const std::byte> buf, WriteFn fn, std::string_view object) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto r = write_some(fd, buf.subspan(done), fn, object);
    if (!r) return r;
    done += r->bytes;
    if (r->status != IoStatus::kOk) return IoResult{done, r->status};
  }
  return IoResult{done, IoStatus::kOk};
}

Result<IoResult> read_full_until(int fd, std::span<std::byte> buf, Deadline deadline, std::string_view object) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto ready = poll_one(fd, POLLIN, deadline);
    if (!ready) return fail(ready.error());
    if (*ready == 0) return IoResult{done, IoStatus::kTimedOut};
    auto r = read_some(fd, buf.subspan(done), nullptr, object);
    if (!r) return r;
    done += r->bytes;
    if (r->status == IoStatus::kEndOfStream) return IoResult{done, r->status};
  }
  return IoResult{done, IoStatus::kOk};
}

Result<IoResult> write_full_until(int fd, std::span<const std::byte> buf, Deadline deadline,
                                  std::string_view object) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto ready = poll_one(fd, POLLOUT, deadline);
    if (!ready) return fail(ready.error());
    if (*ready == 0) return IoResult{done, IoStatus::kTimedOut};
    auto r = write_some(fd, buf.subspan(done), nullptr, object);
    if (!r) return r;
    done += r->bytes;
    if (r->status == IoStatus::kPeerClosed) return IoResult{done, r->status};
  }
  return IoResult{done, IoStatus::kOk};
}

Result<std::string> read_all(int fd, std::string_view object) {
  std::string out;
  std::byte chunk[4096];
  for (;;) {
    auto r = read_some(fd, chunk, nullptr, object);
    if (!r) return fail(r.error());
    if (r->status == IoStatus::kEndOfStream) return out;
    if (r->status == IoStatus::kWouldBlock) {
      auto ready = wait_readable(fd, kNoDeadline);
      if (!ready) return fail(ready.error());
      continue;
    }
    out.append(reinterpret_cast<const char*>(chunk), r->bytes);
  }
}

}  // namespace ipckit
