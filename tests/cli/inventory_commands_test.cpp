// SPDX-License-Identifier: Apache-2.0
// ipckit ls / stat / rm / clean as a user runs them, against helper processes that hold objects or
// were SIGKILLed. Every clean here is limited with --name to this test process's own names
// (/ipckit.test.<pid>.*), so objects of anything else running on the machine are never touched.
// ipckit-test: resource-lock mqueue
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_harness.hpp"
#include "support/held_child.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/message/sysv_mq.hpp"
#include "support/own_proc.hpp"

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string my_glob() { return "/ipckit.test." + std::to_string(::getpid()) + ".*"; }

bool create_shm(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return false;
  const bool ok = ::ftruncate(fd, 4096) == 0;
  ::close(fd);
  return ok;
}

bool shm_exists(const std::string& name) { return ::access(("/dev/shm" + name).c_str(), F_OK) == 0; }

// The state `ls --json` reports for `name` ("" when absent).
std::string state_in(const json& list, const std::string& name) {
  for (const auto& o : list) {
    if (o["name"] == name) return o["state"];
  }
  return "";
}

TEST(CliInventory, LsShowsStatesAndCleanRemovesExactlyTheOrphansThenTheUnused) {
  if (!is_root()) GTEST_SKIP() << "needs root: runs in its own pid namespace with its own /proc";
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string chan = unique_name();
  const std::string held = unique_name();
  const std::string unused = unique_name();
  const std::string glob = my_glob();
  const auto r = run_with_own_proc([&] {
    [&] {
    ChannelOptions co;
    co.capacity = 4096;
    co.max_message = 256;
    HeldChild producer([&] {
      auto e = SpscProducer::open(chan, OpenMode::kOpenOrCreate, co);
      return e && new SpscProducer(std::move(*e)) != nullptr;  // kept until the child ends
    });
    ASSERT_TRUE(producer.ok());
    HeldChild consumer([&] {
      auto e = SpscConsumer::open(chan, OpenMode::kOpenOrCreate, co);
      return e && new SpscConsumer(std::move(*e)) != nullptr;  // kept until the child ends
    });
    ASSERT_TRUE(consumer.ok());
    HeldChild holder([&] {
      if (!create_shm(held)) return false;
      const int fd = ::shm_open(held.c_str(), O_RDWR, 0);
      return fd >= 0;  // kept open: the descriptor holds it
    });
    ASSERT_TRUE(holder.ok());
    ASSERT_TRUE(create_shm(unused));

    // stat of the live channel: both roles with their pids.
    CliRun st = run_ipckit({"stat", "chan:" + chan, "--json"});
    ASSERT_EQ(st.result.code, 0) << st.err;
    const json sj = json::parse(st.out);
    EXPECT_EQ(sj["pattern"], "spsc");
    ASSERT_EQ(sj["participants"].size(), 2u);
    EXPECT_EQ(sj["participants"][0]["pid"], producer.pid());
    EXPECT_EQ(sj["participants"][0]["state"], "alive");

    producer.kill();
    consumer.kill();
    CliRun ls = run_ipckit({"ls", "--this-pid-namespace-only", "--json", "--kind", "channel", "--kind", "posix-shm"});
    ASSERT_EQ(ls.result.code, 0) << ls.err;
    const json lj = json::parse(ls.out);
    EXPECT_EQ(state_in(lj, chan), "orphaned");
    EXPECT_EQ(state_in(lj, held), "in-use");
    EXPECT_EQ(state_in(lj, unused), "unused");
    for (const auto& o : lj) {
      if (o["name"] != held) continue;
      ASSERT_EQ(o["holders"].size(), 1u);
      EXPECT_EQ(o["holders"][0]["pid"], holder.pid());
    }

    // The table: aligned header, the channel row, the summary.
    CliRun table = run_ipckit({"ls", "--this-pid-namespace-only", "--kind", "channel"});
    ASSERT_EQ(table.result.code, 0) << table.err;
    EXPECT_EQ(table.out.rfind("KIND", 0), 0u) << table.out;
    EXPECT_NE(table.out.find(chan), std::string::npos);
    EXPECT_NE(table.out.find("orphaned"), std::string::npos);
    EXPECT_NE(table.out.find("object(s),"), std::string::npos);

    CliRun dry = run_ipckit({"clean", "--this-pid-namespace-only", "--dry-run", "--name", glob});
    ASSERT_EQ(dry.result.code, 0) << dry.err;
    EXPECT_NE(dry.out.find("would remove channel:" + chan), std::string::npos) << dry.out;
    EXPECT_EQ(dry.out.find(held), std::string::npos) << dry.out;
    EXPECT_EQ(dry.out.find(unused), std::string::npos) << dry.out;
    EXPECT_TRUE(shm_exists(chan));

    CliRun clean = run_ipckit({"clean", "--this-pid-namespace-only", "--name", glob});
    ASSERT_EQ(clean.result.code, 0) << clean.err;
    EXPECT_NE(clean.out.find("removed channel:" + chan), std::string::npos) << clean.out;
    EXPECT_FALSE(shm_exists(chan));
    EXPECT_TRUE(shm_exists(held));
    EXPECT_TRUE(shm_exists(unused));

    // Twice: nothing orphaned is left, and that is not an error.
    CliRun again = run_ipckit({"clean", "--this-pid-namespace-only", "--name", glob});
    EXPECT_EQ(again.result.code, 0) << again.err;
    EXPECT_NE(again.out.find("0 object(s) removed"), std::string::npos) << again.out;

    CliRun wider = run_ipckit({"clean", "--this-pid-namespace-only", "--unused", "--name", glob});
    ASSERT_EQ(wider.result.code, 0) << wider.err;
    EXPECT_FALSE(shm_exists(unused));
    EXPECT_TRUE(shm_exists(held)) << "an object in use is never cleaned";
    holder.kill();
    ::shm_unlink(held.c_str());
    }();
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(CliInventory, RmOfAHeldObjectRefusesWithoutForce) {
  if (!is_root()) GTEST_SKIP() << "needs root: runs in its own pid namespace with its own /proc";
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = unique_name();
  const auto r = run_with_own_proc([&] {
    [&] {
    HeldChild holder([&] {
      if (!create_shm(name)) return false;
      return ::shm_open(name.c_str(), O_RDWR, 0) >= 0;
    });
    ASSERT_TRUE(holder.ok());
    CliRun refused = run_ipckit({"rm", "--this-pid-namespace-only", "posix-shm:" + name});
    EXPECT_EQ(refused.result.code, 1);
    EXPECT_EQ(count_lines(refused.err), 1u) << refused.err;
    EXPECT_NE(refused.err.find("in use"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find(std::to_string(holder.pid())), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
    EXPECT_TRUE(shm_exists(name));
    CliRun forced = run_ipckit({"rm", "--this-pid-namespace-only", "--force", "posix-shm:" + name});
    EXPECT_EQ(forced.result.code, 0) << forced.err;
    EXPECT_FALSE(shm_exists(name));
    CliRun gone = run_ipckit({"rm", "--this-pid-namespace-only", "posix-shm:" + name});
    EXPECT_EQ(gone.result.code, 1);
    EXPECT_NE(gone.err.find("ENOENT"), std::string::npos) << gone.err;
    }();
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(CliInventory, StatShowsQueueAttributesAndTheirMessageCounts) {
  const std::string mq = unique_name();
  mq_attr a{};
  a.mq_maxmsg = 2;
  a.mq_msgsize = 64;
  const mqd_t q = ::mq_open(mq.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &a);
  ASSERT_NE(q, static_cast<mqd_t>(-1));
  ASSERT_EQ(::mq_send(q, "x", 1, 0), 0);
  CliRun st = run_ipckit({"stat", "mq:" + mq, "--json"});
  EXPECT_EQ(st.result.code, 0) << st.err;
  if (st.result.code == 0) {
    const json j = json::parse(st.out);
    EXPECT_EQ(j["max_messages"], 2);
    EXPECT_EQ(j["message_size"], 64);
    EXPECT_EQ(j["messages"], 1);
  }
  ::mq_close(q);
  ::mq_unlink(mq.c_str());

  TempDir dir;
  const std::string keyfile = dir.file("key");
  { std::ofstream(keyfile) << "k"; }
  auto key = SysvMq::key_for(keyfile, 1);
  ASSERT_TRUE(key.has_value());
  const int id = ::msgget(*key, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(id, 0);
  struct {
    long type;
    char text[4];
  } m{1, "hi"};
  ASSERT_EQ(::msgsnd(id, &m, sizeof m.text, 0), 0);
  ASSERT_EQ(::msgsnd(id, &m, sizeof m.text, 0), 0);
  CliRun sv = run_ipckit({"stat", "sysvmq:" + keyfile + "?proj=1", "--json"});
  EXPECT_EQ(sv.result.code, 0) << sv.err;
  if (sv.result.code == 0) {
    const json j = json::parse(sv.out);
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["messages"], 2);
    EXPECT_EQ(j["last_sender"], ::getpid());
  }
  CliRun text = run_ipckit({"stat", "sysvmq:" + keyfile});
  EXPECT_EQ(text.result.code, 0) << text.err;
  EXPECT_NE(text.out.find("messages       2"), std::string::npos) << text.out;
  // clean leaves a queue holding messages without --force, even with --idle.
  CliRun kept = run_ipckit({"clean", "--idle", "--kind", "sysv-mq", "--name", std::to_string(id)});
  EXPECT_EQ(kept.result.code, 0) << kept.err;
  EXPECT_EQ(kept.out.find("sysv-mq:" + std::to_string(id)), std::string::npos) << kept.out;
  CliRun rm = run_ipckit({"rm", "sysv-mq:" + std::to_string(id)});
  EXPECT_EQ(rm.result.code, 0) << rm.err;
  EXPECT_EQ(::msgctl(id, IPC_STAT, nullptr), -1);
}

TEST(CliInventory, BadUsageExitsTwoWithOneLineNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* prefix;
    const char* needle;
  };
  const Case cases[] = {
      {{"ls", "--kind", "shm"}, "ipckit ls: ", "--kind"},
      {{"ls", "--state", "dead"}, "ipckit ls: ", "--state"},
      {{"clean", "--idle"}, "ipckit clean: ", "--kind"},
      {{"clean", "--older-than", "soon"}, "ipckit clean: ", "--older-than"},
      {{"rm", "/x"}, "ipckit rm: ", "KIND:NAME"},
      {{"stat", "tcp:127.0.0.1:1"}, "ipckit stat: ", "chan:"},
  };
  for (const Case& c : cases) {
    CliRun r = run_ipckit(c.args);
    EXPECT_EQ(r.result.code, 2) << c.args[0] << " " << c.args[1] << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind(c.prefix, 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(CliInventory, LsIntoAClosedPipeEndsQuietly) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);  // the reader is gone before ipckit writes: ipckit ls | head -0
  TempDir dir;
  const std::string err = dir.file("err");
  const std::string bin = ipckit_binary();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (e < 0 || ::dup2(fds[1], 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    ::execl(bin.c_str(), bin.c_str(), "ls", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  const ChildResult r = wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(slurp(err).find("writing"), std::string::npos) << slurp(err);
}

}  // namespace
}  // namespace ipckit::test
