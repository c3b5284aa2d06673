// SPDX-License-Identifier: Apache-2.0
// The inventory against real processes: helper children create or open objects of every kind and
// hold them, exit, or are SIGKILLed; states and holders are read back with find_object/list_objects.
// ipckit-test: resource-lock mqueue
#include "ipckit/inventory/inventory.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>

#include <gtest/gtest.h>

#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/core/liveness.hpp"
#include "support/held_child.hpp"
#include "support/ipckit_test.hpp"
#include "support/own_proc.hpp"
#include "support/other_user.hpp"

namespace ipckit::inventory {
namespace {

using namespace std::chrono_literals;
using test::ReadyPipe;

using test::HeldChild;

// Opens a channel endpoint and keeps it for the rest of the (child) process.
template <class Endpoint, class Options>
bool open_and_keep(const std::string& name, const Options& o) {
  auto e = Endpoint::open(name, OpenMode::kOpenOrCreate, o);
  return e && new Endpoint(std::move(*e)) != nullptr;
}

bool held_by(const Object& o, pid_t pid) {
  for (const Holder& h : o.holders) {
    if (h.pid == pid) return true;
  }
  return false;
}

// The tests run in their own pid namespace (support/own_proc.hpp) and vouch for it.
ListOptions own() {
  ListOptions o;
  o.this_pid_namespace_only = true;
  return o;
}

Object must_find(Kind kind, const std::string& name) {
  auto o = find_object(kind, name, own());
  EXPECT_TRUE(o.has_value()) << (o ? "" : o.error().str());
  return o ? *o : Object{};
}

bool shm_exists(const std::string& name) { return ::access(("/dev/shm" + name).c_str(), F_OK) == 0; }

TEST(Inventory, PosixShmHeldByAChildIsInUseThenUnused) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
    HeldChild child([&] {
      const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
      if (fd < 0 || ::ftruncate(fd, 4096) != 0) return false;
      void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      ::close(fd);  // the mapping alone holds it
      return p != MAP_FAILED;
    });
    ASSERT_TRUE(child.ok());
    Object o = must_find(Kind::kPosixShm, name);
    EXPECT_EQ(o.state, State::kInUse);
    EXPECT_TRUE(held_by(o, child.pid()));
    EXPECT_EQ(o.size, 4096u);
    EXPECT_EQ(o.mode, 0600u);
    RemoveOptions keep;
    auto refused = remove_object(o, keep);
    EXPECT_TRUE(test::FailsWith(refused, {"in use", std::to_string(child.pid())}));
    EXPECT_TRUE(shm_exists(name));
    ASSERT_TRUE(child.release().ok());
    o = must_find(Kind::kPosixShm, name);
    EXPECT_EQ(o.state, State::kUnused);
    EXPECT_TRUE(o.holders.empty());
    // Without vouching for this pid namespace, processes outside it could hold it: unknown.
    auto unvouched = find_object(Kind::kPosixShm, name, {});
    ASSERT_TRUE(unvouched.has_value());
    EXPECT_EQ(unvouched->state, State::kUnknown);
    EXPECT_NE(unvouched->note.find("pid namespace"), std::string::npos) << unvouched->note;
    IPCKIT_EXPECT_OK(remove_object(o, keep));
    EXPECT_FALSE(shm_exists(name));
    EXPECT_TRUE(test::FailsWith(find_object(Kind::kPosixShm, name, own()), {"ENOENT"}));
  });
}

TEST(Inventory, ChannelWhoseProducerAndConsumerWereKilledIsOrphanedAndRemovedWhole) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
    ChannelOptions co;
    co.capacity = 4096;
    co.max_message = 256;
    HeldChild producer([&] { return open_and_keep<SpscProducer>(name, co); });
    ASSERT_TRUE(producer.ok());
    HeldChild consumer([&] { return open_and_keep<SpscConsumer>(name, co); });
    ASSERT_TRUE(consumer.ok());
    Object o = must_find(Kind::kChannel, name);
    EXPECT_EQ(o.state, State::kInUse);
    EXPECT_TRUE(held_by(o, producer.pid()));
    EXPECT_TRUE(held_by(o, consumer.pid()));
    ASSERT_TRUE(o.channel.has_value());
    EXPECT_EQ(o.channel->pattern, "spsc");
    EXPECT_EQ(o.channel->capacity, 4096u);
    ASSERT_EQ(o.channel->participants.size(), 2u);
    // The channel is one row: its data segment is not also listed as posix-shm.
    EXPECT_TRUE(test::FailsWith(find_object(Kind::kPosixShm, name, own()), {"ENOENT"}));

    producer.kill();
    consumer.kill();
    o = must_find(Kind::kChannel, name);
    EXPECT_EQ(o.state, State::kOrphaned) << o.note;
    EXPECT_TRUE(o.holders.empty());
    for (const auto& p : o.channel->participants) EXPECT_EQ(p.state, Liveness::kDead);
    CleanFilter f;
    EXPECT_TRUE(clean_selects(o, f, std::time(nullptr)));
    IPCKIT_EXPECT_OK(remove_object(o, {}));
    EXPECT_FALSE(shm_exists(name));
  });
}

TEST(Inventory, PidReuseDoesNotMakeADeadParticipantAlive) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
    ChannelOptions co;
    co.capacity = 4096;
    co.max_message = 256;
    HeldChild producer([&] { return open_and_keep<SpscProducer>(name, co); });
    ASSERT_TRUE(producer.ok());
    producer.kill();
    // The dead producer's record now names a live process (this one) with another start time: what a
    // reused pid looks like. It must stay dead, and so it does with the true start time too: the
    // record is for messages, liveness is the holder's token (docs/channel.md "Liveness").
    IPCKIT_ASSERT_OK_AND_ASSIGN(ProcessIdentity self, self_identity());
    auto forge = [&](std::uint64_t start_time) {
      const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
      ASSERT_GE(fd, 0);
      void* p = ::mmap(nullptr, channel_layout::kHeaderSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      ::close(fd);
      ASSERT_NE(p, MAP_FAILED);
      auto* h = static_cast<channel_layout::Header*>(p);
      h->producer.who.pid = self.pid;
      h->producer.who.start_time = start_time;
      h->producer.who.pid_ns = self.pid_ns;
      ::munmap(p, channel_layout::kHeaderSize);
    };
    forge(self.start_time + 1);
    Object o = must_find(Kind::kChannel, name);
    EXPECT_EQ(o.state, State::kOrphaned) << o.note;
    forge(self.start_time);
    o = must_find(Kind::kChannel, name);
    EXPECT_EQ(o.state, State::kOrphaned) << o.note;
    IPCKIT_EXPECT_OK(remove_object(o, {true}));
    EXPECT_FALSE(shm_exists(name));
  });
}

TEST(Inventory, SocketFileIsInUseWhileBoundAndOrphanedAfterItsServerWasKilled) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string path = test::unique_path();
  test::expect_in_own_proc([&] {
    HeldChild server([&] {
      const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
      return s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(s, 1) == 0;
    });
    ASSERT_TRUE(server.ok());
    Object o = must_find(Kind::kUnixSocket, path);
    EXPECT_EQ(o.state, State::kInUse) << o.note;
    EXPECT_TRUE(held_by(o, server.pid()));
    server.kill();
    o = must_find(Kind::kUnixSocket, path);
    EXPECT_EQ(o.state, State::kOrphaned) << o.note;
    // Unvouched, a process outside this pid namespace could sit in a network namespace not seen.
    auto unvouched = find_object(Kind::kUnixSocket, path, {});
    ASSERT_TRUE(unvouched.has_value());
    EXPECT_EQ(unvouched->state, State::kUnknown) << unvouched->note;
    IPCKIT_EXPECT_OK(remove_object(o, {}));
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
  });
}

TEST(Inventory, FifoOpenByAChildIsInUseThenUnused) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string path = test::unique_path();
  test::expect_in_own_proc([&] {
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    HeldChild child([&] { return ::open(path.c_str(), O_RDWR | O_CLOEXEC) >= 0; });
    ASSERT_TRUE(child.ok());
    Object o = must_find(Kind::kFifo, path);
    EXPECT_EQ(o.state, State::kInUse);
    EXPECT_TRUE(held_by(o, child.pid()));
    ASSERT_TRUE(child.release().ok());
    o = must_find(Kind::kFifo, path);
    EXPECT_EQ(o.state, State::kUnused);
    IPCKIT_EXPECT_OK(remove_object(o, {}));
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
  });
}

TEST(Inventory, PosixSemaphoreOpenByAChildIsInUse) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
    HeldChild child([&] { return ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0) != SEM_FAILED; });
    ASSERT_TRUE(child.ok());
    Object o = must_find(Kind::kPosixSem, name);
    EXPECT_EQ(o.state, State::kInUse);
    EXPECT_TRUE(held_by(o, child.pid()));
    child.kill();
    o = must_find(Kind::kPosixSem, name);
    EXPECT_EQ(o.state, State::kUnused);
    IPCKIT_EXPECT_OK(remove_object(o, {}));
    EXPECT_NE(::access(("/dev/shm/sem." + name.substr(1)).c_str(), F_OK), 0);
  });
}

TEST(Inventory, SystemVQueueIsIdleWithItsLastPidsAndSegmentInUseWhileAttached) {
  test::expect_in_own_proc([&] {
    const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    ASSERT_GE(q, 0);
    struct {
      long type;
      char text[4];
    } m{1, "hi"};
    ASSERT_EQ(::msgsnd(q, &m, sizeof m.text, 0), 0);
    Object o = must_find(Kind::kSysvMq, std::to_string(q));
    EXPECT_EQ(o.state, State::kIdle);
    EXPECT_EQ(o.id, q);
    ASSERT_TRUE(o.messages.has_value());
    EXPECT_EQ(*o.messages, 1u);
    ASSERT_FALSE(o.last_pids.empty());
    EXPECT_EQ(o.last_pids[0], ::getpid());
    CleanFilter f;
    f.idle = true;
    EXPECT_FALSE(clean_selects(o, f, std::time(nullptr)));  // holds a message: needs force
    f.force = true;
    EXPECT_TRUE(clean_selects(o, f, std::time(nullptr)));
    IPCKIT_EXPECT_OK(remove_object(o, {}));

    const int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(shm, 0);
    HeldChild child([&] { return ::shmat(shm, nullptr, 0) != reinterpret_cast<void*>(-1); });
    ASSERT_TRUE(child.ok());
    Object s = must_find(Kind::kSysvShm, std::to_string(shm));
    EXPECT_EQ(s.state, State::kInUse);
    EXPECT_TRUE(held_by(s, child.pid()));
    child.kill();
    s = must_find(Kind::kSysvShm, std::to_string(shm));
    EXPECT_EQ(s.state, State::kUnused);
    IPCKIT_EXPECT_OK(remove_object(s, {}));
  });
}

TEST(Inventory, PosixMqIsListedWithItsHolderAsRoot) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: POSIX mq is listed through a private mqueue mount here";
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  const auto r = test::run_with_own_proc([&] {
    [&] {
    HeldChild child([&] {
      mq_attr a{};
      a.mq_maxmsg = 2;
      a.mq_msgsize = 64;
      return ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &a) != static_cast<mqd_t>(-1);
    });
    ASSERT_TRUE(child.ok());
    Object o = must_find(Kind::kPosixMq, name);
    EXPECT_EQ(o.state, State::kInUse) << o.note;
    EXPECT_TRUE(held_by(o, child.pid()));
    EXPECT_EQ(o.size, 128u);
    child.kill();
    o = must_find(Kind::kPosixMq, name);
    EXPECT_EQ(o.state, State::kUnused) << o.note;
    IPCKIT_EXPECT_OK(remove_object(o, {}));
    }();
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Inventory, ObjectsAnotherUserCannotInspectAreUnknownNotACrash) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: the listing runs as user nobody in a child";
  const std::string name = test::unique_name();
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto r = test::run_as_nobody([&] {
    auto o = find_object(Kind::kPosixShm, name, own());
    if (!o) return 10;
    if (o->state != State::kUnknown) return 11;
    if (remove_object(*o, {})) return 12;  // unknown is never removed without force
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(shm_exists(name));
  ::shm_unlink(name.c_str());
}

std::size_t count_role(const Object& o, const std::string& role, Liveness state) {
  std::size_t n = 0;
  for (const auto& p : o.channel->participants) n += p.role == role && p.state == state ? 1 : 0;
  return n;
}

TEST(Inventory, MpmcChannelShowsEveryMemberAndIsOrphanedWhenAllWereKilled) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
      ChannelOptions co;
      co.capacity = 65536;
      co.max_message = 256;
      HeldChild producer([&] { return open_and_keep<MpmcProducer>(name, co); });
      ASSERT_TRUE(producer.ok());
      HeldChild c1([&] { return open_and_keep<MpmcConsumer>(name, co); });
      HeldChild c2([&] { return open_and_keep<MpmcConsumer>(name, co); });
      ASSERT_TRUE(c1.ok() && c2.ok());
      Object o = must_find(Kind::kChannel, name);
      EXPECT_EQ(o.state, State::kInUse);
      ASSERT_TRUE(o.channel.has_value());
      EXPECT_EQ(o.channel->pattern, "mpmc");
      EXPECT_EQ(count_role(o, "producer", Liveness::kAlive), 1u);
      EXPECT_EQ(count_role(o, "consumer", Liveness::kAlive), 2u);
      producer.kill();
      c1.kill();
      o = must_find(Kind::kChannel, name);
      EXPECT_EQ(o.state, State::kInUse) << "one consumer still lives";
      c2.kill();
      o = must_find(Kind::kChannel, name);
      EXPECT_EQ(o.state, State::kOrphaned) << o.note;
      EXPECT_EQ(count_role(o, "consumer", Liveness::kDead), 2u);
      IPCKIT_EXPECT_OK(remove_object(o, {}));
      EXPECT_FALSE(shm_exists(name));
  });
}

TEST(Inventory, BroadcastChannelOwnsItsControlAndSubscriberObjects) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_name();
  test::expect_in_own_proc([&] {
      BroadcastOptions bo;
      bo.channel.capacity = 4096;
      bo.channel.max_message = 256;
      HeldChild publisher([&] { return open_and_keep<BroadcastPublisher>(name, bo); });
      ASSERT_TRUE(publisher.ok());
      HeldChild subscriber([&] { return open_and_keep<BroadcastSubscriber>(name, bo); });
      ASSERT_TRUE(subscriber.ok());
      Object o = must_find(Kind::kChannel, name);
      EXPECT_EQ(o.state, State::kInUse);
      ASSERT_TRUE(o.channel.has_value());
      EXPECT_EQ(o.channel->pattern, "broadcast");
      EXPECT_EQ(count_role(o, "publisher", Liveness::kAlive), 1u);
      EXPECT_EQ(count_role(o, "subscriber", Liveness::kAlive), 1u);
      ASSERT_EQ(o.parts.size(), 3u);  // "/x", "/x.ctl", "/x.sub.0"
      EXPECT_TRUE(test::FailsWith(find_object(Kind::kPosixShm, name + ".ctl", own()), {"ENOENT"}));
      publisher.kill();
      subscriber.kill();
      // The data segment goes first; the .ctl and .sub.N left behind are still the channel's row.
      ASSERT_EQ(::shm_unlink(name.c_str()), 0);
      o = must_find(Kind::kChannel, name);
      EXPECT_EQ(o.state, State::kOrphaned) << o.note;
      EXPECT_FALSE(o.channel.has_value());
      EXPECT_EQ(o.parts.size(), 2u);
      const std::vector<std::string> parts = o.parts;
      IPCKIT_EXPECT_OK(remove_object(o, {}));
      for (const auto& p : parts) EXPECT_FALSE(shm_exists(p)) << p;
  });
}

TEST(Inventory, ParticipantOfAnotherPidNamespaceIsInUseNeverOrphaned) {
  if (!test::is_root()) GTEST_SKIP() << "needs root: the inspection runs in a new pid namespace";
  const std::string name = test::unique_name();
  ChannelOptions co;
  co.capacity = 4096;
  co.max_message = 256;
  HeldChild producer([&] { return open_and_keep<SpscProducer>(name, co); });  // in this namespace
  ASSERT_TRUE(producer.ok());
  const auto r = test::run_with_own_proc([&] {
    auto o = find_object(Kind::kChannel, name, own());
    if (!o) return 10;
    // Its pid means nothing in here, but its liveness token does: in use (it was "unknown" when
    // liveness came from /proc).
    if (o->state != State::kInUse) return 11;
    CleanFilter f;
    f.unused = true;
    if (clean_selects(*o, f, std::time(nullptr))) return 12;
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  producer.kill();
  ::shm_unlink(name.c_str());
}

TEST(Inventory, AbstractSocketIsInUseAndCannotBeRemoved) {
  // Named here, outside the namespace: the names carry this pid for the leak audit.
  const std::string name = test::unique_abstract_name();  // "@…"
  test::expect_in_own_proc([&] {
      HeldChild server([&] {
        const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path + 1, name.data() + 1, name.size() - 1);
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        return s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(s, 1) == 0;
      });
      ASSERT_TRUE(server.ok());
      Object o = must_find(Kind::kUnixSocket, name);
      EXPECT_EQ(o.state, State::kInUse);
      EXPECT_TRUE(held_by(o, server.pid()));
      EXPECT_TRUE(test::FailsWith(remove_object(o, {true}), {"abstract"}));
      server.kill();
      EXPECT_TRUE(test::FailsWith(find_object(Kind::kUnixSocket, name, own()), {"ENOENT"}));
  });
}

TEST(Inventory, SystemVSemaphoreSetIsIdleWithItsLastPid) {
  const int id = ::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  ASSERT_GE(id, 0);
  const pid_t child = test::spawn_child([&] {
    sembuf op{1, 1, 0};
    return ::semop(id, &op, 1) == 0 ? 0 : 1;
  });
  ASSERT_TRUE(test::wait_child(child).ok());
  Object o = must_find(Kind::kSysvSem, std::to_string(id));
  EXPECT_EQ(o.state, State::kIdle);
  EXPECT_EQ(o.size, 2u);
  EXPECT_NE(std::find(o.last_pids.begin(), o.last_pids.end(), child), o.last_pids.end());
  CleanFilter f;
  EXPECT_FALSE(clean_selects(o, f, std::time(nullptr)));
  f.idle = true;
  EXPECT_TRUE(clean_selects(o, f, std::time(nullptr)));
  IPCKIT_EXPECT_OK(remove_object(o, {}));
  EXPECT_TRUE(test::FailsWith(find_object(Kind::kSysvSem, std::to_string(id), own()), {"ENOENT"}));
}

TEST(Inventory, CleanSelectsOnlyWhatItsFiltersAllow) {
  Object o;
  o.kind = Kind::kPosixShm;
  o.name = "/app.x";
  o.owner = 1000;
  o.mtime = 1000;
  o.state = State::kOrphaned;
  CleanFilter f;
  EXPECT_TRUE(clean_selects(o, f, 5000));
  for (State never : {State::kInUse, State::kUnknown}) {
    Object n = o;
    n.state = never;
    CleanFilter all;
    all.unused = all.idle = all.force = true;
    EXPECT_FALSE(clean_selects(n, all, 5000)) << to_string(never);
  }
  o.state = State::kUnused;
  EXPECT_FALSE(clean_selects(o, f, 5000));
  f.unused = true;
  EXPECT_TRUE(clean_selects(o, f, 5000));
  f.older_than_s = 4001;
  EXPECT_FALSE(clean_selects(o, f, 5000));
  f.older_than_s = 4000;
  EXPECT_TRUE(clean_selects(o, f, 5000));
  f.user = 0;
  EXPECT_FALSE(clean_selects(o, f, 5000));
  f.user = 1000;
  f.name_glob = "/other.*";
  EXPECT_FALSE(clean_selects(o, f, 5000));
  f.name_glob = "/app.*";
  EXPECT_TRUE(clean_selects(o, f, 5000));
  f.kinds = {Kind::kFifo};
  EXPECT_FALSE(clean_selects(o, f, 5000));
  EXPECT_EQ(parse_kind("sysv-sem"), Kind::kSysvSem);
  EXPECT_FALSE(parse_kind("shm").has_value());
  EXPECT_EQ(parse_state("in-use"), State::kInUse);
}

}  // namespace
}  // namespace ipckit::inventory
