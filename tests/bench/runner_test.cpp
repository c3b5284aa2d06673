// SPDX-License-Identifier: Apache-2.0
// The runner with several processes per side: one child per producer and per consumer, each told
// its index and the run's processes, pinned round robin, its failure named; and check_delivery(),
// which finds frames lost, received twice, or a loss hidden by a duplicate.
#include <sched.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/bench.hpp"
#include "engine/runner.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

// Each child reports what it was told and where it runs: msgs_total = index + 1, lost = producers *
// 100 + consumers, digest = the one CPU it is pinned to. A receiver whose index is `fail_receiver`
// fails in prepare().
class ProbeSession final : public Session {
 public:
  explicit ProbeSession(int fail_receiver) : fail_receiver_(fail_receiver) {}
  Result<void> prepare(Role role) override {
    role_ = role;
    return {};
  }
  Result<void> run(Role role, const RunContext& ctx, SideStats& stats) override {
    if (role != role_) return fail_library(LibraryCode::kInvalidArgument, "run", "probe", "role changed");
    if (role == Role::kReceiver && ctx.index == fail_receiver_) {
      return fail_library(LibraryCode::kInvalidArgument, "probe", "receiver", "told to fail");
    }
    stats.msgs_total = static_cast<std::uint64_t>(ctx.index) + 1;
    stats.lost = static_cast<std::uint64_t>(ctx.procs.producers * 100 + ctx.procs.consumers);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return {};
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) stats.digest = static_cast<std::uint64_t>(i);
    }
    return {};
  }

 private:
  int fail_receiver_;
  Role role_ = Role::kSender;
};

class ProbeMechanism final : public Mechanism {
 public:
  ProbeMechanism(Procs procs, int fail_receiver) : procs_(procs), fail_receiver_(fail_receiver) {}
  std::string_view name() const noexcept override { return "probe"; }
  std::string_view description() const noexcept override { return "test"; }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  Procs procs() const noexcept override { return procs_; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    return std::unique_ptr<Session>(std::make_unique<ProbeSession>(fail_receiver_));
  }

 private:
  Procs procs_;
  int fail_receiver_;
};

RunConfig config(const Mechanism& m, const std::vector<int>& cpus) {
  RunConfig c;
  c.mechanism = &m;
  c.cpu_sender = cpus[0];
  c.cpu_receiver = cpus.size() > 1 ? cpus[1] : cpus[0];
  c.spare_cpus.assign(cpus.begin() + std::min<std::size_t>(2, cpus.size()), cpus.end());
  c.duration_ns = 1'000'000;
  return c;
}

TEST(BenchRunner, OneChildPerProducerAndConsumerTaughtItsIndexAndPinnedRoundRobin) {
  const auto cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const ProbeMechanism m({3, 5}, -1);
  auto out = run_once(config(m, cpus));
  ASSERT_TRUE(out) << out.error().str();
  ASSERT_TRUE(out->error.empty()) << out->error;
  ASSERT_EQ(out->senders.size(), 3u);
  ASSERT_EQ(out->receivers.size(), 5u);
  // Start order: s0 r0 s1 r1 s2 r2 r3 r4, round robin over sender CPU, receiver CPU, the others.
  std::vector<int> order{cpus[0]};
  if (cpus.size() > 1) order.push_back(cpus[1]);
  for (std::size_t i = 2; i < cpus.size(); ++i) order.push_back(cpus[i]);
  const std::vector<std::pair<bool, int>> start = {{true, 0},  {false, 0}, {true, 1},  {false, 1},
                                                   {true, 2},  {false, 2}, {false, 3}, {false, 4}};
  for (std::size_t k = 0; k < start.size(); ++k) {
    const auto [sender, index] = start[k];
    SCOPED_TRACE(std::string(sender ? "sender " : "receiver ") + std::to_string(index));
    const SideStats& s = sender ? out->senders[static_cast<std::size_t>(index)]
                                : out->receivers[static_cast<std::size_t>(index)];
    EXPECT_EQ(s.msgs_total, static_cast<std::uint64_t>(index) + 1);
    EXPECT_EQ(s.lost, 305u);
    EXPECT_EQ(s.digest, static_cast<std::uint64_t>(order[k % order.size()]));
    EXPECT_FALSE(s.failed);
  }
}

TEST(BenchRunner, AFailingReceiverIsNamedByItsIndex) {
  const auto cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const ProbeMechanism m({2, 4}, 2);
  auto out = run_once(config(m, cpus));
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_EQ(out->error.rfind("receiver 2: ", 0), 0u) << out->error;
  EXPECT_NE(out->error.find("told to fail"), std::string::npos) << out->error;
}

TEST(BenchRunner, MoreProcessesThanTheBenchRunsIsAnErrorNotACrash) {
  const auto cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const ProbeMechanism m({1, kMaxSideProcs + 1}, -1);
  auto out = run_once(config(m, cpus));
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_NE(out->error.find("1..8 per side"), std::string::npos) << out->error;
}

SideStats side(std::uint64_t msgs, std::initializer_list<std::uint64_t> seqs) {
  SideStats s;
  s.msgs_total = msgs;
  for (auto q : seqs) s.digest += frame_digest(q);
  return s;
}

TEST(BenchRunner, CheckDeliveryFindsLossesDuplicatesAndALossHiddenByADuplicate) {
  RunOutcome o;
  o.senders = {side(2, {0, 1}), side(2, {10, 11})};
  std::string problem;
  // Exactly what was sent, split over two consumers.
  o.receivers = {side(3, {0, 10, 11}), side(1, {1})};
  EXPECT_EQ(check_delivery(o, Delivery::kOne, problem), 0u);
  EXPECT_EQ(problem, "");
  // One frame lost.
  o.receivers = {side(2, {0, 10}), side(1, {1})};
  EXPECT_EQ(check_delivery(o, Delivery::kOne, problem), 1u);
  // One frame twice.
  o.receivers = {side(3, {0, 10, 11}), side(2, {1, 11})};
  EXPECT_EQ(check_delivery(o, Delivery::kOne, problem), 0u);
  EXPECT_NE(problem.find("1 frames received more than sent"), std::string::npos) << problem;
  // Frame 1 lost and frame 11 twice: the counts agree, the digests do not.
  problem.clear();
  o.receivers = {side(3, {0, 10, 11}), side(1, {11})};
  EXPECT_EQ(check_delivery(o, Delivery::kOne, problem), 0u);
  EXPECT_NE(problem.find("lost and duplicated"), std::string::npos) << problem;
  // Broadcast: every subscriber must have every frame.
  problem.clear();
  o.senders = {side(5, {})};
  o.receivers = {side(5, {}), side(3, {}), side(5, {})};
  EXPECT_EQ(check_delivery(o, Delivery::kEach, problem), 2u);
  EXPECT_EQ(problem, "");
  o.receivers = {side(6, {})};
  EXPECT_EQ(check_delivery(o, Delivery::kEach, problem), 0u);
  EXPECT_NE(problem.find("1 more than sent"), std::string::npos) << problem;
}

}  // namespace
}  // namespace ipckit::bench
