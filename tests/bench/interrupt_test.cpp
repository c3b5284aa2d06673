// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 120
// Ctrl-C during `ipckit bench`: the CLI stops its children, removes every IPC object and exits 130.
// Also: exit 0 for a completed run, and the JSON/CSV/HTML files are written.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench_test_util.hpp"
#include "engine/report.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

std::string cli() { return std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit"; }

pid_t spawn_cli(const std::vector<std::string>& args, const std::string& err_path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(err, 2);
    ::dup2(devnull, 1);
    std::vector<char*> argv{const_cast<char*>(cli().c_str())};
    static std::string exe = cli();
    argv[0] = exe.data();
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// True once `pid` has forked a child: the run's sides exist, so the run is under way.
bool has_children(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::string s;
  return static_cast<bool>(in >> s);
}

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t c; in >> c;) out.push_back(c);
  return out;
}

// True when process `pid` maps a bench object whose name was removed ("/dev/shm/ipckit.bench.* (deleted)").
bool maps_removed_bench_object(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(in, line);) {
    if (line.find("/dev/shm/ipckit.bench.") != std::string::npos && line.find("(deleted)") != std::string::npos) {
      return true;
    }
  }
  return false;
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class BenchCliRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(cli().c_str(), X_OK) != 0) GTEST_SKIP() << "the ipckit tool is not built";
  }
};

TEST_F(BenchCliRun, CtrlCStopsChildrenAndRemovesEveryObject) {
  ::ipckit::test::TempDir dir;
  // Long runs of mechanisms with named objects; Ctrl-C arrives while the first one is measuring.
  for (const char* mech : {"shm-sem", "fifo", "sysv-mq", "shm-handoff"}) {
    SCOPED_TRACE(mech);
    const pid_t pid = spawn_cli({"bench", "--mechanisms", mech, "--sizes", "64", "--duration", "20", "--repeats", "1",
                                 "--json", dir.file("x.json")},
                                dir.file("err.txt"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!has_children(pid) && std::chrono::steady_clock::now() < deadline) ::poll(nullptr, 0, 5);
    ASSERT_TRUE(has_children(pid));
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_status(pid), 130);
    const std::string err = read_text_file(dir.file("err.txt")).value_or("");
    EXPECT_NE(err.find("interrupted"), std::string::npos) << err;
    EXPECT_TRUE(test::bench_objects(pid).empty());
    EXPECT_NE(::access(dir.file("x.json").c_str(), F_OK), 0) << "no partial report is left";
  }
}

// Ctrl-C while many processes measure: the broadcast run's publisher and 8 subscribers (which keep
// `<name>`, `<name>.ctl` and 8 `<name>.sub.*` until the run ends) and MPMC's 4 x 4 processes.
TEST_F(BenchCliRun, CtrlCWithSeveralProcessesPerSideRemovesEveryObject) {
  ::ipckit::test::TempDir dir;
  for (const char* mech : {"channel-broadcast-8", "channel-mpmc-4x4"}) {
    SCOPED_TRACE(mech);
    const pid_t pid = spawn_cli({"bench", "--mechanisms", mech, "--sizes", "64", "--duration", "20", "--repeats", "1"},
                                dir.file("err.txt"));
    // Measuring: broadcast once every subscriber has joined (its record exists); MPMC once all 8
    // children map the channel under a removed name (the parent removes it when every process has
    // it open, just before the start).
    const bool broadcast = std::string(mech) == "channel-broadcast-8";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool measuring = false;
    while (!measuring && std::chrono::steady_clock::now() < deadline) {
      if (broadcast) {
        const auto objects = test::bench_objects(pid);
        measuring = std::count_if(objects.begin(), objects.end(), [](const std::string& n) {
                      return n.find(".sub.") != std::string::npos;
                    }) == 8;
      } else {
        const auto kids = children_of(pid);
        measuring = kids.size() == 8 && std::all_of(kids.begin(), kids.end(), maps_removed_bench_object);
      }
      if (!measuring) ::poll(nullptr, 0, 2);
    }
    ASSERT_TRUE(measuring);
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_status(pid), 130);
    const std::string err = read_text_file(dir.file("err.txt")).value_or("");
    EXPECT_NE(err.find("interrupted"), std::string::npos) << err;
    EXPECT_TRUE(test::bench_objects(pid).empty());
  }
}

TEST_F(BenchCliRun, CompletedRunExitsZeroAndWritesEveryFile) {
  ::ipckit::test::TempDir dir;
  const pid_t pid = spawn_cli({"bench", "--mechanisms", "pipe,udp", "--sizes", "64", "--duration", "20ms", "--repeats",
                               "1", "--json", dir.file("a.json"), "--csv", dir.file("a.csv"), "--html",
                               dir.file("a.html")},
                              dir.file("err.txt"));
  ASSERT_EQ(wait_status(pid), 0) << read_text_file(dir.file("err.txt")).value_or("");
  auto j = load_report(dir.file("a.json"));
  ASSERT_TRUE(j) << j.error().str();
  EXPECT_EQ((*j)["results"].size(), 4u);
  EXPECT_NE(read_text_file(dir.file("a.csv")).value_or("").find("pipe,throughput,64"), std::string::npos);
  EXPECT_NE(read_text_file(dir.file("a.html")).value_or("").find("chart-throughput"), std::string::npos);
  // --compare of a report with itself: every ratio is 1.
  const pid_t cmp = spawn_cli({"bench", "--compare", dir.file("a.json"), dir.file("a.json")}, dir.file("err2.txt"));
  EXPECT_EQ(wait_status(cmp), 0) << read_text_file(dir.file("err2.txt")).value_or("");
}

}  // namespace
}  // namespace ipckit::bench
