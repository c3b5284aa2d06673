// SPDX-License-Identifier: Apache-2.0
// main() for every test binary: runs GoogleTest, or a registered helper when invoked as
// `<test binary> --ipckit-helper NAME ARGS...` (how tests exec a fresh process of their own).
// Every run also checks that the tests left no file descriptor open (FdLeakCheck).
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace {

// The open descriptors of this process and what each refers to (/proc/self/fd).
std::map<int, std::string> open_fds() {
  std::map<int, std::string> out;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return out;
  const int own = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    char target[512];
    const ssize_t n = ::readlinkat(own, e->d_name, target, sizeof target - 1);
    out[fd] = n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string("?");
  }
  ::closedir(d);
  return out;
}

// glibc's mq_notify(SIGEV_THREAD) opens one netlink socket per process, the first time, and keeps
// it with its helper thread for the life of the process by design: not a leak of ours.
bool is_glibc_mq_notify_socket(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  return ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK;
}

// Fails the run when a descriptor opened during the tests is still open at the end: a leak in the
// library or in a test (the leak audit's rule for file descriptors; docs/reliability.md).
class FdLeakCheck : public ::testing::Environment {
 public:
  void SetUp() override { before_ = open_fds(); }
  void TearDown() override {
    for (const auto& [fd, target] : open_fds()) {
      if (before_.count(fd) != 0 || is_glibc_mq_notify_socket(fd)) continue;
      ADD_FAILURE() << "file descriptor " << fd << " (" << target << ") left open by the tests";
    }
  }

 private:
  std::map<int, std::string> before_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--ipckit-helper") == 0) {
    auto& registry = ipckit::test::helper_registry();
    auto it = registry.find(argv[2]);
    if (it == registry.end()) {
      std::fprintf(stderr, "unknown test helper %s\n", argv[2]);
      return 127;
    }
    return it->second(std::vector<std::string>(argv + 3, argv + argc));
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new FdLeakCheck);  // gtest owns and deletes it
  return RUN_ALL_TESTS();
}
