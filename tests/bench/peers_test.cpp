// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock roudi
// ipckit-test: timeout 240
// The peer libraries in `ipckit bench` (boost-mq, zmq-ipc, iceoryx, iceoryx-waitset): a tiny verified
// run of each available one through the CLI's JSON, and the life of iceoryx's RouDi: a private one is
// started and stopped cleanly (also on Ctrl-C), a running one is reused and left running, and
// nothing is left behind in /dev/shm or /tmp.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "engine/runner.hpp"
#include "support/ipckit_test.hpp"
#ifdef IPCKIT_BENCH_HAVE_ICEORYX
#include "engine/peers/roudi_daemon.hpp"
#endif

namespace ipckit::bench {
namespace {

std::string cli() { return std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit"; }

pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path) {
  static std::string exe = cli();
  std::vector<char*> argv{exe.data()};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool exists(const char* path) { return ::access(path, F_OK) == 0; }

// What a RouDi leaves when it does not shut down cleanly.
std::vector<std::string> roudi_leftovers() {
  std::vector<std::string> out;
  for (const char* p : {"/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"}) {
    if (exists(p)) out.emplace_back(p);
  }
  return out;
}

bool is_available(const std::string& name) {
  const Mechanism* m = find_mechanism(name);
  return m != nullptr && m->available().ok;
}

const std::vector<std::string> kPeers = {"boost-mq", "zmq-ipc", "iceoryx", "iceoryx-waitset"};

TEST(Peers, AreRegisteredAndListedWhenMissing) {
  for (const auto& name : kPeers) {
    const Mechanism* m = find_mechanism(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->zero_copy(), name.rfind("iceoryx", 0) == 0) << name;
    const Availability av = m->available();
    if (!av.ok) {
      EXPECT_FALSE(av.reason.empty()) << name;
    }
  }
}

TEST(Peers, TinyVerifiedRunThroughTheCliLeavesNothingBehind) {
  if (::access(cli().c_str(), X_OK) != 0) GTEST_SKIP() << "the ipckit tool is not built";
#ifdef IPCKIT_BENCH_HAVE_ICEORYX
  const bool external = RouDiDaemon::external_running();
#else
  const bool external = false;
#endif
  const auto before = roudi_leftovers();
  ::ipckit::test::TempDir dir;
  std::string list;
  for (const auto& n : kPeers) list += (list.empty() ? "" : ",") + n;
  const pid_t pid = spawn_cli({"bench", "--mechanisms", list, "--sizes", "64", "--duration", "30ms", "--repeats", "1",
                               "--json", dir.file("peers.json")},
                              dir.file("out.txt"), dir.file("err.txt"));
  ASSERT_EQ(wait_status(pid), 0) << read_text_file(dir.file("err.txt")).value_or("");
  auto j = load_report(dir.file("peers.json"));
  ASSERT_TRUE(j) << j.error().str();
  for (const auto& name : kPeers) {
    SCOPED_TRACE(name);
    int rows = 0;
    for (const auto& r : (*j)["results"]) {
      if (r["mechanism"] != name) continue;
      ++rows;
      EXPECT_EQ(r["verified"], true) << r.dump();
      EXPECT_EQ(r["zero_copy"], name.rfind("iceoryx", 0) == 0);
      EXPECT_EQ(r["lost"], 0);
      EXPECT_EQ(r["size"], 64);
      // Blocking peers always move messages in 30 ms; busy-poll sides on a loaded 2-CPU machine may
      // be descheduled for a whole window.
      if (r["wait"] != "busy") {
        EXPECT_GT(r["samples"].get<std::uint64_t>(), 0u);
      }
    }
    bool listed = false;
    for (const auto& n : (*j)["not_available"]) listed = listed || n["mechanism"] == name;
    if (is_available(name)) {
      EXPECT_EQ(rows, 2) << "throughput and round trip";
      EXPECT_FALSE(listed);
    } else {
      EXPECT_EQ(rows, 0);
      EXPECT_TRUE(listed);
    }
  }
  // The table marks the zero-copy peers.
  if (is_available("iceoryx")) {
    EXPECT_NE(read_text_file(dir.file("out.txt")).value_or("").find("Zero-copy"), std::string::npos);
  }
  EXPECT_TRUE(test::bench_objects(pid).empty());
  if (!external) {
    EXPECT_EQ(roudi_leftovers(), before);
  }
}

TEST(Peers, InProcessRunOfEachPeerIsVerified) {
  for (const auto& name : kPeers) {
    SCOPED_TRACE(name);
    auto report = run_bench(test::tiny({name}));
    ASSERT_TRUE(report) << report.error().str();
    EXPECT_TRUE(test::bench_objects().empty());
    if (!is_available(name)) continue;
    ASSERT_TRUE(report->not_available.empty()) << report->not_available[0].reason;
    ASSERT_EQ(report->results.size(), 2u);
    for (const Row& row : report->results) {
      SCOPED_TRACE(std::string(to_string(row.pattern)));
      ASSERT_TRUE(row.verified.has_value());
      EXPECT_TRUE(*row.verified) << row.note;
      EXPECT_EQ(row.zero_copy, name.rfind("iceoryx", 0) == 0);
    }
  }
}

#ifdef IPCKIT_BENCH_HAVE_ICEORYX

class RouDi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RouDiDaemon::external_running()) GTEST_SKIP() << "a RouDi already runs on this machine: it is reused";
    if (!RouDiDaemon::unavailable_reason().empty()) GTEST_SKIP() << RouDiDaemon::unavailable_reason();
    ASSERT_TRUE(roudi_leftovers().empty()) << "a stale RouDi left its segments";
  }
};

TEST_F(RouDi, PrivateOneStartsServesAndStopsCleanly) {
  ASSERT_TRUE(RouDiDaemon::ensure());
  const pid_t pid = RouDiDaemon::private_pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(exists("/dev/shm/iceoryx_mgmt"));
  EXPECT_FALSE(RouDiDaemon::external_running()) << "ours is not counted as someone else's";
  ASSERT_TRUE(RouDiDaemon::ensure());  // idempotent: the same daemon
  EXPECT_EQ(RouDiDaemon::private_pid(), pid);
  RouDiDaemon::release();
  EXPECT_EQ(RouDiDaemon::private_pid(), -1);
  EXPECT_NE(::kill(pid, 0), 0) << "stopped and reaped";
  EXPECT_TRUE(roudi_leftovers().empty());
  EXPECT_TRUE(test::bench_objects().empty()) << "config and log removed";
  RouDiDaemon::release();  // idempotent
}

TEST_F(RouDi, ACrashedRouDiIsCleanedUpAfter) {
  ASSERT_TRUE(RouDiDaemon::ensure());
  const pid_t pid = RouDiDaemon::private_pid();
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);  // no clean shutdown: its segments stay until release() removes them
  RouDiDaemon::release();
  EXPECT_TRUE(roudi_leftovers().empty());
  EXPECT_TRUE(test::bench_objects().empty());
}

TEST_F(RouDi, MissingBinaryIsReportedAsNotAvailable) {
  const auto r = ::ipckit::test::run_in_child([] {
    ::setenv("PATH", "/nonexistent", 1);
    ::unsetenv("IPCKIT_IOX_ROUDI");
    auto report = run_bench(test::tiny({"iceoryx"}));
    if (!report || report->not_available.size() != 1) return 1;
    return report->not_available[0].reason.find("iox-roudi not found") != std::string::npos ? 0 : 2;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RouDi, ARunningRouDiIsReusedAndLeftRunning) {
  // Someone else's RouDi: started here with its default configuration; ready when it says so.
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const pid_t roudi = ::fork();
  if (roudi == 0) {
    ::dup2(out[1], 1);
    ::setpgid(0, 0);
    ::execlp("iox-roudi", "iox-roudi", "-l", "info", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string log;
  char buf[256];
  ssize_t n;
  while (log.find("RouDi is ready for clients") == std::string::npos && (n = ::read(out[0], buf, sizeof buf)) > 0) {
    log.append(buf, static_cast<std::size_t>(n));
  }
  ASSERT_NE(log.find("RouDi is ready for clients"), std::string::npos) << log;
  EXPECT_TRUE(RouDiDaemon::external_running());
  auto report = run_bench(test::tiny({"iceoryx-waitset"}));
  ASSERT_TRUE(report) << report.error().str();
  ASSERT_EQ(report->results.size(), 2u) << (report->not_available.empty() ? "" : report->not_available[0].reason);
  for (const Row& row : report->results) EXPECT_TRUE(row.verified.value_or(false)) << row.note;
  EXPECT_EQ(RouDiDaemon::private_pid(), -1) << "no second RouDi";
  EXPECT_EQ(::kill(roudi, 0), 0) << "the reused RouDi still runs";
  ::kill(roudi, SIGTERM);
  ::close(out[0]);  // RouDi's later log lines go nowhere; it must not block on a full pipe
  EXPECT_EQ(wait_status(roudi), 0);
  EXPECT_TRUE(roudi_leftovers().empty()) << "the bench's runtimes deregistered, so RouDi shut down cleanly";
  EXPECT_TRUE(test::bench_objects().empty());
}

TEST_F(RouDi, CtrlCDuringAnIceoryxRunStopsThePrivateRouDi) {
  if (::access(cli().c_str(), X_OK) != 0) GTEST_SKIP() << "the ipckit tool is not built";
  ::ipckit::test::TempDir dir;
  const pid_t pid = spawn_cli({"bench", "--mechanisms", "iceoryx-waitset", "--sizes", "64", "--duration", "20",
                               "--repeats", "1"},
                              dir.file("out.txt"), dir.file("err.txt"));
  // Under way once the bench has RouDi plus both sides as children.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto children = [&] {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    int count = 0;
    std::string s;
    while (in >> s) ++count;
    return count;
  };
  while (children() < 3 && std::chrono::steady_clock::now() < deadline) ::poll(nullptr, 0, 5);
  ASSERT_GE(children(), 3) << read_text_file(dir.file("err.txt")).value_or("");
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_status(pid), 130);
  EXPECT_TRUE(roudi_leftovers().empty());
  EXPECT_TRUE(test::bench_objects(pid).empty());
}

#endif  // IPCKIT_BENCH_HAVE_ICEORYX

}  // namespace
}  // namespace ipckit::bench
