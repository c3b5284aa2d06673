// SPDX-License-Identifier: Apache-2.0
// splice/vmsplice (stream/splice.hpp): bytes moved between a file, pipes and another process intact;
// end of stream, a gone reader and a deadline reported as statuses; non-pipe pairs a clear error.
#include "ipckit/stream/splice.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/sigpipe.hpp"
#include "ipckit/stream/pipe.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + (i >> 12));
  return s;
}

UniqueFd temp_file(const std::string& contents) {
  UniqueFd fd(::memfd_create("ipckit-splice-test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(::write(fd.get(), contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

TEST(Splice, FileThroughAPipeToAnotherProcessArrivesIntact) {
  const std::string data = pattern(test::scaled(2) << 20);
  UniqueFd file = temp_file(data);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  const pid_t pid = test::spawn_child([&] {
    (void)p.reader.close();
    auto r = splice_exact(file.get(), p.writer.native_handle(), data.size());
    return (r && r->status == IoStatus::kOk && r->bytes == data.size()) ? 0 : 2;
  });
  (void)p.writer.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, p.reader.read_to_end(data.size() + 1));
  EXPECT_TRUE(test::wait_child(pid).ok());
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST(Splice, PipeToFileMovesExactlyTheCountThenSeesEndOfStream) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK(p.writer.write_all("hello, splice"));
  (void)p.writer.close();
  UniqueFd out(::memfd_create("ipckit-splice-out", MFD_CLOEXEC));
  ASSERT_TRUE(out.valid());
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, splice_exact(p.reader.native_handle(), out.get(), 100));
  EXPECT_EQ(r.status, IoStatus::kEndOfStream);
  EXPECT_EQ(r.bytes, 13u);
  std::string back(13, '\0');
  EXPECT_EQ(::pread(out.get(), back.data(), back.size(), 0), 13);
  EXPECT_EQ(back, "hello, splice");
}

TEST(Splice, EmptyPipeTimesOutAtTheDeadline) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair a, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair b, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(
      IoResult r, splice_some(a.reader.native_handle(), b.writer.native_handle(), 4096,
                              deadline_after(std::chrono::milliseconds(30))));
  EXPECT_EQ(r.status, IoStatus::kTimedOut);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(Splice, OutputPipeWithoutReaderIsPeerClosed) {
  SigpipeBlock guard;  // the caller's duty (splice.hpp), as for write_full
  UniqueFd file = temp_file("data");
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  (void)p.reader.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, splice_some(file.get(), p.writer.native_handle(), 4));
  EXPECT_EQ(r.status, IoStatus::kPeerClosed);
}

TEST(Splice, NoPipeOnEitherSideIsAnErrorSayingOneMustBe) {
  UniqueFd a = temp_file("x");
  UniqueFd b(::memfd_create("ipckit-splice-b", MFD_CLOEXEC));
  auto r = splice_some(a.get(), b.get(), 1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EINVAL)) << r.error().str();
  EXPECT_NE(r.error().str().find("one end must be a pipe"), std::string::npos) << r.error().str();
}

TEST(Vmsplice, PagesLargerThanThePipeReachAnotherProcessIntact) {
  const std::string data = pattern(test::scaled(4) << 20);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  const pid_t pid = test::spawn_child([&] {
    (void)p.reader.close();
    // `data` is not changed while the pipe refers to it (the rule in splice.hpp).
    auto r = vmsplice_all(p.writer, as_bytes(data));
    return (r && r->status == IoStatus::kOk && r->bytes == data.size()) ? 0 : 2;
  });
  (void)p.writer.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, p.reader.read_to_end(data.size() + 1));
  EXPECT_TRUE(test::wait_child(pid).ok());
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST(Vmsplice, FullPipeTimesOutWithTheCountSoFar) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::size_t capacity, p.writer.capacity());
  const std::string data = pattern(4 * capacity);
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, vmsplice_all(p.writer, as_bytes(data),
                                                       deadline_after(std::chrono::milliseconds(30))));
  EXPECT_EQ(r.status, IoStatus::kTimedOut);
  EXPECT_GT(r.bytes, 0u);
  EXPECT_LE(r.bytes, capacity);
}

TEST(Vmsplice, ClosedWriterIsAnErrorNamingThePipe) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  (void)p.writer.close();
  auto r = vmsplice_all(p.writer, as_bytes(std::string_view("x")));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(EBADF)) << r.error().str();
  EXPECT_NE(r.error().str().find("\"pipe\""), std::string::npos) << r.error().str();
}

TEST(Vmsplice, ReaderGoneIsPeerClosed) {
  SigpipeBlock guard;
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair p, Pipe::create());
  (void)p.reader.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, vmsplice_all(p.writer, as_bytes(std::string_view("x"))));
  EXPECT_EQ(r.status, IoStatus::kPeerClosed);
}

}  // namespace
}  // namespace ipckit
