// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/units.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "ipckit/core/error.hpp"

namespace ipckit {
namespace {

constexpr std::string_view kSizeForms =
    "a whole number of bytes with an optional binary suffix: 4096, 64KiB, 1MiB, 1GiB, 1TiB (K, M, G, T = 1024^n)";
constexpr std::string_view kDurationForms =
    "a duration: a number of seconds (5, 0.1) or a number with a unit ns, us, ms, s, m, h, d (300ms, 1.5s, 2m)";

Unexpected bad(std::string_view what, std::string_view text, std::string detail) {
  return fail_library(LibraryCode::kInvalidArgument, std::string(what), quoted(text), std::move(detail));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "64 KiB" / "64KiB" into the number and the suffix (one optional space between them).
void split_number(std::string_view text, bool decimal, std::string_view& number, std::string_view& suffix) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const bool exponent_sign = decimal && i > 0 && (c == '+' || c == '-') && (text[i - 1] == 'e' || text[i - 1] == 'E');
    const bool exponent = decimal && (c == 'e' || c == 'E') && i + 1 < text.size() &&
                          (is_digit(text[i + 1]) || text[i + 1] == '+' || text[i + 1] == '-');
    if (is_digit(c) || (decimal && c == '.') || exponent || exponent_sign) {
      ++i;
    } else {
      break;
    }
  }
  number = text.substr(0, i);
  suffix = text.substr(i);
  if (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
}

struct SizeUnit {
  std::string_view binary;  // "KiB"
  char letter;              // 'K'
  std::string_view si;      // "KB" (rejected)
  int shift;
};

constexpr SizeUnit kSizeUnits[] = {
    {"KiB", 'K', "KB", 10}, {"MiB", 'M', "MB", 20}, {"GiB", 'G', "GB", 30},
    {"TiB", 'T', "TB", 40}, {"PiB", 'P', "PB", 50}, {"EiB", 'E', "EB", 60},
};

std::string range_text(const SizeRange& r) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  if (r.min == 0 && r.max == kMax) return "any size";
  if (r.max == kMax) return fmt::format("at least {}", format_size(r.min));
  if (r.min == 0) return fmt::format("at most {}", format_size(r.max));
  return fmt::format("{}..{}", format_size(r.min), format_size(r.max));
}

// "4KB": 4 * 1024 or 4 * 1000? Both readings are named, so the fix is one edit.
Unexpected ambiguous_si(std::string_view what, std::string_view text, std::string_view number, const SizeUnit& u) {
  std::uint64_t n = 0;
  std::from_chars(number.data(), number.data() + number.size(), n);
  std::uint64_t decimal = n;
  bool fits = n <= (std::numeric_limits<std::uint64_t>::max() >> u.shift);
  for (int i = 0; fits && i < u.shift / 10; ++i) {
    fits = decimal <= std::numeric_limits<std::uint64_t>::max() / 1000;
    decimal *= 1000;
  }
  const std::string readings =
      fits ? fmt::format("write {}{} for {} bytes, or {} for {} bytes", number, u.binary, n << u.shift, decimal, decimal)
           : fmt::format("write {}{} or a plain byte count", number, u.binary);
  return bad(what, text,
             fmt::format("\"{}\" is ambiguous (1024 or 1000?): {}; sizes take binary suffixes only (KiB, MiB, GiB, TiB)",
                         u.si, readings));
}

std::string range_text(const DurationRange& r) {
  std::string lo;
  if (r.min_exclusive) {
    lo = fmt::format("above {}", r.min.count() == 0 ? std::string("0") : format_duration(r.min));
  } else if (r.min.count() > 0) {
    lo = fmt::format("at least {}", format_duration(r.min));
  }
  std::string hi = std::isinf(r.max.count()) ? std::string() : fmt::format("at most {}", format_duration(r.max));
  if (lo.empty() && hi.empty()) return "any duration";
  if (lo.empty()) return hi;
  if (hi.empty()) return lo;
  return lo + " and " + hi;
}

// Three significant digits, never in exponent form ("999.5" rounds to "1e+03" under {:.3g}).
std::string three_digits(double v) {
  std::string t = fmt::format("{:.3g}", v);
  if (t.find('e') != std::string::npos) t = fmt::format("{:.0f}", v);
  return t;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text, std::string_view what, SizeRange range) {
  std::string_view number;
  std::string_view suffix;
  split_number(text, false, number, suffix);
  if (number.empty()) {
    if (!text.empty() && text.front() == '-') return bad(what, text, fmt::format("a size cannot be negative; expected {}", kSizeForms));
    return bad(what, text, fmt::format("not a size; expected {}", kSizeForms));
  }
  if (!suffix.empty() && (suffix.front() == '.' || suffix.front() == 'e' || suffix.front() == 'E') &&
      suffix.size() > 1 && is_digit(suffix[1])) {
    return bad(what, text, fmt::format("a size is a whole number of bytes; expected {}", kSizeForms));
  }
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else {
    bool found = false;
    for (const auto& u : kSizeUnits) {
      const bool lower_k = u.letter == 'K' && suffix == "k";
      if (suffix == u.binary || (suffix.size() == 1 && suffix[0] == u.letter) || lower_k) {
        shift = u.shift;
        found = true;
        break;
      }
      if (suffix == u.si || (u.letter == 'K' && suffix == "kB")) return ambiguous_si(what, text, number, u);
    }
    if (!found) return bad(what, text, fmt::format("unknown suffix \"{}\"; expected {}", suffix, kSizeForms));
  }
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && shift > 0 && n > (kMax >> shift))) {
    return bad(what, text,
               fmt::format("{} is past the largest size, {} bytes (16 EiB - 1)", text, kMax));
  }
  if (ec != std::errc() || p != number.data() + number.size()) {
    return bad(what, text, fmt::format("not a size; expected {}", kSizeForms));
  }
  const std::uint64_t value = n << shift;
  if (value < range.min || value > range.max) {
    return bad(what, text, fmt::format("{} is out of range; expected {}", format_size(value), range_text(range)));
  }
  return value;
}

Result<Seconds> parse_duration(std::string_view text, std::string_view what, DurationRange range) {
  if (text == "inf" || text == "infinity" || text == "forever") {
    if (!std::isinf(range.max.count())) {
      return bad(what, text, fmt::format("no limit is not accepted here; expected {}, {}", kDurationForms,
                                         range_text(range)));
    }
    return Seconds(std::numeric_limits<double>::infinity());
  }
  std::string_view number;
  std::string_view suffix;
  split_number(text, true, number, suffix);
  if (number.empty() || !(is_digit(number.front()) || number.front() == '.')) {
    if (!text.empty() && text.front() == '-') {
      return bad(what, text, fmt::format("a duration cannot be negative; expected {}, or inf", kDurationForms));
    }
    return bad(what, text, fmt::format("not a duration; expected {}, or inf", kDurationForms));
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Too small underflows to 0 (fine); too large to infinity.
    v = number.find_first_of("123456789") == std::string_view::npos ? 0.0 : std::numeric_limits<double>::infinity();
    if (number.find("e-") != std::string_view::npos || number.find("E-") != std::string_view::npos) v = 0.0;
  } else if (ec != std::errc() || p != number.data() + number.size()) {
    return bad(what, text, fmt::format("not a duration; expected {}, or inf", kDurationForms));
  }
  double scale = 1;
  if (suffix.empty() || suffix == "s") {
    scale = 1;
  } else if (suffix == "ms") {
    scale = 1e-3;
  } else if (suffix == "us") {
    scale = 1e-6;
  } else if (suffix == "ns") {
    scale = 1e-9;
  } else if (suffix == "m" || suffix == "min") {
    scale = 60;
  } else if (suffix == "h") {
    scale = 3600;
  } else if (suffix == "d") {
    scale = 86400;
  } else {
    return bad(what, text, fmt::format("unknown unit \"{}\"; expected {}, or inf", suffix, kDurationForms));
  }
  const Seconds d(v * scale);
  const bool low = range.min_exclusive ? !(d > range.min) : d < range.min;
  if (low || d > range.max) {
    const std::string shown = timeout_is_forever(d) ? std::string(text) : format_duration(d);
    return bad(what, text, fmt::format("{} is out of range; expected {}", shown, range_text(range)));
  }
  return d;
}

Result<std::uint64_t> parse_count(std::string_view text, std::string_view what, std::uint64_t min,
                                  std::uint64_t max) {
  auto expected = [&] {
    if (max == std::numeric_limits<std::uint64_t>::max()) return fmt::format("a whole number, at least {}", min);
    return fmt::format("a whole number {}..{}", min, max);
  };
  if (!text.empty() && text.front() == '-') {
    return bad(what, text, fmt::format("a negative number is not accepted; expected {}", expected()));
  }
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) {
    return bad(what, text, fmt::format("{} is too large; expected {}", text, expected()));
  }
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return bad(what, text, fmt::format("not a number; expected {}", expected()));
  }
  if (n < min || n > max) return bad(what, text, fmt::format("{} is out of range; expected {}", n, expected()));
  return n;
}

std::string format_size(std::uint64_t bytes) {
  for (auto it = std::rbegin(kSizeUnits); it != std::rend(kSizeUnits); ++it) {
    const std::uint64_t unit = std::uint64_t{1} << it->shift;
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{} {}", bytes >> it->shift, it->binary);
  }
  if (bytes < 10 * 1024) return fmt::format("{} B", bytes);
  for (auto it = std::rbegin(kSizeUnits); it != std::rend(kSizeUnits); ++it) {
    const std::uint64_t unit = std::uint64_t{1} << it->shift;
    if (bytes >= unit) {
      return fmt::format("{:.1f} {}", static_cast<double>(bytes) / static_cast<double>(unit), it->binary);
    }
  }
  return fmt::format("{} B", bytes);
}

std::string format_duration(Seconds d) {
  const double s = d.count();
  if (std::isnan(s)) return "nan";
  if (timeout_is_forever(d)) return "forever";
  if (s < 0) return "-" + format_duration(Seconds(-s));
  if (s == 0) return "0 s";
  struct Unit {
    double from;     // used from this many seconds up
    double seconds;  // one unit
    const char* name;
  };
  // Largest first; minutes, hours and days only from two of them, so 90 s reads "90 s".
  static constexpr Unit kUnits[] = {{2 * 86400, 86400, "d"}, {2 * 3600, 3600, "h"}, {120, 60, "min"},
                                    {1, 1, "s"},             {1e-3, 1e-3, "ms"},    {1e-6, 1e-6, "us"}};
  for (const auto& u : kUnits) {
    if (s >= u.from) return fmt::format("{} {}", three_digits(s / u.seconds), u.name);
  }
  return fmt::format("{} ns", three_digits(s / 1e-9));
}

}  // namespace ipckit
