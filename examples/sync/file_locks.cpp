// SPDX-License-Identifier: Apache-2.0
// Advisory file locks (OFD locks, fcntl F_OFD_SETLK*): many readers or one writer. The parent and a
// first child each hold a shared lock on the same file at the same time; a second child asks for an
// exclusive lock, finds it busy (and who holds it), and waits; it is granted only once both shared
// locks are released. Each process opens the file itself: an OFD lock belongs to an open file
// description, so it is not dropped when another descriptor of the file is closed.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "../demo/narrate.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/file_lock.hpp"

using namespace std::chrono_literals;

namespace {

// One-byte handshakes between the processes (a pipe each way), so the narration follows the steps.
struct Signal {
  int fds[2] = {-1, -1};
  bool open() { return ::pipe2(fds, O_CLOEXEC) == 0; }
  void post() { (void)!::write(fds[1], "x", 1); }
  bool wait() {
    char c;
    return ::read(fds[0], &c, 1) == 1;
  }
};

const ipckit::LockSpec kShared{ipckit::LockStyle::kOfd, ipckit::LockKind::kShared};
const ipckit::LockSpec kExclusive{ipckit::LockStyle::kOfd, ipckit::LockKind::kExclusive};

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string path = "/tmp/ipckit.example." + std::to_string(::getpid()) + ".lock";
  ipckit::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  Signal reader_holds, writer_tried, reader_release;
  if (!fd || !reader_holds.open() || !writer_tried.open() || !reader_release.open()) return 1;
  auto mine = ipckit::FileLock::lock(fd.get(), kShared, path);
  if (!mine) {
    std::fprintf(stderr, "%s\n", mine.error().str().c_str());
    ::unlink(path.c_str());
    return 1;
  }
  std::printf("[parent %d] open(%s) and a shared lock on the whole file\n", demo::me(), path.c_str());

  const pid_t reader = demo::fork_child([&]() -> int {
    ipckit::UniqueFd own(::open(path.c_str(), O_RDWR | O_CLOEXEC));  // its own open file description
    auto lock = ipckit::FileLock::try_lock(own.get(), kShared, path);
    const bool granted = lock && lock->has_value();
    std::printf("[reader %d] try_lock(shared): %s\n", demo::me(),
                granted ? "granted at once: shared locks coexist" : "refused (unexpected)");
    reader_holds.post();
    if (!granted || !reader_release.wait()) return 1;
    std::printf("[reader %d] releasing my shared lock\n", demo::me());
    return (*lock)->unlock() ? 0 : 2;
  });
  if (!reader_holds.wait()) return 1;

  const pid_t writer = demo::fork_child([&]() -> int {
    ipckit::UniqueFd own(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    auto busy = ipckit::FileLock::try_lock(own.get(), kExclusive, path);
    const bool was_busy = busy && !busy->has_value();
    auto who = ipckit::FileLock::holder(own.get(), kExclusive, path);
    std::string held;
    if (who && who->has_value()) {
      held = std::string(", F_OFD_GETLK: held ") + ((*who)->kind == ipckit::LockKind::kShared ? "shared" : "exclusive") +
             ((*who)->pid > 0 ? " by pid " + std::to_string((*who)->pid) : " (an OFD lock names no pid)");
    }
    std::printf("[writer %d] try_lock(exclusive): %s%s; waiting for it\n", demo::me(),
                was_busy ? "busy" : "NOT busy (unexpected)", held.c_str());
    writer_tried.post();
    auto later = ipckit::FileLock::lock_for(own.get(), kExclusive, 10s, path);  // blocks until both are gone
    const bool granted = later && later->has_value();
    std::printf("[writer %d] exclusive lock %s\n", demo::me(),
                granted ? "granted: both shared locks are gone" : "NOT granted within 10 s");
    return was_busy && granted ? 0 : 1;
  });
  bool ok = writer_tried.wait();
  std::printf("[parent %d] releasing my shared lock; the reader still holds its own, so the writer keeps waiting\n",
              demo::me());
  ok = mine->unlock().has_value() && ok;
  reader_release.post();
  ok = demo::child_ok(reader) && ok;
  ok = demo::child_ok(writer) && ok;
  ::unlink(path.c_str());
  return ok ? 0 : 1;
}
