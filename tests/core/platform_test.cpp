// SPDX-License-Identifier: Apache-2.0
// ipckit-test: tsan
#include "ipckit/core/platform.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

TEST(Platform, RunningKernelIsAtLeastTheMinimum) {
  const KernelVersion v = running_kernel();
  EXPECT_GE(v, kMinimumKernel) << to_string(v);
  EXPECT_EQ(to_string(KernelVersion{5, 10, 3}), "5.10.3");
}

TEST(Platform, FeaturesOfThisKernelAreDetected) {
  // Every feature whose introducing version is <= the running kernel must probe as present: the
  // probes make the real calls, so a broken probe fails here.
  const KernelVersion v = running_kernel();
  for (Feature f : {Feature::kMemfd, Feature::kMemfdSeals, Feature::kSealFutureWrite, Feature::kOfdLocks,
                    Feature::kPidfd, Feature::kCloseRange, Feature::kFutex, Feature::kEventfd}) {
    if (introduced_in(f) <= v) {
      EXPECT_TRUE(has_feature(f)) << feature_name(f);
      IPCKIT_EXPECT_OK(require_feature(f));
    }
  }
}

TEST(Platform, ConcurrentProbesAgree) {
  std::vector<std::thread> threads;
  std::vector<int> answers(8, -1);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&answers, i] { answers[static_cast<std::size_t>(i)] = has_feature(Feature::kPidfd) ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  for (int a : answers) EXPECT_EQ(a, answers[0]);
}

}  // namespace
}  // namespace ipckit
