// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/fifo.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "detail/file_kind.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/poll.hpp"

namespace ipckit {
namespace {

Result<void> not_a_fifo(const std::string& call, const std::string& path, mode_t m) {
  return fail_errno(EINVAL, call, quoted(path), fmt::format("the path is {}, not a FIFO", detail::describe_file_type(m)));
}

// Refuses a path that exists but is not a FIFO (a symbolic link included: lstat) before open()
// could block on, or succeed on, it.
Result<void> expect_fifo(const std::string& path, const char* call) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    return fail_errno(err, call, quoted(path), err == ENOENT ? "no FIFO at this path: create it first (Fifo::create)" : "");
  }
  if (!S_ISFIFO(st.st_mode)) return not_a_fifo(call, path, st.st_mode);
  return {};
}

// open() with EINTR retried and O_NOFOLLOW (a symbolic link planted since lstat() fails with ELOOP);
// fstat afterwards closes the race with a path replaced since lstat(), and checks owner and mode.
Result<UniqueFd> open_fifo(const std::string& path, int flags, const char* call, const FifoOpenOptions& options) {
  if (auto ok = expect_fifo(path, call); !ok) return fail(ok.error());
  const int fd = no_eintr(::open, path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const auto err = last_errno();
    std::string hint;
    if (err.code() == ENXIO) {
      hint = "no process has the FIFO open for reading; start the reader first, or use "
             "Fifo::open_writer()/open_writer_until() to wait for one";
    } else if (err.code() == ELOOP) {
      hint = "the path became a symbolic link after it was checked: FIFOs are opened without following links";
    }
    return err.fail(call, quoted(path), hint);
  }
  UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(path));
  if (!S_ISFIFO(st.st_mode)) return fail(not_a_fifo(call, path, st.st_mode).error());
  if (auto trusted = check_owner(ObjectOwner{st.st_uid, st.st_gid, st.st_mode}, options.mode, options.trust, call,
                                 quoted(path));
      !trusted) {
    return fail(std::move(trusted.error()));
  }
  return owned;
}

void pause_for(Clock::duration d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

Result<void> Fifo::create(std::string_view path_view, OpenMode mode, mode_t permissions) {
  const std::string path(path_view);
  if (path.empty()) return fail_library(LibraryCode::kInvalidArgument, "mkfifo", quoted(path), "empty path");
  if (mode == OpenMode::kOpenExisting) return expect_fifo(path, "mkfifo");
  if (::mkfifo(path.c_str(), permissions) != 0) {
    const int err = errno;
    if (err != EEXIST) {
      return fail_errno(err, "mkfifo", quoted(path),
                        err == ENOENT ? "a directory on the path does not exist" : "");
    }
    struct stat st {};
    const bool known = ::lstat(path.c_str(), &st) == 0;
    if (known && !S_ISFIFO(st.st_mode)) {
      return fail_errno(EEXIST, "mkfifo", quoted(path),
                        fmt::format("the path exists and is {}, not a FIFO", detail::describe_file_type(st.st_mode)));
    }
    if (mode == OpenMode::kOpenOrCreate && known) return {};
    return fail_errno(EEXIST, "mkfifo", quoted(path), "a FIFO already exists at this path");
  }
  // mkfifo applies the umask; set the requested mode exactly (it can only widen to what was asked).
  if (::chmod(path.c_str(), permissions) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return fail_errno(err, "chmod", quoted(path));
  }
  return {};
}

Result<void> Fifo::remove(std::string_view path_view) {
  const std::string path(path_view);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return last_errno().fail("lstat", quoted(path));
  }
  if (!S_ISFIFO(st.st_mode)) return not_a_fifo("unlink", path, st.st_mode);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return last_errno().fail("unlink", quoted(path));
  return {};
}

Result<PipeReader> Fifo::open_reader(std::string_view path, const FifoOpenOptions& options) {
  const std::string p(path);
  auto fd = open_fifo(p, O_RDONLY, "open", options);
  if (!fd) return fail(fd.error());
  return PipeReader::adopt(std::move(*fd), p);
}

Result<PipeReader> Fifo::try_open_reader(std::string_view path, const FifoOpenOptions& options) {
  const std::string p(path);
  auto fd = open_fifo(p, O_RDONLY | O_NONBLOCK, "open", options);
  if (!fd) return fail(fd.error());
  return PipeReader::adopt(std::move(*fd), p);
}

Result<Attempt<PipeReader>> Fifo::open_reader_until(std::string_view path, Deadline deadline,
                                                    const FifoOpenOptions& options) {
  auto reader = try_open_reader(path, options);
  if (!reader) return fail(reader.error());
  // POLLIN: a writer wrote; POLLHUP: a writer came and went. Linux reports neither before the first
  // writer of this open (the reader's f_version remembers the writer count at open time).
  auto ready = poll_one(reader->native_handle(), POLLIN, deadline);
  if (!ready) return fail(ready.error());
  if (*ready == 0) return Attempt<PipeReader>::none(IoStatus::kTimedOut);
  return Attempt<PipeReader>(std::move(*reader));
}

Result<PipeWriter> Fifo::open_writer(std::string_view path, const FifoOpenOptions& options) {
  const std::string p(path);
  auto fd = open_fifo(p, O_WRONLY, "open", options);
  if (!fd) return fail(fd.error());
  return PipeWriter::adopt(std::move(*fd), p);
}

Result<PipeWriter> Fifo::try_open_writer(std::string_view path, const FifoOpenOptions& options) {
  const std::string p(path);
  auto fd = open_fifo(p, O_WRONLY | O_NONBLOCK, "open", options);
  if (!fd) return fail(fd.error());
  return PipeWriter::adopt(std::move(*fd), p);
}

Result<Attempt<PipeWriter>> Fifo::open_writer_until(std::string_view path, Deadline deadline,
                                                    const FifoOpenOptions& options) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto w = try_open_writer(path, options);
    if (w) return Attempt<PipeWriter>(std::move(*w));
    if (!w.error().is(ENXIO)) return fail(w.error());
    if (Clock::now() >= deadline) return Attempt<PipeWriter>::none(IoStatus::kTimedOut);
    pause_for(std::min<Clock::duration>(pause, remaining(deadline)));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace ipckit
