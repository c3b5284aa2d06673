// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/memfd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"

#include "detail/proc_value.hpp"

namespace ipckit {
namespace {

// Linux 6.3: a memfd that can never be made executable. Older kernels reject the flag with EINVAL,
// and then we create without it.
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

// memfd_create names are limited to 249 bytes (NAME_MAX minus the "memfd:" prefix).
constexpr std::size_t kMaxMemfdName = 249;

std::string object_of(std::string_view name) { return quoted(fmt::format("memfd:{}", name)); }

std::string huge_hint() {
  return fmt::format("no huge pages available: HugePages_Free is {} of vm.nr_hugepages {}; reserve some with "
                     "`sysctl vm.nr_hugepages=N`",
                     detail::proc_text(detail::read_meminfo("HugePages_Free")),
                     detail::proc_text(detail::read_proc_u64("/proc/sys/vm/nr_hugepages")));
}

std::string create_hint(int err, const MemfdOptions& options) {
  if (options.huge_pages && (err == ENOMEM || err == EINVAL || err == ENOSPC)) return huge_hint();
  switch (err) {
    case ENOSPC:
    case ENOMEM: return "out of memory (or the memory cgroup's limit: see memory.max)";
    case EMFILE: return "too many open files in this process: see `ulimit -n` (RLIMIT_NOFILE)";
    case EFBIG: return "larger than this process may create: see `ulimit -f` (RLIMIT_FSIZE)";
    default: return {};
  }
}

}  // namespace

std::string seals_text(unsigned seals) {
  static constexpr struct {
    unsigned bit;
    const char* name;
  } kNames[] = {{F_SEAL_SEAL, "F_SEAL_SEAL"},   {F_SEAL_SHRINK, "F_SEAL_SHRINK"},
                {F_SEAL_GROW, "F_SEAL_GROW"},   {F_SEAL_WRITE, "F_SEAL_WRITE"},
                {F_SEAL_FUTURE_WRITE, "F_SEAL_FUTURE_WRITE"}, {F_SEAL_EXEC, "F_SEAL_EXEC"}};
  std::string out;
  for (const auto& n : kNames) {
    if ((seals & n.bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += n.name;
    seals &= ~n.bit;
  }
  if (seals != 0) out += fmt::format("{}0x{:x}", out.empty() ? "" : "|", seals);
  return out.empty() ? "none" : out;
}

Result<Memfd> Memfd::create(std::string_view debug_name, std::size_t size, MemfdOptions options) {
  const std::string name(debug_name);
  if (name.size() > kMaxMemfdName || name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return fail_library(LibraryCode::kInvalidArgument, "memfd_create", quoted(debug_name),
                        fmt::format("a memfd name has at most {} bytes and no '/' or NUL", kMaxMemfdName));
  }
  if (size == 0 || size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kInvalidArgument, "memfd_create", object_of(name),
                        fmt::format("size {} must be > 0 and fit in off_t", size));
  }
  unsigned flags = MFD_CLOEXEC;
  if (options.allow_sealing) flags |= MFD_ALLOW_SEALING;
  if (options.huge_pages) flags |= MFD_HUGETLB;
  int fd = -1;
  if (options.allow_sealing && !options.huge_pages) {
    // Shared data is never code: refuse exec where the kernel can (and avoid its warning).
    fd = ::memfd_create(name.c_str(), flags | MFD_NOEXEC_SEAL);
  }
  if (fd < 0) fd = ::memfd_create(name.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    return fail_errno(err, "memfd_create", object_of(name), create_hint(err, options));
  }
  UniqueFd owned(fd);
  if (options.huge_pages) {
    // hugetlbfs does not support posix_fallocate's fallback; fallocate(2) reserves the pages there.
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      const int err = errno;
      return fail_errno(err, "ftruncate", object_of(name),
                        err == EINVAL ? fmt::format("size {} is not a multiple of the huge page size", size)
                                      : create_hint(err, options));
    }
    if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
      const int err = errno;
      return fail_errno(err, "fallocate", object_of(name), create_hint(err, options));
    }
  } else if (const int err = no_eintr_rc(::posix_fallocate, fd, 0, static_cast<off_t>(size)); err != 0) {
    return fail_errno(err, "posix_fallocate", object_of(name), fmt::format("{} bytes: {}", size, create_hint(err, options)));
  }
  return Memfd(std::move(owned), name, size);
}

Result<Memfd> Memfd::adopt(UniqueFd fd, MemfdRequirements required) {
  const std::string object = fd_object(fd.get());
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0) {
    const int err = errno;
    if (err == EINVAL) {
      return fail_library(LibraryCode::kInvalidArgument, "fcntl(F_GET_SEALS)", object,
                          "not a memfd (or another sealable file): its seals cannot be checked");
    }
    return fail_errno(err, "fcntl(F_GET_SEALS)", object);
  }
  const unsigned missing = required.seals & ~static_cast<unsigned>(seals);
  if (missing != 0) {
    return fail_library(LibraryCode::kCorrupt, "memfd", object,
                        fmt::format("the peer's memfd lacks {} (it has {}); an unsealed peer could shrink or "
                                    "write it under us",
                                    seals_text(missing), seals_text(static_cast<unsigned>(seals))));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_errno().fail("fstat", object);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < required.min_size) {
    return fail_library(LibraryCode::kCorrupt, "memfd", object,
                        fmt::format("the peer's memfd has {} bytes, fewer than the {} required", size, required.min_size));
  }
  // The name the creator gave shows in the /proc link ("/memfd:NAME (deleted)").
  std::string name = object;
  char link[512];
  const std::string proc = fmt::format("/proc/self/fd/{}", fd.get());
  const ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
  if (n > 0) {
    std::string target(link, static_cast<std::size_t>(n));
    constexpr std::string_view kPrefix = "/memfd:";
    constexpr std::string_view kSuffix = " (deleted)";
    if (target.rfind(kPrefix, 0) == 0) {
      target.erase(0, kPrefix.size());
      if (target.size() >= kSuffix.size() && target.compare(target.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
        target.resize(target.size() - kSuffix.size());
      }
      name = target;
    }
  }
  return Memfd(std::move(fd), std::move(name), size);
}

Result<void> Memfd::add_seals(unsigned seals_to_add) const {
  if (::fcntl(fd_.get(), F_ADD_SEALS, static_cast<int>(seals_to_add)) == 0) return {};
  const int err = errno;
  std::string hint;
  if (err == EBUSY) {
    hint = "F_SEAL_WRITE needs every writable shared mapping gone; use F_SEAL_FUTURE_WRITE to keep the "
           "creator's mapping writable";
  } else if (err == EPERM) {
    hint = "F_SEAL_SEAL is set (or the memfd was created without MFD_ALLOW_SEALING): no seal can be added";
  }
  return fail_errno(err, fmt::format("fcntl(F_ADD_SEALS, {})", seals_text(seals_to_add)), object_of(name_), hint);
}

Result<unsigned> Memfd::seals() const {
  const int s = ::fcntl(fd_.get(), F_GET_SEALS);
  if (s < 0) return last_errno().fail("fcntl(F_GET_SEALS)", object_of(name_));
  return static_cast<unsigned>(s);
}

Result<Mapping> Memfd::map(MapOptions options) const {
  if (options.access == Access::kReadWrite && options.shared) {
    auto s = seals();
    if (!s) return fail(std::move(s.error()));
    if ((*s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
      return fail_errno(EPERM, "mmap", object_of(name_),
                        fmt::format("the memfd is sealed against writes ({}): map it read-only", seals_text(*s)));
    }
  }
  return Mapping::map(fd_.get(), size_, options, 0, object_of(name_));
}

Result<void> Memfd::resize(std::size_t new_size) {
  if (new_size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail_library(LibraryCode::kTooLarge, "ftruncate", object_of(name_), fmt::format("size {}", new_size));
  }
  if (new_size < size_) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(new_size)) != 0) {
      const int err = errno;
      return fail_errno(err, "ftruncate", object_of(name_), err == EPERM ? "sealed with F_SEAL_SHRINK" : "");
    }
  } else if (new_size > size_) {
    if (const int err = no_eintr_rc(::posix_fallocate, fd_.get(), 0, static_cast<off_t>(new_size)); err != 0) {
      return fail_errno(err, "posix_fallocate", object_of(name_), err == EPERM ? "sealed with F_SEAL_GROW" : "");
    }
  }
  size_ = new_size;
  return {};
}

std::string Memfd::proc_path() const { return fmt::format("/proc/{}/fd/{}", ::getpid(), fd_.get()); }

}  // namespace ipckit
