// SPDX-License-Identifier: Apache-2.0
// The one size / duration / count parser and formatter (core/units.hpp).
// ipckit-test: tsan
#include "ipckit/core/units.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using test::FailsWith;

TEST(ParseSize, PlainIntegersAndBinarySuffixesAreExact) {
  EXPECT_EQ(parse_size("0", "--size").value(), 0u);
  EXPECT_EQ(parse_size("4096", "--size").value(), 4096u);
  EXPECT_EQ(parse_size("4096B", "--size").value(), 4096u);
  EXPECT_EQ(parse_size("64KiB", "--size").value(), 65536u);
  EXPECT_EQ(parse_size("64K", "--size").value(), 65536u);
  EXPECT_EQ(parse_size("64k", "--size").value(), 65536u);
  EXPECT_EQ(parse_size("64 KiB", "--size").value(), 65536u);
  EXPECT_EQ(parse_size("1MiB", "--size").value(), 1u << 20);
  EXPECT_EQ(parse_size("1M", "--size").value(), 1u << 20);
  EXPECT_EQ(parse_size("2GiB", "--size").value(), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_size("1TiB", "capacity").value(), std::uint64_t{1} << 40);
  EXPECT_EQ(parse_size("1T", "capacity").value(), std::uint64_t{1} << 40);
  EXPECT_EQ(parse_size("15EiB", "x").value(), std::uint64_t{15} << 60);
  EXPECT_EQ(parse_size("18446744073709551615", "x").value(), std::numeric_limits<std::uint64_t>::max());
}

TEST(ParseSize, SiSpellingsAreRejectedNamingBothReadings) {
  EXPECT_TRUE(FailsWith(parse_size("4KB", "--sizes"), {"--sizes(\"4KB\")", "ambiguous", "4KiB for 4096", "4000"}));
  EXPECT_TRUE(FailsWith(parse_size("4kB", "--size"), {"ambiguous", "4KiB"}));
  EXPECT_TRUE(FailsWith(parse_size("1MB", "capacity"), {"capacity(\"1MB\")", "1MiB for 1048576", "1000000"}));
  EXPECT_TRUE(FailsWith(parse_size("1GB", "x"), {"1GiB"}));
  EXPECT_TRUE(FailsWith(parse_size("1TB", "x"), {"1TiB"}));
  EXPECT_TRUE(FailsWith(parse_size("99EB", "x"), {"99EiB or a plain byte count"}));
}

TEST(ParseSize, OverflowGarbageAndNegativeAreErrorsNamingTheValue) {
  EXPECT_TRUE(FailsWith(parse_size("18446744073709551616", "--size"),
                        {"--size(\"18446744073709551616\")", "past the largest size", "18446744073709551615"}));
  EXPECT_TRUE(FailsWith(parse_size("16EiB", "--size"), {"16EiB is past the largest size"}));
  EXPECT_TRUE(FailsWith(parse_size("99999999999999999999", "--size"), {"past the largest size"}));
  EXPECT_TRUE(FailsWith(parse_size("lots", "--size"), {"--size(\"lots\")", "not a size", "64KiB"}));
  EXPECT_TRUE(FailsWith(parse_size("", "--size"), {"not a size"}));
  EXPECT_TRUE(FailsWith(parse_size("-1", "--size"), {"negative"}));
  EXPECT_TRUE(FailsWith(parse_size("1.5MiB", "--size"), {"whole number"}));
  EXPECT_TRUE(FailsWith(parse_size("4 XB", "--size"), {"unknown suffix \"XB\""}));
  EXPECT_TRUE(FailsWith(parse_size("4KiBx", "--size"), {"unknown suffix"}));
  EXPECT_TRUE(FailsWith(parse_size(" 4", "--size"), {"not a size"}));
}

TEST(ParseSize, RangeIsCheckedAndNamed) {
  EXPECT_EQ(parse_size("24", "--sizes", {24, 16u << 20}).value(), 24u);
  EXPECT_EQ(parse_size("16MiB", "--sizes", {24, 16u << 20}).value(), 16u << 20);
  EXPECT_TRUE(FailsWith(parse_size("16", "--sizes", {24, 16u << 20}), {"16 B is out of range", "24 B..16 MiB"}));
  EXPECT_TRUE(FailsWith(parse_size("17MiB", "--sizes", {24, 16u << 20}), {"17 MiB is out of range"}));
  EXPECT_TRUE(FailsWith(parse_size("0", "capacity", {1}), {"at least 1 B"}));
}

TEST(ParseDuration, UnitsAndBareSeconds) {
  EXPECT_DOUBLE_EQ(parse_duration("5", "--timeout").value().count(), 5.0);
  EXPECT_DOUBLE_EQ(parse_duration("0.1", "--timeout").value().count(), 0.1);
  EXPECT_DOUBLE_EQ(parse_duration(".5", "--timeout").value().count(), 0.5);
  EXPECT_DOUBLE_EQ(parse_duration("0", "--timeout").value().count(), 0.0);
  EXPECT_DOUBLE_EQ(parse_duration("300ms", "--duration").value().count(), 0.3);
  EXPECT_DOUBLE_EQ(parse_duration("300 ms", "--duration").value().count(), 0.3);
  EXPECT_DOUBLE_EQ(parse_duration("1.5s", "--timeout").value().count(), 1.5);
  EXPECT_DOUBLE_EQ(parse_duration("2m", "--timeout").value().count(), 120.0);
  EXPECT_DOUBLE_EQ(parse_duration("2min", "--timeout").value().count(), 120.0);
  EXPECT_DOUBLE_EQ(parse_duration("1h", "--timeout").value().count(), 3600.0);
  EXPECT_DOUBLE_EQ(parse_duration("1d", "--older-than").value().count(), 86400.0);
  EXPECT_DOUBLE_EQ(parse_duration("250us", "x").value().count(), 250e-6);
  EXPECT_DOUBLE_EQ(parse_duration("10ns", "x").value().count(), 10e-9);
  EXPECT_DOUBLE_EQ(parse_duration("1e3", "x").value().count(), 1000.0);
  EXPECT_DOUBLE_EQ(parse_duration("1e-3s", "x").value().count(), 1e-3);
  EXPECT_TRUE(std::isinf(parse_duration("inf", "--timeout").value().count()));
  EXPECT_TRUE(std::isinf(parse_duration("forever", "--timeout").value().count()));
}

TEST(ParseDuration, NegativeNanGarbageAreErrors) {
  EXPECT_TRUE(FailsWith(parse_duration("-1", "--timeout"), {"--timeout(\"-1\")", "cannot be negative", "300ms"}));
  EXPECT_TRUE(FailsWith(parse_duration("-0", "--timeout"), {"negative"}));
  EXPECT_TRUE(FailsWith(parse_duration("nan", "--timeout"), {"--timeout(\"nan\")", "not a duration"}));
  EXPECT_TRUE(FailsWith(parse_duration("abc", "--timeout"), {"not a duration"}));
  EXPECT_TRUE(FailsWith(parse_duration("", "--timeout"), {"not a duration"}));
  EXPECT_TRUE(FailsWith(parse_duration("5min2", "--timeout"), {"unknown unit \"min2\""}));
  EXPECT_TRUE(FailsWith(parse_duration("5 years", "--timeout"), {"unknown unit \"years\""}));
  EXPECT_TRUE(FailsWith(parse_duration("1.2.3", "--timeout"), {"not a duration"}));
  EXPECT_TRUE(FailsWith(parse_duration("+5", "--timeout"), {"not a duration"}));
}

TEST(ParseDuration, RangeAndForever) {
  const DurationRange bench{Seconds(0), true, Seconds(60)};
  EXPECT_TRUE(FailsWith(parse_duration("0", "--duration", bench), {"out of range", "above 0 and at most 60 s"}));
  EXPECT_TRUE(FailsWith(parse_duration("61", "--duration", bench), {"61 s is out of range"}));
  EXPECT_TRUE(FailsWith(parse_duration("inf", "--duration", bench), {"no limit is not accepted"}));
  EXPECT_TRUE(FailsWith(parse_duration("1e300", "--duration", bench), {"1e300 is out of range"}));
  auto huge = parse_duration("1e300", "--timeout");
  ASSERT_TRUE(huge);
  EXPECT_TRUE(timeout_is_forever(*huge));
  EXPECT_TRUE(timeout_is_forever(parse_duration("1e999", "--timeout").value()));
  EXPECT_FALSE(timeout_is_forever(parse_duration("1e-999", "--timeout").value()));
  EXPECT_TRUE(timeout_is_forever(Seconds(std::numeric_limits<double>::infinity())));
  EXPECT_FALSE(timeout_is_forever(Seconds(86400.0 * 365)));
  EXPECT_EQ(deadline_for(*huge), kNoDeadline);
  EXPECT_LT(deadline_for(Seconds(1)), kNoDeadline);
}

TEST(ParseCount, RangeSignAndGarbage) {
  EXPECT_EQ(parse_count("10", "--count", 1).value(), 10u);
  EXPECT_TRUE(FailsWith(parse_count("0", "--count", 1), {"--count(\"0\")", "out of range", "at least 1"}));
  EXPECT_TRUE(FailsWith(parse_count("-1", "--count", 1), {"negative"}));
  EXPECT_TRUE(FailsWith(parse_count("abc", "--count", 1), {"not a number"}));
  EXPECT_TRUE(FailsWith(parse_count("1e3", "--count", 1), {"not a number"}));
  EXPECT_TRUE(FailsWith(parse_count("101", "--repeats", 1, 100), {"1..100"}));
  EXPECT_TRUE(FailsWith(parse_count("99999999999999999999", "--count", 1), {"too large"}));
}

TEST(FormatSize, ExactUnitsAndRounded) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(64), "64 B");
  EXPECT_EQ(format_size(1000), "1000 B");
  EXPECT_EQ(format_size(65536), "64 KiB");
  EXPECT_EQ(format_size(1536), "1536 B");
  EXPECT_EQ(format_size(1u << 20), "1 MiB");
  EXPECT_EQ(format_size(std::uint64_t{1} << 40), "1 TiB");
  EXPECT_EQ(format_size(1000000), "976.6 KiB");
  for (std::uint64_t v : {std::uint64_t{64}, std::uint64_t{4096}, std::uint64_t{3} << 30, std::uint64_t{5} << 40}) {
    EXPECT_EQ(parse_size(format_size(v), "x").value(), v) << format_size(v);
  }
}

TEST(FormatDuration, ReadableAndParsesBack) {
  EXPECT_EQ(format_duration(Seconds(0.3)), "300 ms");
  EXPECT_EQ(format_duration(Seconds(1.5)), "1.5 s");
  EXPECT_EQ(format_duration(Seconds(5)), "5 s");
  EXPECT_EQ(format_duration(Seconds(90)), "90 s");
  EXPECT_EQ(format_duration(Seconds(120)), "2 min");
  EXPECT_EQ(format_duration(Seconds(5400 * 2)), "3 h");
  EXPECT_EQ(format_duration(Seconds(250e-9)), "250 ns");
  EXPECT_EQ(format_duration(Seconds(1.5e-6)), "1.5 us");
  EXPECT_EQ(format_duration(Seconds(0.9995)), "1000 ms");
  EXPECT_EQ(format_duration(Seconds(0)), "0 s");
  EXPECT_EQ(format_duration(Seconds(std::numeric_limits<double>::infinity())), "forever");
  for (double v : {0.3, 1.5, 120.0, 2.5e-6}) {
    EXPECT_NEAR(parse_duration(format_duration(Seconds(v)), "x").value().count(), v, v * 1e-3);
  }
}

}  // namespace
}  // namespace ipckit
