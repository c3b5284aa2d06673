// SPDX-License-Identifier: Apache-2.0
// Huge pages (MAP_HUGETLB): fewer TLB misses for large shared buffers.
//
// Linux serves MAP_HUGETLB only from a pool the administrator reserves (vm.nr_hugepages, or
// vm.nr_overcommit_hugepages for surplus pages); most machines have none. When the pool cannot
// serve a request the error says so, with the pool's numbers and the sysctl to change, instead of
// a bare ENOMEM. (Transparent huge pages need no pool but cannot be requested for shared memory
// per mapping; they are the kernel's choice.) Memfd takes MemfdOptions::huge_pages for sharing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// The default huge page pool, from /proc/meminfo.
struct HugePageInfo {
  std::size_t page_size = 0;  ///< `Hugepagesize` (bytes)
  std::uint64_t total = 0;    ///< `HugePages_Total`
  std::uint64_t free = 0;     ///< `HugePages_Free`
  std::uint64_t reserved = 0; ///< `HugePages_Rsvd`: promised to mappings, not yet faulted
  std::uint64_t surplus = 0;  ///< `HugePages_Surp`
};
/// Reads the default huge page pool from /proc/meminfo.
/// Errors: "unsupported" when the kernel has no hugetlb support (no `Hugepagesize` in /proc/meminfo).
[[nodiscard]] IPCKIT_API Result<HugePageInfo> huge_page_info();

/// Anonymous memory in default-size huge pages: MAP_SHARED (inherited across fork) unless
/// options.shared is false. \p size must be a multiple of the huge page size. Never blocks beyond
/// the allocation. Errors: "invalid argument" (size), ENOMEM with a hint naming `HugePages_Total` /
/// `HugePages_Free` and `sysctl vm.nr_hugepages=N` when the pool is empty or too small.
[[nodiscard]] IPCKIT_API Result<Mapping> map_huge_pages(std::size_t size, MapOptions options = {});

}  // namespace ipckit
