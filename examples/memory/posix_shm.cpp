// SPDX-License-Identifier: Apache-2.0
// POSIX shared memory between two unrelated processes, as the tutorials' "write in one terminal, read
// in another" example: `write` creates a named object (O_EXCL, 0600, space reserved with
// posix_fallocate), stores a counter and a message and exits, leaving the object in /dev/shm (kernel
// persistence: it outlives its creator); `read` opens it by name (owner, mode and size checked
// before mapping), prints it, and removes the name explicitly. Without a role the program runs both:
// the writer, then a forked reader.
//   ipckit demo posix-shm write   then   ipckit demo posix-shm read
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ipckit/memory/posix_shm.hpp"

namespace {

// The shared record: fixed-width fields, no pointers (both processes map it at different addresses).
struct SharedData {
  std::int32_t counter;
  char message[64];
};

// One name per user, so the two commands find each other and two users never collide;
// $IPCKIT_DEMO_SHM_NAME overrides it (tests use a unique name).
std::string object_name() {
  if (const char* env = std::getenv("IPCKIT_DEMO_SHM_NAME"); env != nullptr && *env != '\0') return env;
  return "/ipckit.demo.posix_shm." + std::to_string(::getuid());
}

int write_role(const std::string& name, bool alone) {
  auto shm = ipckit::PosixShm::create(name, sizeof(SharedData));  // O_CREAT|O_EXCL, 0600, posix_fallocate
  if (!shm) {
    std::fprintf(stderr, "%s\n", shm.error().str().c_str());
    if (shm.error().is(EEXIST)) {
      std::fprintf(stderr, "an earlier writer left it: read it with `ipckit demo posix-shm read`, or remove it with "
                           "`ipckit rm posix-shm:%s`\n", name.c_str());
    }
    return 1;
  }
  auto map = shm->map();
  if (!map) {
    std::fprintf(stderr, "%s\n", map.error().str().c_str());
    (void)ipckit::PosixShm::unlink(name);
    return 1;
  }
  auto* data = static_cast<SharedData*>(map->data());
  data->counter = 42;
  // Bounded copy: snprintf never writes past the field and always terminates the string.
  std::snprintf(data->message, sizeof data->message, "%s", "Hello from writer process!");
  std::printf("[writer %d] shm_open(%s, O_CREAT|O_EXCL, 0600), %zu bytes reserved with posix_fallocate, mapped\n",
              static_cast<int>(::getpid()), name.c_str(), sizeof(SharedData));
  std::printf("[writer %d] wrote counter=%d, message=\"%s\" with plain stores%s\n", static_cast<int>(::getpid()),
              data->counter, data->message,
              alone ? "; exiting: the object stays in /dev/shm for `ipckit demo posix-shm read`" : "; forking a reader");
  return 0;
}

int read_role(const std::string& name) {
  ipckit::ShmOpenOptions options;
  options.access = ipckit::Access::kReadOnly;
  options.min_size = sizeof(SharedData);  // a smaller object is an error, never a SIGBUS
  auto shm = ipckit::PosixShm::open(name, options);
  if (!shm) {
    std::fprintf(stderr, "%s\n", shm.error().str().c_str());
    if (shm.error().is(ENOENT)) std::fprintf(stderr, "run `ipckit demo posix-shm write` first\n");
    return 1;
  }
  auto view = shm->map(ipckit::MapOptions{ipckit::Access::kReadOnly});
  if (!view) {
    std::fprintf(stderr, "%s\n", view.error().str().c_str());
    return 1;
  }
  const auto* data = static_cast<const SharedData*>(view->data());
  // The message is read with a bound too: a writer that did not terminate it cannot make us overrun.
  std::printf("[reader %d] opened %s by name, read-only (owner, mode 0600 and size %zu checked with fstat first)\n",
              static_cast<int>(::getpid()), name.c_str(), shm->size());
  std::printf("[reader %d] read counter=%d, message=\"%.*s\"\n", static_cast<int>(::getpid()), data->counter,
              static_cast<int>(strnlen(data->message, sizeof data->message)), data->message);
  auto removed = ipckit::PosixShm::unlink(name);  // explicit: the demo's reader is its last user
  if (!removed) {
    std::fprintf(stderr, "%s\n", removed.error().str().c_str());
    return 1;
  }
  std::printf("[reader %d] shm_unlink(%s): the name is gone; this mapping stays valid until it is unmapped\n",
              static_cast<int>(::getpid()), name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string role = argc > 1 ? argv[1] : "";
  if (argc > 2 || (argc == 2 && role != "write" && role != "read")) {
    std::fprintf(stderr, "usage: %s [write|read]  (no role: write, then read in a child process)\n", argv[0]);
    return 2;
  }
  if (role == "write") return write_role(object_name(), true);
  if (role == "read") return read_role(object_name());

  // Both roles: a name of this process's own, so a run never meets the two-command demo's object.
  const std::string name = "/ipckit.demo.posix_shm." + std::to_string(::getpid());
  if (const int rc = write_role(name, false); rc != 0) return rc;
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    (void)ipckit::PosixShm::unlink(name);
    return 1;
  }
  if (pid == 0) {
    const int rc = read_role(name);
    std::fflush(stdout);
    ::_exit(rc);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::perror("waitpid");
      return 1;
    }
  }
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) (void)ipckit::PosixShm::unlink(name);  // the reader did not get to remove it
  std::printf("[writer] the reader process exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return ok ? 0 : 1;
}
