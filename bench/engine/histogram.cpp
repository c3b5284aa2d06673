// SPDX-License-Identifier: Apache-2.0
#include "engine/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ipckit::bench {

std::size_t Histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < 2 * kSub) return static_cast<std::size_t>(value);
  const int k = 63 - std::countl_zero(value);  // value in [2^k, 2^(k+1)), k >= 8
  const int shift = k - kSubBits;
  return static_cast<std::size_t>(shift) * kSub + static_cast<std::size_t>(value >> shift);
}

std::uint64_t Histogram::bucket_lower(std::size_t index) noexcept {
  if (index < 2 * kSub) return index;
  const std::size_t shift = index / kSub - 1;
  const std::uint64_t mantissa = index % kSub + kSub;
  return mantissa << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t index) noexcept {
  if (index < 2 * kSub) return 1;
  return std::uint64_t{1} << (index / kSub - 1);
}

void Histogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value);
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::clear() noexcept { *this = Histogram{}; }

double Histogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::optional<double> Histogram::percentile(double q) const noexcept {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const double mid = static_cast<double>(bucket_lower(i)) + static_cast<double>(bucket_width(i) - 1) / 2.0;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

std::uint64_t Histogram::samples_needed(double q) noexcept {
  if (q >= 1.0) return 1;
  return static_cast<std::uint64_t>(std::ceil(10.0 / (1.0 - q) - 1e-9));
}

std::optional<double> Histogram::reported_percentile(double q) const noexcept {
  if (count_ == 0 || count_ < samples_needed(q)) return std::nullopt;
  return percentile(q);
}

}  // namespace ipckit::bench
