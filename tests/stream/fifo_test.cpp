// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/fifo.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"
#include "support/other_user.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Removes the FIFO (or whatever a test put there) at the end of the test.
struct PathGuard {
  std::string path;
  ~PathGuard() { ::unlink(path.c_str()); }
};

TEST(Fifo, CreateIs0600WhateverTheUmaskAndRemoveDeletesIt) {
  PathGuard g{test::unique_path()};
  const mode_t old = ::umask(0);  // a umask of 0 would leave mkfifo's mode wide open
  auto created = Fifo::create(g.path);
  ::umask(old);
  IPCKIT_ASSERT_OK(created);
  struct stat st {};
  ASSERT_EQ(::lstat(g.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Exclusive create again: EEXIST; open-or-create accepts the FIFO.
  EXPECT_TRUE(test::FailsWith(Fifo::create(g.path), {"mkfifo(\"" + g.path + "\")", "EEXIST", "already exists"}));
  IPCKIT_EXPECT_OK(Fifo::create(g.path, OpenMode::kOpenOrCreate));
  IPCKIT_ASSERT_OK(Fifo::remove(g.path));
  EXPECT_NE(::access(g.path.c_str(), F_OK), 0);
  IPCKIT_EXPECT_OK(Fifo::remove(g.path));  // missing is fine
}

TEST(Fifo, PathThatIsARegularFileIsNeitherReplacedNorRemoved) {
  PathGuard g{test::unique_path()};
  std::ofstream(g.path) << "precious";
  EXPECT_TRUE(test::FailsWith(Fifo::create(g.path, OpenMode::kOpenOrCreate),
                              {"mkfifo(\"" + g.path + "\")", "EEXIST", "is a regular file, not a FIFO"}));
  EXPECT_TRUE(test::FailsWith(Fifo::remove(g.path), {"unlink(\"" + g.path + "\")", "EINVAL", "regular file"}));
  EXPECT_TRUE(test::FailsWith(Fifo::open_reader(g.path), {"open(\"" + g.path + "\")", "EINVAL", "not a FIFO"}));
  std::ifstream in(g.path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(Fifo, MissingPathsNameTheCallAndThePath) {
  const std::string missing = test::unique_path();
  EXPECT_TRUE(test::FailsWith(Fifo::open_reader(missing), {"open(\"" + missing + "\")", "ENOENT", "create it first"}));
  EXPECT_TRUE(test::FailsWith(Fifo::try_open_writer(missing), {"open(\"" + missing + "\")", "ENOENT"}));
  EXPECT_TRUE(test::FailsWith(Fifo::create(""), {"mkfifo(\"\")", "empty path"}));
  const std::string in_missing_dir = test::unique_path() + "/fifo";
  EXPECT_TRUE(test::FailsWith(Fifo::create(in_missing_dir), {"mkfifo(\"" + in_missing_dir + "\")", "ENOENT"}));
}

TEST(Fifo, NonBlockingOpenForWriteWithNoReaderIsEnxioWithAdvice) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  EXPECT_TRUE(test::FailsWith(Fifo::try_open_writer(g.path),
                              {"open(\"" + g.path + "\")", "ENXIO", "no process has the FIFO open for reading"}));
  // With a reader present the same open succeeds.
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipeReader r, Fifo::try_open_reader(g.path));
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipeWriter w, Fifo::try_open_writer(g.path));
  IPCKIT_ASSERT_OK(w.write_all("x"));
}

TEST(Fifo, BlockingOpensMeetAcrossProcesses) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  const std::string path = g.path;
  const pid_t pid = test::spawn_child([path] {
    auto w = Fifo::open_writer(path);  // blocks until the parent opens for reading
    if (!w) return 2;
    auto r = w->write_all("ping over a FIFO");
    return (r && r->ok()) ? 0 : 3;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipeReader r, Fifo::open_reader(path));  // blocks until the child opens
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, r.read_to_end());
  EXPECT_EQ(got, "ping over a FIFO");
  EXPECT_TRUE(test::wait_child(pid).ok());
}

TEST(Fifo, WriterWithAGoneReaderSeesPeerClosed) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  auto child = test::run_in_child([&] {
    ::signal(SIGPIPE, SIG_DFL);
    auto r = Fifo::try_open_reader(g.path);
    if (!r) return 2;
    auto w = Fifo::try_open_writer(g.path);
    if (!w) return 3;
    (void)r->close();
    auto res = w->write_all("lost");
    return (res && res->status == IoStatus::kPeerClosed) ? 0 : 4;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

TEST(Fifo, OpenWriterUntilTimesOutWithoutReader) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto w, Fifo::open_writer_until(g.path, start + 40ms));
  EXPECT_FALSE(w.has_value());
  EXPECT_GE(Clock::now() - start, 40ms);
}

TEST(Fifo, OpenWriterUntilSucceedsOnceAReaderOpens) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  const std::string path = g.path;
  const pid_t pid = test::spawn_child([path] {
    auto r = Fifo::open_reader(path);
    if (!r) return 2;
    auto all = r->read_to_end();
    return (all && *all == "late reader") ? 0 : 3;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto w, Fifo::open_writer_until(path, deadline_after(10s)));
  ASSERT_TRUE(w.has_value());
  IPCKIT_ASSERT_OK(w->write_all("late reader"));
  (void)w->close();
  EXPECT_TRUE(test::wait_child(pid).ok());
}

TEST(Fifo, OpenReaderUntilTimesOutThenSeesAWritersData) {
  PathGuard g{test::unique_path()};
  IPCKIT_ASSERT_OK(Fifo::create(g.path));
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, Fifo::open_reader_until(g.path, start + 30ms));
  EXPECT_FALSE(none.has_value());
  EXPECT_GE(Clock::now() - start, 30ms);

  const std::string path = g.path;
  test::ReadyPipe go;
  const pid_t pid = test::spawn_child([&go, path] {
    if (!go.wait(deadline_after(10s))) return 2;
    auto w = Fifo::open_writer_until(path, deadline_after(10s));
    if (!w || !*w) return 3;
    auto r = (*w)->write_all("hello");
    return (r && r->ok()) ? 0 : 4;
  });
  go.signal();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto reader, Fifo::open_reader_until(path, deadline_after(10s)));
  ASSERT_TRUE(reader.has_value());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, reader->read_to_end());
  EXPECT_EQ(got, "hello");
  EXPECT_TRUE(test::wait_child(pid).ok());
}


TEST(Fifo, FifoWithAWiderModeThanAskedIsRefused) {
  const std::string path = test::unique_path();
  IPCKIT_ASSERT_OK(Fifo::create(path, OpenMode::kCreateExclusive, 0622));
  EXPECT_TRUE(test::FailsWith(Fifo::try_open_reader(path),
                              {"open(\"" + path + "\"): untrusted", "mode 0622 is wider than the 0600"}));
  IPCKIT_EXPECT_OK(Fifo::try_open_reader(path, FifoOpenOptions{0622}));
  IPCKIT_EXPECT_OK(Fifo::remove(path));
}

TEST(Fifo, SymbolicLinkToAFifoIsNotFollowed) {
  const std::string path = test::unique_path();
  const std::string link = test::unique_path();
  IPCKIT_ASSERT_OK(Fifo::create(path));
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_TRUE(test::FailsWith(Fifo::try_open_reader(link), {"the path is a symbolic link, not a FIFO"}));
  ::unlink(link.c_str());
  IPCKIT_EXPECT_OK(Fifo::remove(path));
}

TEST(Fifo, FifoOfAnotherUserIsRefusedUnlessAllowListed) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to create a FIFO as another user (setresuid)";
  const std::string path = test::unique_path();
  auto made = test::run_as_nobody([&] { return Fifo::create(path, OpenMode::kCreateExclusive, 0666) ? 0 : 2; });
  ASSERT_TRUE(made.ok()) << made.describe();
  FifoOpenOptions o{0666};
  auto refused = Fifo::try_open_reader(path, o);
  EXPECT_TRUE(test::FailsWith(refused, {"open(\"" + path + "\"): untrusted", "owned by uid 65534", "mode 0666"}));
  o.trust.allowed_uids = {test::kNobodyUid};
  IPCKIT_EXPECT_OK(Fifo::try_open_reader(path, o));
  IPCKIT_EXPECT_OK(Fifo::remove(path));
}

}  // namespace
}  // namespace ipckit
