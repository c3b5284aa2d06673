// SPDX-License-Identifier: Apache-2.0
// NatsServer: a real nats-server for the bridge tests, on 127.0.0.1 and a port the server picks
// (`-p -1`; never 4222, which a system service may use), read back from the file that
// `--ports_file_dir` makes it write once it listens. The file's arrival is watched with inotify (the
// readiness signal; no sleeps). The child has PR_SET_PDEATHSIG=SIGKILL, so a test that is killed
// leaves no server behind; the destructor kills and reaps it on every other exit path.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::test {

class NatsServer {
 public:
  // `config`: the text of a configuration file passed with -c (e.g. "max_payload: 4096"); `args`:
  // more command-line arguments (e.g. {"--auth", "TOKEN"}).
  explicit NatsServer(std::vector<std::string> args = {}, std::string config = {})
      : args_(std::move(args)), config_(std::move(config)) {
    start(0);
  }
  ~NatsServer() { kill(); }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // True once the server listens (false: it could not start; error() says why).
  [[nodiscard]] bool ok() const { return port_ != 0 && pid_ > 0; }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // "nats:127.0.0.1:PORT/SUBJECT"
  [[nodiscard]] std::string url(const std::string& subject) const { return "nats:" + address() + "/" + subject; }

  // SIGKILL and reap (a crash, as far as clients can tell). The port stays known for restart().
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // Starts the server again on the same port; true once it listens.
  bool restart() {
    kill();
    start(port_);
    return ok();
  }

  // What the server wrote to stdout/stderr.
  [[nodiscard]] std::string log() const {
    std::ifstream f(dir_.file("server.log"));
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }

 private:
  void start(std::uint16_t port) {
    port_ = 0;
    std::vector<std::string> argv = {"nats-server", "-a", "127.0.0.1", "-p", port == 0 ? "-1" : std::to_string(port),
                                     "--ports_file_dir", dir_.path()};
    if (!config_.empty()) {
      const std::string conf = dir_.file("server.conf");
      std::ofstream(conf) << config_ << "\n";
      argv.push_back("-c");
      argv.push_back(conf);
    }
    argv.insert(argv.end(), args_.begin(), args_.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const std::string log_path = dir_.file("server.log");

    // Watch the directory before the server can write its ports file.
    UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch || ::inotify_add_watch(watch.get(), dir_.path().c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
      error_ = "inotify failed";
      return;
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(126);
      ::execvp(cargv[0], cargv.data());
      ::_exit(127);
    }
    if (pid_ < 0) {
      error_ = "fork failed";
      return;
    }
    const std::string ports_file = dir_.file("nats-server_" + std::to_string(pid_) + ".ports");
    const Deadline deadline = deadline_after(std::chrono::seconds(20));
    for (;;) {
      if (read_port(ports_file)) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = WIFEXITED(status) && WEXITSTATUS(status) == 127
                     ? "nats-server not found (scripts/install-deps installs it)"
                     : "nats-server exited: " + log();
        return;
      }
      if (Clock::now() >= deadline) {
        error_ = "nats-server wrote no ports file within 20 s: " + log();
        kill();
        return;
      }
      // Woken by the file's arrival; the 100 ms bound is for noticing a server that died instead.
      pollfd p{watch.get(), POLLIN, 0};
      (void)::poll(&p, 1, 100);
      char buf[4096];
      while (::read(watch.get(), buf, sizeof buf) > 0) {
      }
    }
  }

  // The port in {"nats":["nats://127.0.0.1:PORT"]}, once the file is complete.
  bool read_port(const std::string& path) {
    std::ifstream f(path);
    if (!f) return false;
    std::ostringstream s;
    s << f.rdbuf();
    const std::string text = s.str();
    const auto at = text.find("\"nats\"");
    if (at == std::string::npos) return false;
    const auto q = text.find('"', text.find('[', at) + 2);
    const auto colon = text.rfind(':', q);
    if (q == std::string::npos || colon == std::string::npos || colon < at) return false;
    const int port = std::atoi(text.substr(colon + 1, q - colon - 1).c_str());
    if (port <= 0 || port > 65535) return false;
    port_ = static_cast<std::uint16_t>(port);
    return true;
  }

  std::vector<std::string> args_;
  std::string config_;
  TempDir dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string error_;
};

}  // namespace ipckit::test
