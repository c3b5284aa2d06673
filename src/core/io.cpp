// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/io.hpp"

#include <unistd.h>

#include <cerrno>
#include <optional>

#include "ipckit/core/poll.hpp"
#include "retry.hpp"

namespace ipckit {
namespace {

using detail::Direction;
using detail::TransferSpec;
using detail::WaitMode;

std::string name_of(int fd, std::string_view object) {
  return object.empty() ? fd_object(fd) : std::string(object);
}

// The forms without a deadline make one attempt per call and report a dry non-blocking descriptor
// as kWouldBlock (kTry); the deadline forms poll before each call, since the descriptor may be
// blocking (kUntil with poll_first).
TransferSpec spec_of(Direction direction, bool all, Deadline deadline, bool with_deadline) {
  TransferSpec spec;
  spec.direction = direction;
  spec.all = all;
  spec.mode = with_deadline ? WaitMode::kUntil : WaitMode::kTry;
  spec.deadline = deadline;
  spec.poll_first = with_deadline;
  return spec;
}

Result<IoResult> do_read(int fd, std::span<std::byte> buf, ReadFn fn, std::string_view object,
                         const TransferSpec& spec) {
  if (fn == nullptr) fn = ::read;
  return detail::transfer(
      fd, buf.size(), spec,
      [&](std::size_t offset, bool) -> long { return fn(fd, buf.data() + offset, buf.size() - offset); },
      [](int) -> std::optional<IoStatus> { return std::nullopt; },
      [&] { return detail::CallNames{"read", name_of(fd, object)}; });
}

Result<IoResult> do_write(int fd, std::span<const std::byte> buf, WriteFn fn, std::string_view object,
                          const TransferSpec& spec) {
  if (fn == nullptr) fn = ::write;
  return detail::transfer(
      fd, buf.size(), spec,
      [&](std::size_t offset, bool) -> long { return fn(fd, buf.data() + offset, buf.size() - offset); },
      [](int err) -> std::optional<IoStatus> {
        if (err == EPIPE) return IoStatus::kPeerClosed;
        return std::nullopt;
      },
      [&] { return detail::CallNames{"write", name_of(fd, object)}; });
}

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
  return do_read(fd, buf, fn, object, spec_of(Direction::kRead, false, kNoDeadline, false));
}

Result<IoResult> write_some(int fd, std::span<const std::byte> buf, WriteFn fn, std::string_view object) {
  return do_write(fd, buf, fn, object, spec_of(Direction::kWrite, false, kNoDeadline, false));
}

Result<IoResult> read_full(int fd, std::span<std::byte> buf, ReadFn fn, std::string_view object) {
  return do_read(fd, buf, fn, object, spec_of(Direction::kRead, true, kNoDeadline, false));
}

Result<IoResult> write_full(int fd, std::span<const std::byte> buf, WriteFn fn, std::string_view object) {
  return do_write(fd, buf, fn, object, spec_of(Direction::kWrite, true, kNoDeadline, false));
}

Result<IoResult> read_full_until(int fd, std::span<std::byte> buf, Deadline deadline, std::string_view object) {
  return do_read(fd, buf, nullptr, object, spec_of(Direction::kRead, true, deadline, true));
}

Result<IoResult> write_full_until(int fd, std::span<const std::byte> buf, Deadline deadline,
                                  std::string_view object) {
  return do_write(fd, buf, nullptr, object, spec_of(Direction::kWrite, true, deadline, true));
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
