// SPDX-License-Identifier: Apache-2.0
// Internal: one pass over /proc that records, for every process, what it maps and holds open, so
// every object's holders are a lookup (src/inventory/inventory.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ipckit/inventory/inventory.hpp"

namespace ipckit::inventory::detail {

// A file as stat() names it.
struct FileKey {
  std::uint64_t dev = 0;  // st_dev (glibc encoding)
  std::uint64_t ino = 0;
  friend auto operator<=>(const FileKey&, const FileKey&) = default;
};

struct ProcScan {
  std::map<FileKey, std::set<pid_t>> files;         // mapped (maps) or open (fd) files, mq included
  std::map<std::uint64_t, std::set<pid_t>> sockets;  // socket inode -> holders of a descriptor
  std::map<std::int64_t, std::set<pid_t>> sysv_shm;  // shmid -> processes mapping it
  std::map<pid_t, std::string> comm;
  std::map<std::uint64_t, pid_t> net_namespaces;     // net ns inode -> one process in it
  bool complete = true;  // false: some process's maps or fds could not be read (`why`)
  bool net_namespaces_complete = true;  // false: some process's /proc/PID/ns/net could not be read
  std::string net_why;
  std::string why;
  pid_t self = 0;        // this process (left out: its own inspection opens objects)

  [[nodiscard]] std::vector<Holder> holders(const std::set<pid_t>& pids) const;
  [[nodiscard]] std::vector<Holder> holders_of_file(FileKey key) const;
  [[nodiscard]] std::string command_of(pid_t pid) const;
};

// Scans every process in /proc (except this one). Never fails: what cannot be read clears
// `complete`; processes that exit during the scan are skipped. Outside the initial pid namespace
// the processes of the parent namespaces are invisible, so `complete` is false there unless the
// caller vouches for this namespace (ListOptions::this_pid_namespace_only).
[[nodiscard]] ProcScan scan_processes(bool this_pid_namespace_only);

}  // namespace ipckit::inventory::detail
