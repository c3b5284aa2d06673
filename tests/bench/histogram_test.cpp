// SPDX-License-Identifier: Apache-2.0
// The latency histogram: bucket bounds, percentiles against known distributions within 1%, and the
// sample counts below which a percentile is not reported.
#include "engine/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

double exact_quantile(std::vector<std::uint64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

void expect_within_one_percent(const std::vector<std::uint64_t>& samples) {
  Histogram h;
  for (auto v : samples) h.record(v);
  std::vector<std::uint64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = exact_quantile(sorted, q);
    const auto got = h.percentile(q);
    ASSERT_TRUE(got.has_value());
    EXPECT_LE(std::abs(*got - exact), 0.01 * exact) << "q=" << q << " exact=" << exact << " got=" << *got;
  }
  EXPECT_EQ(h.count(), samples.size());
  EXPECT_EQ(h.max(), sorted.back());
  EXPECT_EQ(h.min(), sorted.front());
}

TEST(Histogram, BucketsCoverEveryValueAndAreAtMostOnePercentWide) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    const int bits = static_cast<int>(rng() % 64);
    const std::uint64_t v = rng() >> bits;
    const std::size_t b = Histogram::bucket_of(v);
    ASSERT_LT(b, Histogram::kBuckets);
    const std::uint64_t lo = Histogram::bucket_lower(b);
    const std::uint64_t w = Histogram::bucket_width(b);
    ASSERT_LE(lo, v);
    ASSERT_LE(v - lo, w - 1);
    ASSERT_LE(static_cast<double>(w - 1), 0.01 * static_cast<double>(lo) + 1e-9) << v;
  }
  EXPECT_LT(Histogram::bucket_of(UINT64_MAX), Histogram::kBuckets);
  // Consecutive buckets tile the number line.
  for (std::size_t b = 1; b < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::bucket_lower(b - 1) + Histogram::bucket_width(b - 1), Histogram::bucket_lower(b)) << b;
  }
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < 256; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5).value(), 127);
  EXPECT_EQ(h.percentile(1.0).value(), 255);
  EXPECT_EQ(h.percentile(0.0).value(), 0);
}

TEST(Histogram, UniformPercentilesWithinOnePercent) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> dist(1000, 1'000'000);
  std::vector<std::uint64_t> samples(test::scaled(400000));
  for (auto& v : samples) v = dist(rng);
  expect_within_one_percent(samples);
}

TEST(Histogram, ExponentialPercentilesWithinOnePercent) {
  std::mt19937_64 rng(9);
  std::exponential_distribution<double> dist(1.0 / 50000.0);  // mean 50 us, long tail
  std::vector<std::uint64_t> samples(test::scaled(400000));
  for (auto& v : samples) v = static_cast<std::uint64_t>(dist(rng)) + 300;
  expect_within_one_percent(samples);
}

TEST(Histogram, PercentileNeedsTenOverOneMinusQSamples) {
  EXPECT_EQ(Histogram::samples_needed(0.5), 20u);
  EXPECT_EQ(Histogram::samples_needed(0.9), 100u);
  EXPECT_EQ(Histogram::samples_needed(0.99), 1000u);
  EXPECT_EQ(Histogram::samples_needed(0.999), 10000u);
  Histogram h;
  for (int i = 0; i < 19; ++i) h.record(1000);
  EXPECT_FALSE(h.reported_percentile(0.5).has_value());
  h.record(1000);
  EXPECT_TRUE(h.reported_percentile(0.5).has_value());
  EXPECT_FALSE(h.reported_percentile(0.9).has_value());
  for (int i = 0; i < 980; ++i) h.record(2000);
  EXPECT_TRUE(h.reported_percentile(0.99).has_value());
  EXPECT_FALSE(h.reported_percentile(0.999).has_value());
  EXPECT_FALSE(Histogram{}.percentile(0.5).has_value());
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = rng() % 10'000'000;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.percentile(q), all.percentile(q));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

}  // namespace
}  // namespace ipckit::bench
