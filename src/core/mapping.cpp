// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/mapping.hpp"

#include <cerrno>

#include <fmt/format.h>

namespace ipckit {
namespace {

int prot_of(Access access) { return access == Access::kReadOnly ? PROT_READ : PROT_READ | PROT_WRITE; }

std::string mmap_hint(int err, const MapOptions& options) {
  if (err == ENOMEM && (options.extra_flags & MAP_HUGETLB) != 0) {
    return "no free huge pages: see /proc/sys/vm/nr_hugepages (HugePages_Free in /proc/meminfo)";
  }
  if (err == EACCES && options.access == Access::kReadWrite) {
    return "the descriptor is not open for writing; map it read-only or reopen it read-write";
  }
  return {};
}

}  // namespace

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = other.addr_;
    size_ = other.size_;
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Result<Mapping> Mapping::map(int fd, std::size_t size, MapOptions options, off_t offset, std::string_view object) {
  const std::string name = object.empty() ? fd_object(fd) : std::string(object);
  if (size == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "mmap", name, "cannot map 0 bytes");
  }
  int flags = (options.shared ? MAP_SHARED : MAP_PRIVATE) | options.extra_flags;
  if (options.populate) flags |= MAP_POPULATE;
  void* addr = ::mmap(nullptr, size, prot_of(options.access), flags, fd, offset);
  if (addr == MAP_FAILED) {
    const int err = errno;
    return fail_errno(err, "mmap", name, mmap_hint(err, options));
  }
  return Mapping(addr, size);
}

Result<Mapping> Mapping::anonymous(std::size_t size, MapOptions options) {
  if (size == 0) {
    return fail_library(LibraryCode::kInvalidArgument, "mmap", "anonymous", "cannot map 0 bytes");
  }
  int flags = (options.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | options.extra_flags;
  if (options.populate) flags |= MAP_POPULATE;
  void* addr = ::mmap(nullptr, size, prot_of(options.access), flags, -1, 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    return fail_errno(err, "mmap", "anonymous", mmap_hint(err, options));
  }
  return Mapping(addr, size);
}

Result<void> Mapping::sync(bool async) const {
  if (addr_ == nullptr) return {};
  if (::msync(addr_, size_, async ? MS_ASYNC : MS_SYNC) != 0) {
    return last_errno().fail("msync", fmt::format("{} bytes at {}", size_, addr_));
  }
  return {};
}

void Mapping::reset() noexcept {
  if (addr_ != nullptr) (void)::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

void* Mapping::release() noexcept {
  void* addr = addr_;
  addr_ = nullptr;
  size_ = 0;
  return addr;
}

}  // namespace ipckit
