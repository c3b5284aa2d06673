// SPDX-License-Identifier: Apache-2.0
#include "proc_scan.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

#include "ipckit/core/error.hpp"

namespace ipckit::inventory::detail {
namespace {

bool is_pid(const char* s, pid_t& pid) {
  const std::string_view v(s);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), pid);
  return ec == std::errc() && p == v.data() + v.size() && pid > 0;
}

void note_incomplete(ProcScan& s, std::string why) {
  if (s.complete) s.why = std::move(why);
  s.complete = false;
}

// "7f..-7f.. rw-s 00000000 00:1a 12345      /dev/shm/x": device (hex major:minor), inode, path.
void scan_maps(ProcScan& s, pid_t pid) {
  const std::string path = fmt::format("/proc/{}/maps", pid);
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) {
    if (errno != ENOENT && errno != ESRCH) note_incomplete(s, fmt::format("{}: {}", path, errno_name(errno)));
    return;
  }
  char line[4096 + 256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned maj = 0, min = 0;
    unsigned long long ino = 0;
    int name_at = 0;
    if (std::sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &name_at) < 3 || ino == 0) continue;
    const std::string_view name(line + name_at);
    if (name.rfind("/SYSV", 0) == 0) {
      s.sysv_shm[static_cast<std::int64_t>(ino)].insert(pid);  // System V shm: the inode is the shmid
      continue;
    }
    s.files[FileKey{::makedev(maj, min), ino}].insert(pid);
  }
  std::fclose(f);
}

void scan_fds(ProcScan& s, pid_t pid) {
  const std::string dir = fmt::format("/proc/{}/fd", pid);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno != ENOENT && errno != ESRCH) note_incomplete(s, fmt::format("{}: {}", dir, errno_name(errno)));
    return;
  }
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string link = dir + "/" + e->d_name;
    char target[256];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string_view t(target, static_cast<std::size_t>(n));
    if (t.rfind("socket:[", 0) == 0) {
      std::uint64_t ino = 0;
      std::from_chars(t.data() + 8, t.data() + t.size(), ino);
      s.sockets[ino].insert(pid);
      continue;
    }
    if (t.rfind("pipe:", 0) == 0 || t.rfind("anon_inode:", 0) == 0) continue;
    struct stat st {};
    if (::stat(link.c_str(), &st) == 0) s.files[FileKey{st.st_dev, st.st_ino}].insert(pid);
  }
  ::closedir(d);
}

std::string read_comm(pid_t pid) {
  std::string c;
  std::ifstream f(fmt::format("/proc/{}/comm", pid));
  std::getline(f, c);  // a command name may hold spaces
  return c;
}

void scan_net_namespace(ProcScan& s, pid_t pid) {
  struct stat st {};
  const std::string path = fmt::format("/proc/{}/ns/net", pid);
  if (::stat(path.c_str(), &st) == 0) {
    s.net_namespaces.emplace(st.st_ino, pid);
  } else if (errno != ENOENT && errno != ESRCH && s.net_namespaces_complete) {
    s.net_namespaces_complete = false;
    s.net_why = fmt::format("{}: {}", path, errno_name(errno));
  }
}

}  // namespace

std::string ProcScan::command_of(pid_t pid) const {
  if (auto it = comm.find(pid); it != comm.end()) return it->second;
  return read_comm(pid);
}

std::vector<Holder> ProcScan::holders(const std::set<pid_t>& pids) const {
  std::vector<Holder> out;
  for (pid_t p : pids) out.push_back(Holder{p, command_of(p)});
  return out;
}

std::vector<Holder> ProcScan::holders_of_file(FileKey key) const {
  auto it = files.find(key);
  return it == files.end() ? std::vector<Holder>{} : holders(it->second);
}

// The inode of the initial pid namespace (PROC_PID_INIT_INO in the kernel's proc_ns.h).
constexpr std::uint64_t kInitialPidNamespace = 0xEFFFFFFCU;

ProcScan scan_processes(bool this_pid_namespace_only) {
  ProcScan s;
  s.self = ::getpid();
  if (!this_pid_namespace_only) {
    struct stat ns {};
    if (::stat("/proc/self/ns/pid", &ns) != 0 || ns.st_ino != kInitialPidNamespace) {
      const std::string why =
          "this is not the initial pid namespace: processes outside it cannot be seen";
      note_incomplete(s, why);
      s.net_namespaces_complete = false;
      s.net_why = why;
    }
  }
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    note_incomplete(s, fmt::format("/proc: {}", errno_name(errno)));
    return s;
  }
  while (dirent* e = ::readdir(proc)) {
    pid_t pid = 0;
    if (!is_pid(e->d_name, pid) || pid == s.self) continue;
    s.comm[pid] = read_comm(pid);
    scan_maps(s, pid);
    scan_fds(s, pid);
    scan_net_namespace(s, pid);
  }
  ::closedir(proc);
  return s;
}

}  // namespace ipckit::inventory::detail
