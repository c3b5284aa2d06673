// SPDX-License-Identifier: Apache-2.0
// A memfd with seals, the shared memory an untrusted peer can use: the producer fills an anonymous
// memory file, seals it (no shrink, no grow, no more writes) and passes its descriptor over a UNIX
// socket (SCM_RIGHTS). The receiver checks the seals before it maps anything: the memory can no
// longer change size (no SIGBUS) or content (no data changing under the reader), even though the
// producer still holds the descriptor. A POSIX shm object cannot promise that.
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/memory/memfd.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "ipckit/stream/unix_stream.hpp"
#include "narrate.hpp"

namespace {

constexpr unsigned kRequired = ipckit::seal::kFixedSize | ipckit::seal::kWrite;

int receiver(ipckit::StreamSocket& sock) {
  std::array<std::byte, 16> buf{};
  auto got = ipckit::receive_fds(sock.native_handle(), buf);
  if (!got || got->fds.size() != 1) return 1;
  // adopt() checks the seals and the size before anything is mapped.
  auto memfd = ipckit::Memfd::adopt(std::move(got->fds[0]), {kRequired, 4096});
  if (!memfd) {
    std::fprintf(stderr, "%s\n", memfd.error().str().c_str());
    return 2;
  }
  std::printf("[receiver %d] got a descriptor over the socket; seals %s checked before mapping\n", demo::me(),
              ipckit::seals_text(memfd->seals().value_or(0)).c_str());
  auto view = memfd->map(ipckit::MapOptions{ipckit::Access::kReadOnly});
  if (!view) return 3;
  const auto* text = static_cast<const char*>(view->data());
  std::printf("[receiver %d] mapped it read-only: \"%.*s\"\n", demo::me(),
              static_cast<int>(strnlen(text, view->size())), text);
  // What the seals forbid, even to this holder of the descriptor:
  const bool no_shrink = ::ftruncate(memfd->native_handle(), 0) != 0 && errno == EPERM;
  void* w = ::mmap(nullptr, view->size(), PROT_READ | PROT_WRITE, MAP_SHARED, memfd->native_handle(), 0);
  const bool no_write = w == MAP_FAILED && errno == EPERM;
  if (w != MAP_FAILED) ::munmap(w, view->size());
  std::printf("[receiver %d] ftruncate refused: %s; a writable mapping refused: %s\n", demo::me(),
              no_shrink ? "yes (EPERM)" : "no", no_write ? "yes (EPERM)" : "no");
  return no_shrink && no_write ? 0 : 4;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto pair = ipckit::UnixStream::pair();
  auto memfd = ipckit::Memfd::create("ipckit-demo", 4096);  // MFD_CLOEXEC | MFD_ALLOW_SEALING
  if (!pair || !memfd) {
    std::fprintf(stderr, "%s\n", !pair ? pair.error().str().c_str() : memfd.error().str().c_str());
    return 1;
  }
  const pid_t pid = demo::fork_child([&]() -> int {
    pair->first = {};  // the child keeps only its end
    return receiver(pair->second);
  });
  pair->second = {};
  {
    auto map = memfd->map();
    if (!map) return 1;
    std::snprintf(static_cast<char*>(map->data()), map->size(), "%s", "frame 1: 4096 bytes, sealed");
  }  // unmapped: F_SEAL_WRITE needs no writable mapping left
  std::printf("[producer %d] memfd_create, 4096 bytes, filled through a mapping and unmapped\n", demo::me());
  bool ok = memfd->add_seals(kRequired).has_value();
  std::printf("[producer %d] sealed it: %s\n", demo::me(), ipckit::seals_text(memfd->seals().value_or(0)).c_str());
  const int fds[] = {memfd->native_handle()};
  auto sent = ipckit::send_fds(pair->first.native_handle(), ipckit::as_bytes(std::string("frame")), fds);
  ok = ok && sent && *sent == ipckit::IoStatus::kOk;
  std::printf("[producer %d] sent the descriptor over a UNIX socket (SCM_RIGHTS)\n", demo::me());
  return demo::child_ok(pid) && ok ? 0 : 1;
}
