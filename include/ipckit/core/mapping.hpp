// SPDX-License-Identifier: Apache-2.0
/// @file
/// Mapping: sole owner of a memory mapping (mmap/munmap).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Page protection of a mapping: kReadOnly (PROT_READ) or kReadWrite (PROT_READ|PROT_WRITE).
enum class Access { kReadOnly, kReadWrite };

/// How Mapping::map() and Mapping::anonymous() map memory.
struct MapOptions {
  Access access = Access::kReadWrite;  ///< page protection
  bool shared = true;     ///< MAP_SHARED (else MAP_PRIVATE, copy-on-write)
  bool populate = false;  ///< MAP_POPULATE: fault every page in now
  int extra_flags = 0;    ///< e.g. MAP_HUGETLB
};

/// Sole owner of a memory mapping (mmap/munmap).
///
/// Move-only; the destructor unmaps once and ignores errors. Not thread-safe for reset().
class IPCKIT_API Mapping {
 public:
  /// An empty mapping (valid() is false).
  Mapping() noexcept = default;
  /// Adopts an existing mapping.
  Mapping(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}
  /// Unmaps, ignoring errors.
  ~Mapping() { reset(); }
  /// Moves the mapping; \p other is left empty.
  Mapping(Mapping&& other) noexcept : addr_(other.addr_), size_(other.size_) {
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  /// Unmaps the current mapping, then takes \p other's; \p other is left empty.
  Mapping& operator=(Mapping&& other) noexcept;
  /// Not copyable.
  Mapping(const Mapping&) = delete;
  /// Not copyable.
  Mapping& operator=(const Mapping&) = delete;

  /// Maps `size` bytes of `fd` at `offset`. `object` names the fd's object in errors.
  /// Errors: kInvalidArgument for size 0; the mmap() errno otherwise, with a hint for EACCES (fd not
  /// open for writing) and for ENOMEM with MAP_HUGETLB (no free huge pages).
  [[nodiscard]] static Result<Mapping> map(int fd, std::size_t size, MapOptions options = {},
                                           off_t offset = 0, std::string_view object = {});
  /// Anonymous memory: shared=true gives MAP_SHARED|MAP_ANONYMOUS, inherited across fork().
  /// Errors as map().
  [[nodiscard]] static Result<Mapping> anonymous(std::size_t size, MapOptions options = {});

  /// The start address (nullptr when empty).
  [[nodiscard]] void* data() const noexcept { return addr_; }
  /// The length in bytes (0 when empty).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// True when this object owns a mapping.
  [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
  /// valid().
  explicit operator bool() const noexcept { return valid(); }
  /// The mapping as a span of bytes.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept {
    return {static_cast<std::byte*>(addr_), size_};
  }

  /// msync(MS_SYNC or MS_ASYNC) of the whole mapping; a no-op when empty. Errors: the msync() errno.
  [[nodiscard]] Result<void> sync(bool async = false) const;

  /// Unmaps (ignoring errors) and becomes empty.
  void reset() noexcept;
  /// Gives up ownership without unmapping; returns the address (nullptr if empty).
  void* release() noexcept;

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ipckit
