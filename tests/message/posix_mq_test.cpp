// SPDX-License-Identifier: Apache-2.0
// ipckit-test: resource-lock mqueue
// POSIX message queues: two processes, priorities, the three forms of each verb, attributes, epoll
// on the descriptor, listing. Small attributes throughout: RLIMIT_MSGQUEUE is per user.
#include "ipckit/message/posix_mq.hpp"

#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

// Opens a queue that must exist (the default OpenMode is kCreateExclusive).
MqOptions existing_opts() {
  MqOptions o;
  o.open = OpenMode::kOpenExisting;
  return o;
}

using namespace std::chrono_literals;

MqOptions create_opts(long max_messages = 4, long message_size = 64) {
  MqOptions o;
  o.open = OpenMode::kCreateExclusive;
  o.attributes = {max_messages, message_size};
  return o;
}

MqOptions writer_opts() {
  MqOptions o;
  o.open = OpenMode::kOpenExisting;
  o.access = O_WRONLY;
  return o;
}

// Unlinks the queue when the test ends, pass or fail.
struct Unlinker {
  std::string name;
  ~Unlinker() { (void)PosixMq::unlink(name); }
};

TEST(PosixMq, TwoProcessesExchangeMessagesInOrder) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts()));
  Unlinker u{name};
  const std::size_t count = test::scaled(200);
  const pid_t child = test::spawn_child([&]() -> int {
    auto w = PosixMq::open(name, writer_opts());
    if (!w) return 1;
    for (std::size_t i = 0; i < count; ++i) {
      if (!w->send(as_bytes("msg " + std::to_string(i)))) return 2;  // blocks while the queue is full
    }
    return 0;
  });
  for (std::size_t i = 0; i < count; ++i) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage m, q.receive());
    ASSERT_EQ(m.data, "msg " + std::to_string(i));
  }
  EXPECT_TRUE(test::wait_child(child).ok());
}

TEST(PosixMq, HighestPriorityFirstFifoWithinPriority) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts(8, 16)));
  Unlinker u{name};
  const std::pair<const char*, unsigned> sent[] = {{"low-a", 1}, {"high", 30000}, {"mid", 7}, {"low-b", 1}, {"zero", 0}};
  for (auto [text, prio] : sent) IPCKIT_ASSERT_OK(q.send(as_bytes(text), prio));
  const std::pair<std::string, unsigned> expected[] = {{"high", 30000}, {"mid", 7}, {"low-a", 1}, {"low-b", 1}, {"zero", 0}};
  for (const auto& [text, prio] : expected) {
    IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, q.try_receive());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->data, text);
    EXPECT_EQ(m->priority, prio);
  }
  EXPECT_TRUE(test::FailsWith(q.send(as_bytes("x"), kMqPriorityLimit), {"mq_send(\"" + name + "\")", "EINVAL",
                                                                        "priority 32768 >= MQ_PRIO_MAX (32768)"}));
}

TEST(PosixMq, CreateIsExclusiveWithExactPermissions) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts()));
  Unlinker u{name};
  struct stat st{};
  ASSERT_EQ(::fstat(q.native_handle(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::fcntl(q.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_TRUE(test::FailsWith(PosixMq::open(name, create_opts()), {"mq_open(\"" + name + "\"): EEXIST", "kOpenExisting"}));
  // kOpenOrCreate opens the existing queue, keeping its attributes.
  MqOptions either = create_opts(2, 8);
  either.open = OpenMode::kOpenOrCreate;
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq again, PosixMq::open(name, either));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqState s, again.state());
  EXPECT_EQ(s.max_messages, 4);
  EXPECT_EQ(s.message_size, 64);
  IPCKIT_ASSERT_OK(PosixMq::unlink(name));
  EXPECT_TRUE(test::FailsWith(PosixMq::open(name, existing_opts()),
                              {"mq_open(\"" + name + "\"): ENOENT", "kOpenOrCreate"}));
  EXPECT_TRUE(test::FailsWith(PosixMq::open("jobs"), {"mq_open(\"jobs\")", "must start with '/'"}));
  u.name = test::unique_name();  // already unlinked
}

// The default OpenMode is kCreateExclusive, as for every named type in ipckit (docs/errors.md): a
// default open creates a new queue, and a second default open of the same name is EEXIST.
TEST(PosixMq, DefaultOpenModeCreatesExclusively) {
  const std::string name = test::unique_name();
  EXPECT_EQ(MqOptions{}.open, OpenMode::kCreateExclusive);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name));
  Unlinker u{name};
  EXPECT_TRUE(test::FailsWith(PosixMq::open(name), {"mq_open(\"" + name + "\"): EEXIST"}));
}

TEST(PosixMq, UnlinkedQueueKeepsWorkingForHolders) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts()));
  IPCKIT_ASSERT_OK(PosixMq::unlink(name));
  IPCKIT_ASSERT_OK(q.send(as_bytes("still here")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage m, q.receive());
  EXPECT_EQ(m.data, "still here");
  EXPECT_TRUE(test::FailsWith(PosixMq::unlink(name), {"mq_unlink(\"" + name + "\"): ENOENT"}));
}

TEST(PosixMq, FullAndEmptyAreValuesInEveryForm) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts(2, 16)));
  Unlinker u{name};
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, q.try_receive());
  EXPECT_FALSE(none.has_value());
  auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto late, q.receive_until(deadline_after(30ms)));
  EXPECT_FALSE(late.has_value());
  EXPECT_EQ(late.status, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus a, q.try_send(as_bytes("1")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus b, q.try_send(as_bytes("2")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus c, q.try_send(as_bytes("3")));
  EXPECT_EQ(a, IoStatus::kOk);
  EXPECT_EQ(b, IoStatus::kOk);
  EXPECT_EQ(c, IoStatus::kWouldBlock);
  start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus d, q.send_until(as_bytes("4"), 0, deadline_after(30ms)));
  EXPECT_EQ(d, IoStatus::kTimedOut);
  EXPECT_GE(Clock::now() - start, 30ms);
  // The same on a non-blocking descriptor (mq_setattr), where the kernel answers EAGAIN instead.
  IPCKIT_ASSERT_OK(q.set_nonblocking(true));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqState s, q.state());
  EXPECT_TRUE(s.nonblocking);
  EXPECT_EQ(s.current_messages, 2);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoStatus e, q.send_until(as_bytes("5"), 0, deadline_after(20ms)));
  EXPECT_EQ(e, IoStatus::kTimedOut);
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage m1, q.receive());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m2, q.receive_until(deadline_after(1s)));
  ASSERT_TRUE(m2.has_value());
  EXPECT_EQ(m1.data + m2->data, "12");
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m3, q.try_receive());
  EXPECT_FALSE(m3.has_value());
  EXPECT_EQ(m3.status, IoStatus::kWouldBlock);
  IPCKIT_ASSERT_OK(q.set_nonblocking(false));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqState s2, q.state());
  EXPECT_FALSE(s2.nonblocking);
  // O_NONBLOCK at open is per descriptor: this one is non-blocking, q stays blocking.
  MqOptions nb;
  nb.open = OpenMode::kOpenExisting;
  nb.nonblocking = true;
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq other, PosixMq::open(name, nb));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqState s3, other.state());
  EXPECT_TRUE(s3.nonblocking);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m4, other.receive_until(deadline_after(10ms)));
  EXPECT_FALSE(m4.has_value());
  IPCKIT_ASSERT_OK(q.send(as_bytes("z")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage m5, other.receive());  // blocks in poll(), not in the kernel
  EXPECT_EQ(m5.data, "z");
}

TEST(PosixMq, ReceiveBufferComesFromAttributesAndOversizeSendIsNamed) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts(2, 100)));
  Unlinker u{name};
  const std::string full(100, 'f');
  IPCKIT_ASSERT_OK(q.send(as_bytes(full)));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage m, q.receive());
  EXPECT_EQ(m.data, full);
  EXPECT_TRUE(test::FailsWith(q.send(as_bytes(std::string(101, 'x'))),
                              {"mq_send(\"" + name + "\"): EMSGSIZE: message of 101 bytes > this queue's "
                                                     "message_size (100)"}));
  // Zero-length messages are messages.
  IPCKIT_ASSERT_OK(q.send({}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(MqMessage empty, q.receive());
  EXPECT_TRUE(empty.data.empty());
}

TEST(PosixMq, EpollOnTheQueueDescriptor) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts()));
  Unlinker u{name};
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.valid());
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 42;
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, q.native_handle(), &ev), 0);
  epoll_event out{};
  EXPECT_EQ(::epoll_wait(ep.get(), &out, 1, 0), 0);  // empty: not readable
  test::ReadyPipe go;
  const pid_t child = test::spawn_child([&]() -> int {
    if (!go.wait(deadline_after(10s))) return 1;
    auto w = PosixMq::open(name, writer_opts());
    return w && w->send(as_bytes("wake"), 3) ? 0 : 2;
  });
  go.signal();
  int n;
  while ((n = ::epoll_wait(ep.get(), &out, 1, 10000)) < 0 && errno == EINTR) {
  }
  ASSERT_EQ(n, 1);
  EXPECT_EQ(out.data.u64, 42u);
  EXPECT_TRUE(out.events & EPOLLIN);
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto m, q.try_receive());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data, "wake");
  EXPECT_EQ(m->priority, 3u);
  EXPECT_EQ(::epoll_wait(ep.get(), &out, 1, 0), 0);  // drained: level-triggered readiness is gone
  EXPECT_TRUE(test::wait_child(child).ok());
}

TEST(PosixMq, ListFindsTheQueue) {
  const std::string name = test::unique_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq q, PosixMq::open(name, create_opts()));
  Unlinker u{name};
  auto names = PosixMq::list();
  if (!names && !test::is_root()) {
    EXPECT_TRUE(test::FailsWith(names, {"mount -t mqueue"}));
    GTEST_SKIP() << "listing without a mounted /dev/mqueue needs root (mount namespace): " << names.error().str();
  }
  ASSERT_TRUE(names.has_value()) << names.error().str();
  EXPECT_NE(std::find(names->begin(), names->end(), name), names->end());
}


TEST(PosixMq, QueueWithAWiderModeThanAskedIsRefused) {
  const std::string name = test::unique_name();
  Unlinker u{name};
  auto c = create_opts();
  c.mode = 0622;
  IPCKIT_ASSERT_OK_AND_ASSIGN(PosixMq created, PosixMq::open(name, c));
  EXPECT_TRUE(test::FailsWith(PosixMq::open(name, writer_opts()),
                              {"mq_open(\"" + name + "\"): untrusted", "mode 0622 is wider than the 0600"}));
  auto o = writer_opts();
  o.mode = 0622;
  IPCKIT_EXPECT_OK(PosixMq::open(name, o));
}

TEST(PosixMq, QueueOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a queue as another user (setresuid)";
  const std::string name = test::unique_name();
  Unlinker u{name};
  auto made = test::run_as_nobody([&] {
    auto c = create_opts();
    c.mode = 0666;
    return PosixMq::open(name, c) ? 0 : 2;
  });
  ASSERT_TRUE(made.ok()) << made.describe();
  auto o = writer_opts();
  o.mode = 0666;
  auto refused = PosixMq::open(name, o);
  EXPECT_TRUE(test::FailsWith(refused, {"mq_open(\"" + name + "\"): untrusted", "owned by uid 65534", "mode 0666"}));
  o.open = OpenMode::kOpenOrCreate;
  EXPECT_TRUE(test::FailsWith(PosixMq::open(name, o), {"owned by uid 65534"}));
  o.trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_EXPECT_OK(PosixMq::open(name, o));
}

}  // namespace
}  // namespace ipckit
