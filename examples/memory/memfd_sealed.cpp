// SPDX-License-Identifier: Apache-2.0
// memfd with seals: the creator fills the memory, then seals its size and contents. A receiver
// (here a forked child that opens it through /proc; a real peer gets the fd over a UNIX socket)
// checks the seals before mapping, so a hostile creator cannot shrink it under the receiver, and
// the receiver cannot change it either.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "ipckit/memory/memfd.hpp"

int main() {
  auto memfd = ipckit::Memfd::create("example", 4096);
  if (!memfd) {
    std::fprintf(stderr, "%s\n", memfd.error().str().c_str());
    return 1;
  }
  {
    auto map = memfd->map();
    if (!map) return 1;
    std::snprintf(static_cast<char*>(map->data()), map->size(), "%s", "sealed payload");  // bounded by the mapping
  }  // no writable mapping may remain for F_SEAL_WRITE
  if (!memfd->add_seals(ipckit::seal::kFixedSize | ipckit::seal::kWrite)) return 1;

  const std::string path = memfd->proc_path();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // asks for write; the seals still rule
    auto received = ipckit::Memfd::adopt(ipckit::UniqueFd(fd),
                                         {ipckit::seal::kFixedSize | ipckit::seal::kWrite, 4096});
    if (!received) {
      std::fprintf(stderr, "%s\n", received.error().str().c_str());
      ::_exit(2);
    }
    auto view = received->map(ipckit::MapOptions{ipckit::Access::kReadOnly});
    if (!view) ::_exit(3);
    const bool shrink_refused = ::ftruncate(received->native_handle(), 0) != 0 && errno == EPERM;
    std::printf("receiver read \"%s\"; seals %s; shrink refused: %s\n", static_cast<const char*>(view->data()),
                ipckit::seals_text(received->seals().value_or(0)).c_str(), shrink_refused ? "yes" : "no");
    std::fflush(stdout);
    ::_exit(shrink_refused ? 0 : 4);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
