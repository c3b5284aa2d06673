// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/file/append_log.hpp"
#include "ipckit/file/atomic_file.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Version v of the published file: a header line naming v and its length, then a body whose every
// byte is derived from v. Lengths differ between versions so a mix of two is always detectable.
std::string version(std::uint64_t v) {
  const std::size_t len = 1000 + (v % 7) * 9000;
  std::string body(len, static_cast<char>('a' + v % 26));
  return fmt::format("v={} len={}\n", v, len) + body;
}

bool is_whole_version(const std::string& text) {
  std::uint64_t v = 0;
  std::size_t len = 0;
  if (std::sscanf(text.c_str(), "v=%lu len=%zu\n", &v, &len) != 2) return false;
  return text == version(v) && text.size() > len;
}

TEST(AtomicReplace, ConcurrentReaderSeesOnlyWholeVersions) {
  test::TempDir dir;
  const std::string path = dir.file("published");
  IPCKIT_ASSERT_OK(atomic_replace(path, as_bytes(version(0))));
  const std::size_t versions = test::scaled(300);
  test::ReadyPipe started;
  const pid_t reader = test::spawn_child([&] {
    started.signal();
    std::uint64_t last = 0;
    std::size_t reads = 0;
    const auto give_up = deadline_after(60s);  // the writer failed: do not spin forever
    while (Clock::now() < give_up) {
      auto text = read_file(path);
      if (!text) return 2;  // the path must never be missing: rename replaces it in one step
      if (!is_whole_version(*text)) {
        std::fprintf(stderr, "torn read of %zu bytes: %.40s\n", text->size(), text->c_str());
        return 3;
      }
      std::uint64_t v = 0;
      (void)std::sscanf(text->c_str(), "v=%lu", &v);
      if (v < last) return 4;  // versions never go backwards for one reader
      last = v;
      ++reads;
      if (v + 1 == versions) return reads > 0 ? 0 : 5;
    }
    return 6;
  });
  ASSERT_TRUE(started.wait(deadline_after(10s)));
  // sync=false keeps the test fast; atomicity comes from rename, durability from the fsyncs.
  for (std::uint64_t v = 1; v < versions; ++v) {
    IPCKIT_ASSERT_OK(atomic_replace(path, as_bytes(version(v)), ReplaceOptions{0640, v % 50 == 0}));
  }
  auto r = test::wait_child(reader);
  EXPECT_TRUE(r.ok()) << r.describe();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "the mode is exactly what was asked, umask or not";
}

TEST(AtomicReplace, FailureLeavesTheTargetAndNoTemporary) {
  test::TempDir dir;
  const std::string path = dir.file("kept");
  IPCKIT_ASSERT_OK(atomic_replace(path, as_bytes(std::string("old"))));
  // A directory in the way of the rename: EISDIR, and the temporary is removed.
  const std::string blocked = dir.file("subdir");
  ASSERT_EQ(::mkdir(blocked.c_str(), 0700), 0);
  EXPECT_TRUE(test::FailsWith(atomic_replace(blocked, as_bytes(std::string("new"))), {"rename(\"" + blocked + "\")", "EISDIR"}));
  EXPECT_TRUE(test::FailsWith(atomic_replace(dir.file("missing/x"), as_bytes(std::string("new"))), {"mkostemp", "ENOENT"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string text, read_file(path));
  EXPECT_EQ(text, "old");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 2u) << "only 'kept' and 'subdir': no stale temporary";
}

TEST(AppendLog, SeveralWriterProcessesNeverInterleave) {
  test::TempDir dir;
  const std::string path = dir.file("log");
  constexpr int kWriters = 4;
  const std::size_t per = test::scaled(400);
  pid_t pids[kWriters];
  for (int w = 0; w < kWriters; ++w) {
    pids[w] = test::spawn_child([&, w] {
      auto log = AppendLog::open(path, OpenMode::kOpenOrCreate);
      if (!log) return 2;
      for (std::size_t i = 0; i < per; ++i) {
        // Mostly small records (one write under a shared lock); every 10th is 3x the atomic size
        // (several writes possible, exclusive lock).
        const std::size_t len = i % 10 == 9 ? 3 * AppendLog::kAtomicRecordMax : 16 + (i * 37) % 1500;
        std::string rec = fmt::format("{}:{}:", w, i);
        rec.resize(len, static_cast<char>('A' + w));
        if (!log->append(rec)) return 3;
      }
      return 0;
    });
  }
  for (pid_t pid : pids) {
    auto r = test::wait_child(pid);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(LogContents contents, read_log(path));
  EXPECT_FALSE(contents.torn_tail);
  ASSERT_EQ(contents.records.size(), kWriters * per);
  std::map<int, std::size_t> next;  // each writer's records appear whole and in its own order
  for (const auto& rec : contents.records) {
    int w = -1;
    std::size_t i = 0;
    ASSERT_EQ(std::sscanf(rec.c_str(), "%d:%zu:", &w, &i), 2) << rec.substr(0, 40);
    ASSERT_TRUE(w >= 0 && w < kWriters);
    EXPECT_EQ(i, next[w]++) << "writer " << w;
    const std::string prefix = fmt::format("{}:{}:", w, i);
    ASSERT_EQ(rec.find_first_not_of(static_cast<char>('A' + w), prefix.size()), std::string::npos)
        << "another record's bytes inside writer " << w << "'s record " << i;
  }
}

TEST(AppendLog, TornTailAndForeignFilesAreReported) {
  test::TempDir dir;
  const std::string path = dir.file("log");
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(AppendLog log, AppendLog::open(path, OpenMode::kCreateExclusive));
    IPCKIT_ASSERT_OK(log.append(std::string_view("one")));
    IPCKIT_ASSERT_OK(log.append(std::string_view("")));
    EXPECT_TRUE(test::FailsWith(AppendLog::open(path, OpenMode::kCreateExclusive), {"EEXIST"}));
    // A writer that died mid-record: a header promising more bytes than follow.
    const std::uint32_t hdr[2] = {AppendLog::kMagic, 100};
    ASSERT_EQ(::write(log.native_handle(), hdr, sizeof hdr), static_cast<ssize_t>(sizeof hdr));
    ASSERT_EQ(::write(log.native_handle(), "abc", 3), 3);
  }
  IPCKIT_ASSERT_OK_AND_ASSIGN(LogContents c, read_log(path));
  EXPECT_TRUE(c.torn_tail);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0], "one");
  EXPECT_EQ(c.records[1], "");

  const std::string foreign = dir.file("foreign");
  IPCKIT_ASSERT_OK(atomic_replace(foreign, as_bytes(std::string("not a log at all"))));
  EXPECT_TRUE(test::FailsWith(read_log(foreign), {"read_log(\"" + foreign + "\"): corrupt: bad record header at offset 0"}));
  EXPECT_TRUE(test::FailsWith(AppendLog::open(dir.file("none"), OpenMode::kOpenExisting), {"open(", "ENOENT"}));
}

}  // namespace
}  // namespace ipckit
