// SPDX-License-Identifier: Apache-2.0
#include "ipckit/file/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {
namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Removes the temporary file unless disarmed (every failure path before the rename).
struct TempGuard {
  std::string path;
  bool armed = true;
  ~TempGuard() {
    if (armed) (void)::unlink(path.c_str());
  }
};

}  // namespace

Result<void> atomic_replace(const std::string& path, std::span<const std::byte> data, ReplaceOptions options) {
  // The temporary file must be in the same directory: rename() is atomic only within one filesystem.
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int raw = ::mkostemp(buf.data(), O_CLOEXEC);
  if (raw < 0) return last_errno().fail("mkostemp", quoted(tmpl));
  UniqueFd fd(raw);
  TempGuard guard{std::string(buf.data())};

  // mkostemp creates 0600; set the requested mode exactly (fchmod ignores the umask).
  if (::fchmod(fd.get(), options.mode) != 0) return last_errno().fail("fchmod", quoted(guard.path));
  auto w = write_full(fd.get(), data, nullptr, quoted(guard.path));
  if (!w) return fail(w.error());
  // Data before name: without this fsync a crash after the rename could leave an empty new file.
  if (options.sync && ::fsync(fd.get()) != 0) return last_errno().fail("fsync", quoted(guard.path));
  if (auto c = fd.close(); !c) return fail(c.error());
  if (::rename(guard.path.c_str(), path.c_str()) != 0) return last_errno().fail("rename", quoted(path));
  guard.armed = false;
  if (options.sync) {
    // The rename itself is durable only once the directory is synced.
    const std::string dir = dir_of(path);
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return last_errno().fail("open", quoted(dir));
    if (::fsync(dfd.get()) != 0) return last_errno().fail("fsync", quoted(dir));
  }
  return {};
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return last_errno().fail("open", quoted(path));
  return read_all(fd.get(), quoted(path));
}

}  // namespace ipckit
