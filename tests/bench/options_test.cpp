// SPDX-License-Identifier: Apache-2.0
// Option parsing of `ipckit bench`, and bad options rejected by the CLI with one clear line.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/bench.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/file/atomic_file.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

using test::FailsWith;

TEST(BenchOptions, SizesTakeBytesKibAndMib) {
  auto s = parse_sizes("64, 4KiB,65536,1MiB,4KiB");
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_EQ(*s, (std::vector<std::size_t>{64, 4096, 65536, 1u << 20}));
  // One size parser for the project (core/units.hpp): SI spellings are ambiguous, so rejected.
  EXPECT_TRUE(FailsWith(parse_sizes("4KB"), {"--sizes", "\"4KB\"", "ambiguous", "4KiB"}));
  EXPECT_TRUE(FailsWith(parse_sizes("16"), {"--sizes", "16 B is out of range", "24 B..16 MiB"}));
  EXPECT_TRUE(FailsWith(parse_sizes("abc"), {"--sizes", "not a size"}));
  EXPECT_TRUE(FailsWith(parse_sizes("1024MiB"), {"--sizes", "1 GiB is out of range"}));
  EXPECT_TRUE(FailsWith(parse_sizes(""), {"--sizes", "no size given"}));
}

TEST(BenchOptions, MechanismsPinDurationAndRepeatsAreChecked) {
  auto m = parse_mechanisms("pipe,tcp,pipe");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::vector<std::string>{"pipe", "tcp"}));
  EXPECT_TRUE(FailsWith(parse_mechanisms("pipe,carrier-pigeon"), {"--mechanisms", "carrier-pigeon", "known: "}));
  EXPECT_TRUE(FailsWith(parse_mechanisms("unix-stram"), {"--mechanisms", "did you mean unix-stream?"}));
  EXPECT_TRUE(FailsWith(parse_mechanisms(""), {"--mechanisms", "no mechanism named"}));
  EXPECT_TRUE(FailsWith(parse_mechanisms("pipe,,tcp"), {"--mechanisms", "empty name"}));
  EXPECT_TRUE(FailsWith(parse_pin("0"), {"--pin", "two CPUs"}));
  EXPECT_TRUE(FailsWith(parse_pin("0,0"), {"--pin", "--same-cpu"}));
  EXPECT_TRUE(FailsWith(parse_pin("0,4096"), {"--pin", "CPU 4096 is not available"}));
  EXPECT_DOUBLE_EQ(parse_duration("250ms").value(), 0.25);
  EXPECT_DOUBLE_EQ(parse_duration("2s").value(), 2.0);
  EXPECT_TRUE(FailsWith(parse_duration("-1"), {"--duration"}));
  EXPECT_DOUBLE_EQ(parse_duration("0.5").value(), 0.5);
  EXPECT_TRUE(FailsWith(parse_duration("5parsecs"), {"--duration", "unit"}));
  EXPECT_TRUE(FailsWith(parse_duration("5min"), {"--duration", "out of range", "at most 60 s"}));
  EXPECT_TRUE(FailsWith(parse_duration("inf"), {"--duration"}));
  BenchOptions o;
  o.repeats = 0;
  EXPECT_TRUE(FailsWith(validate(o), {"--repeats", "1..100"}));
}

TEST(BenchOptions, WarmupTakesZeroToSixtySeconds) {
  EXPECT_DOUBLE_EQ(parse_warmup("0").value(), 0.0);
  EXPECT_DOUBLE_EQ(parse_warmup("100ms").value(), 0.1);
  EXPECT_DOUBLE_EQ(parse_warmup("2s").value(), 2.0);
  EXPECT_TRUE(FailsWith(parse_warmup("-1"), {"--warmup"}));
  EXPECT_TRUE(FailsWith(parse_warmup("2min"), {"--warmup", "at most 60 s"}));
  EXPECT_TRUE(FailsWith(parse_warmup("soon"), {"--warmup"}));
  BenchOptions o;
  o.warmup_s = -0.5;
  EXPECT_TRUE(FailsWith(validate(o), {"--warmup", "0 to 60 s"}));
}

struct CliResult {
  int status = -1;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args) {
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) != 0) return {};
  const std::string exe = std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(errp[1], 2);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(errp[1]);
  CliResult r;
  auto text = read_all(errp[0]);
  ::close(errp[0]);
  r.err = text ? *text : "";
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

TEST(BenchCli, BadOptionsExitNonZeroWithOneClearLine) {
  if (::access((std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit").c_str(), X_OK) != 0) {
    GTEST_SKIP() << "the ipckit tool is not built (IPCKIT_BUILD_TOOLS=OFF)";
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"bench", "--sizes", "4KB"}, "ambiguous"},
      {{"bench", "--mechanisms", "nope"}, "unknown mechanism"},
      {{"bench", "--pin", "0,9999"}, "CPU 9999 is not available"},
      {{"bench", "--repeats", "0"}, "--repeats"},
      {{"bench", "--duration", "0"}, "--duration"},
      {{"bench", "--compare", "/nonexistent/a.json", "/nonexistent/b.json"}, "ENOENT"},
      {{"bench", "--mechanisms", "pipe", "--html", "/nonexistent/dir/x.html"}, "ENOENT"},
      {{"bench", "--mechanisms", "pipe", "--markdown", "/nonexistent/dir/x.md"}, "ENOENT"},
      {{"bench", "--warmup", "-1"}, "--warmup"},
      {{"bench", "--warmup", "2min"}, "at most 60 s"},
      {{"bench", "--compare", "/nonexistent/a.json", "/nonexistent/b.json", "--fail-if-slower", "lots"}, "--fail-if-slower"},
      {{"bench", "--compare", "/nonexistent/a.json", "/nonexistent/b.json", "--fail-if-slower", "-5"}, "percentage"},
      {{"bench", "--mechanisms", "pipe", "--fail-if-slower", "5"}, "applies to --compare"},
  };
  for (const auto& [args, needle] : cases) {
    const CliResult r = run_cli(args);
    EXPECT_NE(r.status, 0) << args[1];
    // A bad option is 2; an output that cannot be written (ENOENT) is a failed set-up, 1.
    EXPECT_EQ(r.status, needle == "ENOENT" ? (args[1] == "--compare" ? 2 : 1) : 2) << args[1] << " " << r.err;
    EXPECT_NE(r.err.find("ipckit bench: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(BenchCli, ProgressLinesMarkdownWarmupAndFailIfSlower) {
  if (::access((std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit").c_str(), X_OK) != 0) {
    GTEST_SKIP() << "the ipckit tool is not built (IPCKIT_BUILD_TOOLS=OFF)";
  }
  test::TempDir dir;
  const std::string a = dir.file("a.json"), md = dir.file("a.md");
  // stderr is a pipe here: without --progress nothing, with it one line per configuration.
  CliResult r = run_cli({"bench", "--mechanisms", "pipe", "--sizes", "64", "--duration", "20ms", "--warmup", "5ms",
                         "--repeats", "1", "--progress", "--json", a, "--markdown", md});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;  // throughput and rtt
  EXPECT_NE(r.err.find("ipckit bench: [1/2] pipe throughput 64 B cross-cpu, repeat 1, ETA "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ipckit bench: [2/2] pipe rtt 64 B cross-cpu, repeat 1, ETA "), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(read_file(a).value_or("{}"));
  EXPECT_DOUBLE_EQ(j.value("warmup_s", -1.0), 0.005);
  EXPECT_DOUBLE_EQ(j.value("duration_s", -1.0), 0.02);
  EXPECT_NE(j.value("command", "").find("--warmup 5ms"), std::string::npos);
  EXPECT_NE(read_file(md).value_or("").find("| pipe | 64 B | cross-cpu | blocking |"), std::string::npos);
  r = run_cli({"bench", "--mechanisms", "pipe", "--sizes", "64", "--duration", "20ms", "--repeats", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;

  // B: the same report with pipe's throughput halved (one repeat each: the spread rule).
  for (auto& row : j["results"]) {
    if (row["pattern"] != "throughput") continue;
    row["msgs_per_s"] = row["msgs_per_s"].get<double>() / 2;
    row["bytes_per_s"] = row["bytes_per_s"].get<double>() / 2;
    for (auto& v : row["per_repeat"]["msgs_per_s"]) v = v.get<double>() / 2;
  }
  const std::string b = dir.file("b.json");
  ASSERT_TRUE(atomic_replace(b, as_bytes(j.dump())));
  r = run_cli({"bench", "--compare", a, b, "--fail-if-slower", "10"});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("ipckit bench: 2 figure(s) slower by more than 10%"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("throughput pipe 64 B cross-cpu msgs/s: 50% slower"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"bench", "--compare", a, b, "--fail-if-slower", "60"}).status, 0);
  EXPECT_EQ(run_cli({"bench", "--compare", a, a, "--fail-if-slower", "0"}).status, 0);
  EXPECT_EQ(run_cli({"bench", "--compare", a, b}).status, 0);  // no threshold: a report, not a gate
}

}  // namespace
}  // namespace ipckit::bench
