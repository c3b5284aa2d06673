// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include <fmt/format.h>

#include "detail/proc_value.hpp"

#include "ipckit/core/sigpipe.hpp"

namespace ipckit {
namespace {

std::string object_of(int fd, std::string_view object) {
  return object.empty() ? fd_object(fd) : quoted(object);
}

}  // namespace

Result<std::size_t> pipe_capacity(int fd, std::string_view object) {
  const int n = ::fcntl(fd, F_GETPIPE_SZ);
  if (n < 0) return last_errno().fail("fcntl(F_GETPIPE_SZ)", object_of(fd, object));
  return static_cast<std::size_t>(n);
}

Result<std::size_t> set_pipe_capacity(int fd, std::size_t bytes, std::string_view object) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    return fail_library(LibraryCode::kTooLarge, "fcntl(F_SETPIPE_SZ)", object_of(fd, object),
                        fmt::format("{} bytes does not fit an int (the kernel's argument type)", bytes));
  }
  const int n = ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes));
  if (n < 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM) {
      hint = fmt::format("{} bytes > /proc/sys/fs/pipe-max-size ({}); raise that limit or run with "
                         "CAP_SYS_RESOURCE, which bypasses it",
                         bytes, detail::proc_text(detail::read_proc_u64("/proc/sys/fs/pipe-max-size")));
    } else if (err == EBUSY) {
      hint = fmt::format("{} bytes is less than the data now in the pipe", bytes);
    } else if (err == ENOMEM) {
      hint = "the pipe buffer could not be allocated (/proc/sys/fs/pipe-user-pages-hard/-soft may also apply)";
    }
    return fail_errno(err, "fcntl(F_SETPIPE_SZ)", object_of(fd, object), hint);
  }
  return static_cast<std::size_t>(n);
}

Result<PipeReader> PipeReader::adopt(UniqueFd fd, std::string name) {
  if (auto r = set_nonblocking(fd.get(), true); !r) return fail(r.error());
  PipeReader p;
  p.fd_ = std::move(fd);
  p.name_ = std::move(name);
  return p;
}

Result<PipeWriter> PipeWriter::adopt(UniqueFd fd, std::string name) {
  if (auto r = set_nonblocking(fd.get(), true); !r) return fail(r.error());
  PipeWriter p;
  p.fd_ = std::move(fd);
  p.name_ = std::move(name);
  p.sigpipe_ignored_ = sigpipe_ignored();
  return p;
}

void PipeWriter::recheck_sigpipe() noexcept { sigpipe_ignored_ = sigpipe_ignored(); }

Result<PipePair> Pipe::create() { return create(PipeOptions{}); }

Result<PipePair> Pipe::create(PipeOptions options) {
  int fds[2];
  // Both ends O_NONBLOCK from the start: one syscall instead of pipe2 + two fcntl.
  const int flags = O_CLOEXEC | O_NONBLOCK | (options.packet ? O_DIRECT : 0);
  if (::pipe2(fds, flags) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EMFILE) hint = "the process is at RLIMIT_NOFILE (ulimit -n)";
    if (err == ENFILE) hint = "the system is at /proc/sys/fs/file-max";
    return fail_errno(err, "pipe2", "pipe", hint);
  }
  PipePair pair;
  pair.reader.fd_.reset(fds[0]);
  pair.reader.name_ = "pipe";
  pair.writer.fd_.reset(fds[1]);
  pair.writer.name_ = "pipe";
  pair.writer.sigpipe_ignored_ = sigpipe_ignored();
  return pair;
}

}  // namespace ipckit
