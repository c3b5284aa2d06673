// SPDX-License-Identifier: Apache-2.0
// ipckit_leak_audit setup|check STATEFILE — the ctest fixture that proves tests leave nothing behind.
//
// setup snapshots every IPC object with the test prefix (and every System V id); check lists them
// again. An object is a leak when it did not exist at setup and (for names, which carry the creating
// test's pid: ipckit.test.<pid>.…) its creator is no longer running — so test suites of other build
// trees running at the same time on a developer machine are not blamed. check removes every leak it
// reports, so one leaking run does not fail the next, and exits 1 if there was any.
//
// Objects without the test prefix count too: what a peer the tests drive leaves (iceoryx's RouDi,
// ZeroMQ, chromium, nats-server) in /dev/shm or as a POSIX queue is a leak of the suite as well. It
// is reported but never removed (it may belong to another program). System V ids carry no name:
// any id created during the run is a leak. IPCKIT_LEAK_AUDIT_SYSV=warn only reports both kinds, for
// developer machines where several suites and programs run at once; CI is strict.
//
// Kinds audited: /dev/shm/ipckit.test.* and /dev/shm/sem.ipckit.test.* (POSIX shm and semaphores),
// POSIX message queues /ipckit.test.* (PosixMq::list: /dev/mqueue, or an mqueue filesystem mounted
// in a private mount namespace when /dev/mqueue is not mounted and we are root), System V shm, msg
// and sem ids (/proc/sysvipc, through ipckit::inventory::sysv_ids), and /tmp/ipckit.test.* paths (FIFOs, sockets, files, directories).
#include <dirent.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ipckit/inventory/inventory.hpp"
#include "ipckit/message/posix_mq.hpp"

namespace {

constexpr const char* kPrefix = "ipckit.test.";

std::vector<std::string> list_dir(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

// Every POSIX mq name, from the library's one enumeration (PosixMq::list: /dev/mqueue, or a
// private mqueue mount as root), without the leading '/'. Returns false when they cannot be listed.
bool list_mqueues(std::vector<std::string>& out) {
  auto names = ipckit::PosixMq::list();
  if (!names) return false;
  for (const auto& n : *names) out.push_back(n.substr(1));
  return true;
}

bool has_test_prefix(const std::string& name) {
  return name.rfind(kPrefix, 0) == 0 || name.rfind(std::string("sem.") + kPrefix, 0) == 0;
}

// System V ids of one kind ("shm", "msg", "sem") as "shm:ID", from the inventory's enumeration.
std::vector<std::string> sysv_ids(const char* kind) {
  std::vector<std::string> out;
  for (std::int64_t id : ipckit::inventory::sysv_ids(kind)) out.push_back(std::string(kind) + ":" + std::to_string(id));
  return out;
}

struct Snapshot {
  // "shm:NAME", "mq:NAME", "tmp:NAME" (the test prefix), "other-shm:NAME", "other-mq:NAME" (any
  // other name), "sysv-shm:ID", ...
  std::set<std::string> entries;
  bool mq_listed = false;
};

Snapshot take_snapshot() {
  Snapshot s;
  for (const auto& n : list_dir("/dev/shm", "")) s.entries.insert((has_test_prefix(n) ? "shm:" : "other-shm:") + n);
  for (const auto& n : list_dir("/tmp", kPrefix)) s.entries.insert("tmp:" + n);
  std::vector<std::string> mqs;
  s.mq_listed = list_mqueues(mqs);
  for (const auto& n : mqs) s.entries.insert((has_test_prefix(n) ? "mq:" : "other-mq:") + n);
  for (const char* kind : {"shm", "msg", "sem"}) {
    for (const auto& id : sysv_ids(kind)) s.entries.insert("sysv-" + id);
  }
  return s;
}

// The pid embedded in "…ipckit.test.<pid>.…", or 0.
pid_t creator_pid(const std::string& entry) {
  const auto at = entry.find(kPrefix);
  if (at == std::string::npos) return 0;
  return static_cast<pid_t>(std::atol(entry.c_str() + at + std::strlen(kPrefix)));
}

bool creator_alive(const std::string& entry) {
  const pid_t pid = creator_pid(entry);
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

void remove_entry(const std::string& entry) {
  const auto colon = entry.find(':');
  const std::string kind = entry.substr(0, colon);
  const std::string name = entry.substr(colon + 1);
  if (kind == "shm") {
    ::unlink(("/dev/shm/" + name).c_str());
  } else if (kind == "mq") {
    ::mq_unlink(("/" + name).c_str());
  } else if (kind == "tmp") {
    std::error_code ec;
    std::filesystem::remove_all("/tmp/" + name, ec);
  } else if (kind == "sysv-shm") {
    ::shmctl(std::atoi(name.c_str()), IPC_RMID, nullptr);
  } else if (kind == "sysv-msg") {
    ::msgctl(std::atoi(name.c_str()), IPC_RMID, nullptr);
  } else if (kind == "sysv-sem") {
    ::semctl(std::atoi(name.c_str()), 0, IPC_RMID);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "setup") != 0 && std::strcmp(argv[1], "check") != 0)) {
    std::fprintf(stderr, "usage: ipckit_leak_audit setup|check STATEFILE\n");
    return 2;
  }
  const std::string state = argv[2];
  if (std::strcmp(argv[1], "setup") == 0) {
    const Snapshot s = take_snapshot();
    std::ofstream out(state, std::ios::trunc);
    for (const auto& e : s.entries) out << e << "\n";
    std::printf("leak audit: %zu pre-existing entries recorded%s\n", s.entries.size(),
                s.mq_listed ? "" : " (POSIX mq not listable here: not root and /dev/mqueue not mounted)");
    return out ? 0 : 1;
  }
  std::set<std::string> before;
  {
    std::ifstream in(state);
    if (!in) {
      std::fprintf(stderr, "leak audit: no snapshot at %s (did leak_audit_setup run?)\n", state.c_str());
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) before.insert(line);
  }
  const Snapshot now = take_snapshot();
  const char* sysv_mode = std::getenv("IPCKIT_LEAK_AUDIT_SYSV");
  const bool sysv_warn_only = sysv_mode != nullptr && std::strcmp(sysv_mode, "warn") == 0;
  int leaks = 0;
  for (const auto& e : now.entries) {
    if (before.count(e) != 0) continue;
    const bool sysv = e.rfind("sysv-", 0) == 0;
    const bool other = e.rfind("other-", 0) == 0;
    if (!sysv && !other && creator_alive(e)) continue;  // another suite's test, still running
    if ((sysv || other) && sysv_warn_only) {
      // No creator name to tell whose it is; with several suites and programs running at once on
      // a developer machine, IPCKIT_LEAK_AUDIT_SYSV=warn reports them without touching them.
      std::printf("leak audit: new object %s (not counted: IPCKIT_LEAK_AUDIT_SYSV=warn)\n", e.c_str());
      continue;
    }
    if (other) {
      // Not ours by name: reported and counted, never removed (it may be another program's).
      std::printf("leak audit: LEAKED %s (no test prefix: left by a peer the tests ran? not removed)\n", e.c_str());
    } else {
      std::printf("leak audit: LEAKED %s (removed now)\n", e.c_str());
      remove_entry(e);
    }
    ++leaks;
  }
  std::printf("leak audit: %d leaked object(s)%s\n", leaks,
              now.mq_listed ? "" : "; POSIX mq not audited (not root and /dev/mqueue not mounted)");
  return leaks == 0 ? 0 : 1;
}
