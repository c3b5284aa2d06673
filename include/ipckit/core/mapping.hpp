// SPDX-License-Identifier: Apache-2.0
// Mapping: sole owner of a memory mapping (mmap/munmap).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

#include "ipckit/core/result.hpp"

namespace ipckit {

enum class Access { kReadOnly, kReadWrite };

struct MapOptions {
  Access access = Access::kReadWrite;
  bool shared = true;     // MAP_SHARED (else MAP_PRIVATE, copy-on-write)
  bool populate = false;  // MAP_POPULATE: fault every page in now
  int extra_flags = 0;    // e.g. MAP_HUGETLB
};

// Move-only; the destructor unmaps once and ignores errors. Not thread-safe for reset().
class IPCKIT_API Mapping {
 public:
  Mapping() noexcept = default;
  // Adopts an existing mapping.
  Mapping(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}
  ~Mapping() { reset(); }
  Mapping(Mapping&& other) noexcept : addr_(other.addr_), size_(other.size_) {
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // Maps `size` bytes of `fd` at `offset`. `object` names the fd's object in errors.
  [[nodiscard]] static Result<Mapping> map(int fd, std::size_t size, MapOptions options = {},
                                           off_t offset = 0, std::string_view object = {});
  // Anonymous memory: shared=true gives MAP_SHARED|MAP_ANONYMOUS, inherited across fork().
  [[nodiscard]] static Result<Mapping> anonymous(std::size_t size, MapOptions options = {});

  [[nodiscard]] void* data() const noexcept { return addr_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  [[nodiscard]] std::span<std::byte> bytes() const noexcept {
    return {static_cast<std::byte*>(addr_), size_};
  }

  // msync(MS_SYNC or MS_ASYNC) of the whole mapping.
  [[nodiscard]] Result<void> sync(bool async = false) const;

  // Unmaps (ignoring errors) and becomes empty.
  void reset() noexcept;
  // Gives up ownership without unmapping.
  void* release() noexcept;

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ipckit
