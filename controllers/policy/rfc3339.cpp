#include "controllers/policy/rfc3339.hpp"

#include <cctype>
#include <chrono>

namespace kprof::controllers {
namespace {

// Reads exactly `width` digits at `pos`; -1 when they are not all digits.
int digits(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) {
    return -1;
  }
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
      return -1;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Unexpected parseFailure(std::string_view text) {
  return fail(ErrorCode::Parse, "not an RFC 3339 timestamp: \"" + std::string(text) + "\"");
}

}  // namespace

Result<WallTime> parseRfc3339(std::string_view text) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  using std::chrono::sys_days;
  using std::chrono::year_month_day;
  // YYYY-MM-DDTHH:MM:SS
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  const int second = digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || text[4] != '-' ||
      text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return parseFailure(text);
  }
  const year_month_day date{std::chrono::year{year},
                            std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return parseFailure(text);
  }
  size_t pos = 19;
  nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      fraction += nanoseconds{(text[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return parseFailure(text);
    }
  }
  minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int offset_hours = digits(text, pos + 1, 2);
    const int offset_minutes = digits(text, pos + 4, 2);
    if (offset_hours < 0 || offset_minutes < 0 || text[pos + 3] != ':') {
      return parseFailure(text);
    }
    offset = hours{offset_hours} + minutes{offset_minutes};
    if (text[pos] == '-') {
      offset = -offset;
    }
    pos += 6;
  } else {
    return parseFailure(text);
  }
  if (pos != text.size()) {
    return parseFailure(text);
  }
  const auto local = sys_days{date} + hours{hour} + minutes{minute} + seconds{second};
  return WallTime{
      std::chrono::duration_cast<WallTime::duration>(local.time_since_epoch() - offset + fraction)};
}

std::string formatRfc3339(WallTime time) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::seconds;
  const auto secs = floor<seconds>(time);
  const auto day_start = floor<days>(secs);
  const std::chrono::year_month_day date{day_start};
  const std::chrono::hh_mm_ss clock{secs - day_start};
  std::string out;
  const auto append = [&out](int64_t value, size_t width) {
    const std::string digits = std::to_string(value);
    out.append(width > digits.size() ? width - digits.size() : 0, '0').append(digits);
  };
  append(static_cast<int>(date.year()), 4);
  out += '-';
  append(static_cast<unsigned>(date.month()), 2);
  out += '-';
  append(static_cast<unsigned>(date.day()), 2);
  out += 'T';
  append(clock.hours().count(), 2);
  out += ':';
  append(clock.minutes().count(), 2);
  out += ':';
  append(clock.seconds().count(), 2);
  out += 'Z';
  return out;
}

WallTime truncateToSeconds(WallTime time) {
  return std::chrono::floor<std::chrono::seconds>(time);
}

}  // namespace kprof::controllers
