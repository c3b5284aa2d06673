// SPDX-License-Identifier: Apache-2.0
// Histogram: every latency sample recorded in log-linear buckets with at most 1% relative error.
//
// Values below 256 have one bucket each (exact). Above, each power of two [2^k, 2^(k+1)) is split
// into 128 equal buckets, so a bucket is at most 1/128 (0.78%) of its values wide and the reported
// midpoint is within 0.4% of any value in it. The exact min, max, count and sum are kept beside.
// The object is trivially copyable (a fixed array, no heap), so a benchmark child can record into
// one and copy it into shared memory for the parent. Not thread-safe; one recorder at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace ipckit::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;  // 128 buckets per octave
  static constexpr std::size_t kBuckets = (64 - kSubBits - 1 + 2) * kSub;  // 7424: covers 0..2^64-1

  // O(1); never fails.
  void record(std::uint64_t value) noexcept;
  void merge(const Histogram& other) noexcept;
  void clear() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept;

  // The value at quantile q in [0, 1] (rank ceil(q*n)): the midpoint of its bucket, clamped to the
  // exact [min, max]. nullopt when empty.
  [[nodiscard]] std::optional<double> percentile(double q) const noexcept;
  // Like percentile(), but nullopt unless there are at least 10 / (1 - q) samples (20 for p50,
  // 1000 for p99, 10000 for p99.9): a tail percentile from fewer samples is mostly the max.
  [[nodiscard]] std::optional<double> reported_percentile(double q) const noexcept;
  // Samples needed before reported_percentile(q) gives a value.
  [[nodiscard]] static std::uint64_t samples_needed(double q) noexcept;

  [[nodiscard]] static std::size_t bucket_of(std::uint64_t value) noexcept;
  [[nodiscard]] static std::uint64_t bucket_lower(std::size_t index) noexcept;
  [[nodiscard]] static std::uint64_t bucket_width(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace ipckit::bench
