// SPDX-License-Identifier: Apache-2.0
// A UNIX socket with descriptor passing: a server listens on a socket path; a client process
// connects and sends, with SCM_RIGHTS, the descriptor of a file it opened; the server reads the
// file through the received descriptor (a new fd number in its table for the same open file).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "ipckit/stream/unix_stream.hpp"

static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string sock = "/tmp/ipckit.demo.sock." + std::to_string(::getpid());
  const std::string file = "/tmp/ipckit.demo.passed." + std::to_string(::getpid());
  int rc = 1;
  {
    auto listener = ipckit::UnixStream::listen(sock);
    if (!listener) {
      std::fprintf(stderr, "%s\n", listener.error().str().c_str());
      return 1;
    }
    std::printf("[server] socket(AF_UNIX), bind(%s), listen()\n", sock.c_str());
    const pid_t pid = ::fork();
    if (pid == 0) {
      ipckit::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd.valid() || ::write(fd.get(), "contents only the client opened\n", 32) != 32) ::_exit(2);
      ::lseek(fd.get(), 0, SEEK_SET);
      auto conn = ipckit::UnixStream::connect(sock);
      if (!conn) ::_exit(3);
      std::printf("[client %d] opened %s as fd %d, connected to %s\n", static_cast<int>(::getpid()), file.c_str(),
                  fd.get(), sock.c_str());
      const int fds[] = {fd.get()};
      auto sent = ipckit::send_fds(conn->native_handle(), bytes("here is a file"), fds);
      std::printf("[client %d] sendmsg() with SCM_RIGHTS carrying fd %d\n", static_cast<int>(::getpid()), fd.get());
      ::_exit(sent && *sent == ipckit::IoStatus::kOk ? 0 : 4);
    }
    auto conn = listener->accept();
    if (conn) {
      char buf[64];
      auto msg = ipckit::receive_fds(conn->native_handle(), std::as_writable_bytes(std::span(buf)));
      if (msg && msg->status == ipckit::IoStatus::kOk && msg->fds.size() == 1) {
        std::printf("[server] recvmsg(): \"%.*s\" and a descriptor, installed here as fd %d (close-on-exec)\n",
                    static_cast<int>(msg->bytes), buf, msg->fds[0].get());
        char content[64] = {};
        const ssize_t n = ::read(msg->fds[0].get(), content, sizeof content - 1);
        std::printf("[server] read through it: %s", n > 0 ? content : "(nothing)\n");
        rc = n == 32 ? 0 : 1;
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) rc = 1;
  }
  (void)ipckit::UnixStream::remove(sock);
  ::unlink(file.c_str());
  std::printf("[server] removed the socket path and the file\n");
  return rc;
}
