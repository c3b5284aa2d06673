// SPDX-License-Identifier: Apache-2.0
#include "ipckit/memory/huge_pages.hpp"

#include <sys/mman.h>

#include <cerrno>

#include <fmt/format.h>

#include "detail/proc_value.hpp"

namespace ipckit {

Result<HugePageInfo> huge_page_info() {
  const auto size_kb = detail::read_meminfo("Hugepagesize");
  if (!size_kb) {
    return fail_library(LibraryCode::kUnsupported, "read", quoted("/proc/meminfo"),
                        "no Hugepagesize: this kernel has no hugetlb support");
  }
  HugePageInfo info;
  info.page_size = static_cast<std::size_t>(*size_kb) * 1024;
  info.total = detail::read_meminfo("HugePages_Total").value_or(0);
  info.free = detail::read_meminfo("HugePages_Free").value_or(0);
  info.reserved = detail::read_meminfo("HugePages_Rsvd").value_or(0);
  info.surplus = detail::read_meminfo("HugePages_Surp").value_or(0);
  return info;
}

Result<Mapping> map_huge_pages(std::size_t size, MapOptions options) {
  auto info = huge_page_info();
  if (!info) return fail(std::move(info.error()));
  const std::size_t page = info->page_size;
  if (size == 0 || size % page != 0) {
    return fail_library(LibraryCode::kInvalidArgument, "mmap(MAP_HUGETLB)", "anonymous",
                        fmt::format("size {} is not a positive multiple of the huge page size {}", size, page));
  }
  options.extra_flags |= MAP_HUGETLB;
  auto map = Mapping::anonymous(size, options);
  if (map) return map;
  const int err = map.error().code();
  if (err != ENOMEM) return map;
  const std::uint64_t needed = size / page;
  const auto overcommit = detail::read_proc_u64("/proc/sys/vm/nr_overcommit_hugepages").value_or(0);
  std::string hint;
  if (info->total == 0 && overcommit == 0) {
    hint = fmt::format("no huge pages are configured (HugePages_Total is 0, vm.nr_overcommit_hugepages is 0); "
                       "reserve {} or more {}-byte pages with `sysctl vm.nr_hugepages={}`",
                       needed, page, needed);
  } else {
    hint = fmt::format("{} huge pages of {} bytes needed, HugePages_Free is {} of HugePages_Total {} ({} reserved); "
                       "raise vm.nr_hugepages (`sysctl vm.nr_hugepages=N`) or vm.nr_overcommit_hugepages",
                       needed, page, info->free, info->total, info->reserved);
  }
  return fail_errno(err, "mmap(MAP_HUGETLB)", fmt::format("{} bytes", size), hint);
}

}  // namespace ipckit
