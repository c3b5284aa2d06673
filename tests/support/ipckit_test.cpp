// SPDX-License-Identifier: Apache-2.0
#include "support/ipckit_test.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <csignal>

#include <fmt/format.h>

namespace ipckit::test {
namespace {

std::atomic<unsigned> g_counter{0};

std::uint64_t random64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

std::string unique_stem() {
  return fmt::format("{}{}.{:016x}.{}", kTestPrefix, ::getpid(), random64(), g_counter.fetch_add(1));
}

}  // namespace

std::string unique_name() { return "/" + unique_stem(); }
std::string unique_path() { return "/tmp/" + unique_stem(); }
std::string unique_abstract_name() { return "@" + unique_stem(); }

TempDir::TempDir() : path_(unique_path()) {
  if (::mkdir(path_.c_str(), 0700) != 0) {
    ADD_FAILURE() << "mkdir " << path_ << ": " << std::strerror(errno);
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

double test_scale() {
  const char* env = std::getenv("IPCKIT_TEST_SCALE");
  if (env == nullptr || *env == '\0') return 1.0;
  char* end = nullptr;
  const double v = std::strtod(env, &end);
  return (end != env && v > 0) ? v : 1.0;
}

std::size_t scaled(std::size_t n) {
  const auto v = static_cast<std::size_t>(static_cast<double>(n) * test_scale());
  return v == 0 ? 1 : v;
}

std::string ChildResult::describe() const {
  if (exited) return fmt::format("exited {}", code);
  const char* name = ::sigabbrev_np(signal);
  return fmt::format("killed by SIG{}", name != nullptr ? name : std::to_string(signal).c_str());
}

ChildResult wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid(" << pid << "): " << std::strerror(errno);
      return {};
    }
  }
  ChildResult r;
  if (WIFEXITED(status)) {
    r.exited = true;
    r.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

pid_t spawn_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
      if (::testing::Test::HasFailure() && code == 0) code = 98;
    } catch (...) {
      code = 99;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  return pid;
}

ChildResult run_in_child(const std::function<int()>& body) {
  const pid_t pid = spawn_child(body);
  if (pid < 0) return {};
  return wait_child(pid);
}

ChildResult run_in_child_expecting_crash(const std::function<int()>& body) {
  return run_in_child([&] {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGSEGV, &dfl, nullptr);
    ::sigaction(SIGBUS, &dfl, nullptr);
    return body();
  });
}

std::string self_exe() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

std::map<std::string, HelperFn>& helper_registry() {
  static std::map<std::string, HelperFn> registry;
  return registry;
}

pid_t spawn_helper(std::string_view name, const std::vector<std::string>& args, int stdin_fd, int stdout_fd) {
  std::vector<std::string> argv_storage{self_exe(), "--ipckit-helper", std::string(name)};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (stdin_fd >= 0 && ::dup2(stdin_fd, 0) < 0) ::_exit(127);
    if (stdout_fd >= 0 && ::dup2(stdout_fd, 1) < 0) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

bool is_root() { return ::geteuid() == 0; }

namespace {
struct CapSets {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
};
}  // namespace

bool has_capability(int cap) {
  CapSets caps;
  if (::syscall(SYS_capget, &caps.header, caps.data) != 0) return false;
  return (caps.data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

bool drop_capability(int cap) {
  if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return false;
  CapSets caps;
  if (::syscall(SYS_capget, &caps.header, caps.data) != 0) return false;
  const unsigned bit = 1u << (cap % 32);
  caps.data[cap / 32].effective &= ~bit;
  caps.data[cap / 32].permitted &= ~bit;
  caps.data[cap / 32].inheritable &= ~bit;
  return ::syscall(SYS_capset, &caps.header, caps.data) == 0;
}

ChildResult run_in_private_mount_ns(const std::function<int()>& body) {
  return run_in_child([&]() -> int {
    if (::unshare(CLONE_NEWNS) != 0) {
      std::fprintf(stderr, "unshare(CLONE_NEWNS): %s\n", std::strerror(errno));
      return 97;
    }
    // Without this, mounts made below would propagate to the host's shared mount tree.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      std::fprintf(stderr, "mount(MS_PRIVATE): %s\n", std::strerror(errno));
      return 96;
    }
    return body();
  });
}

ReadyPipe::ReadyPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  read_.reset(fds[0]);
  write_.reset(fds[1]);
}

void ReadyPipe::signal() {
  const char byte = 'R';
  while (::write(write_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
}

bool ReadyPipe::wait(Deadline deadline) {
  pollfd p{read_.get(), POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char byte = 0;
    ssize_t r;
    while ((r = ::read(read_.get(), &byte, 1)) < 0 && errno == EINTR) {
    }
    return r == 1;
  }
}

std::uint16_t free_loopback_port(int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int self = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != self) fds.push_back(fd);
  }
  ::closedir(dir);
  return fds;
}

bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace ipckit::test
