// SPDX-License-Identifier: Apache-2.0
#include "ipckit/file/append_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/sync/file_lock.hpp"

namespace ipckit {
namespace {

void put_u32(std::byte* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

Result<AppendLog> AppendLog::open(const std::string& path, OpenMode mode, mode_t perms) {
  // O_RDWR, not O_WRONLY: the shared (read) OFD lock taken for small records needs read access.
  const int base = O_RDWR | O_APPEND | O_CLOEXEC;
  for (;;) {
    if (mode != OpenMode::kOpenExisting) {
      const int fd = ::open(path.c_str(), base | O_CREAT | O_EXCL, perms);
      if (fd >= 0) {
        UniqueFd owned(fd);
        if (::fchmod(fd, perms) != 0) {
          const int err = errno;
          (void)::unlink(path.c_str());
          return fail_errno(err, "fchmod", quoted(path));
        }
        return AppendLog(std::move(owned), path);
      }
      if (errno != EEXIST || mode == OpenMode::kCreateExclusive) return last_errno().fail("open", quoted(path));
    }
    const int fd = ::open(path.c_str(), base);
    if (fd >= 0) return AppendLog(UniqueFd(fd), path);
    if (errno == ENOENT && mode == OpenMode::kOpenOrCreate) continue;
    return last_errno().fail("open", quoted(path));
  }
}

Result<void> AppendLog::append(std::string_view payload) { return append(as_bytes(payload)); }

Result<void> AppendLog::append(std::span<const std::byte> payload) {
  if (payload.size() > kMaxRecord) {
    return fail_library(LibraryCode::kTooLarge, "append", quoted(path_),
                        fmt::format("record of {} bytes > the log's maximum ({})", payload.size(), kMaxRecord));
  }
  const std::size_t total = kHeaderSize + payload.size();
  std::vector<std::byte> record(total);
  put_u32(record.data(), kMagic);
  put_u32(record.data() + 4, static_cast<std::uint32_t>(payload.size()));
  if (!payload.empty()) std::memcpy(record.data() + kHeaderSize, payload.data(), payload.size());

  const bool small = total <= kAtomicRecordMax;
  // OFD locks belong to this open file description, so threads and processes exclude each other
  // alike; whole-file range (length 0) so it also covers bytes appended while we hold it.
  auto lock = FileLock::lock(fd_.get(),
                             LockSpec{LockStyle::kOfd, small ? LockKind::kShared : LockKind::kExclusive, 0, 0},
                             path_);
  if (!lock) return fail(lock.error());
  if (small) {
    const ssize_t n = no_eintr(::write, fd_.get(), record.data(), record.size());
    if (n < 0) return last_errno().fail("write", quoted(path_));
    if (n == static_cast<ssize_t>(record.size())) return lock->unlock();
    // A short write of a small record is a torn record; readers will see it as a torn tail. The
    // kernel gave no errno (a later write would say why, ENOSPC or EFBIG): say what happened.
    return fail_library(LibraryCode::kTruncated, "write", quoted(path_),
                        fmt::format("only {} of {} bytes were appended: the record is torn (is the "
                                    "disk full or the file size limit reached?)",
                                    n, record.size()));
  }
  auto w = write_full(fd_.get(), record, nullptr, quoted(path_));
  if (!w) return fail(w.error());
  return lock->unlock();
}

Result<LogContents> read_log(const std::string& path) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return last_errno().fail("open", quoted(path));
  UniqueFd fd(raw);
  // A shared lock waits out any large record in progress, so we never read half of one.
  auto lock = FileLock::lock(fd.get(), LockSpec{LockStyle::kOfd, LockKind::kShared, 0, 0}, path);
  if (!lock) return fail(lock.error());
  auto all = read_all(fd.get(), quoted(path));
  if (!all) return fail(all.error());
  LogContents out;
  std::size_t pos = 0;
  while (pos < all->size()) {
    if (all->size() - pos < AppendLog::kHeaderSize) {
      out.torn_tail = true;
      break;
    }
    const std::uint32_t magic = get_u32(all->data() + pos);
    const std::uint32_t len = get_u32(all->data() + pos + 4);
    if (magic != AppendLog::kMagic || len > AppendLog::kMaxRecord) {
      return fail_library(LibraryCode::kCorrupt, "read_log", quoted(path),
                          fmt::format("bad record header at offset {} (magic 0x{:x}, length {})", pos, magic, len));
    }
    if (all->size() - pos - AppendLog::kHeaderSize < len) {
      out.torn_tail = true;
      break;
    }
    out.records.emplace_back(all->data() + pos + AppendLog::kHeaderSize, len);
    pos += AppendLog::kHeaderSize + len;
  }
  return out;
}

}  // namespace ipckit
