#include "operator/runtime/time_format.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace kprof::runtime {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;

std::string formatWith(Clock::WallTime time, bool micro) {
  const auto since_epoch = duration_cast<microseconds>(time.time_since_epoch());
  auto whole = duration_cast<seconds>(since_epoch);
  auto fraction = since_epoch - whole;
  if (fraction.count() < 0) {  // before 1970: borrow a second so the fraction is positive
    whole -= seconds(1);
    fraction += seconds(1);
  }
  const std::time_t t = static_cast<std::time_t>(whole.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[48];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  if (micro) {
    std::snprintf(text + n, sizeof text - n, ".%06lldZ", static_cast<long long>(fraction.count()));
  } else {
    std::snprintf(text + n, sizeof text - n, "Z");
  }
  return text;
}

bool readNumber(std::string_view text, size_t at, size_t digits, int& out) {
  if (at + digits > text.size()) {
    return false;
  }
  for (size_t i = at; i < at + digits; ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
  }
  return std::from_chars(text.data() + at, text.data() + at + digits, out).ec == std::errc{};
}

}  // namespace

std::string formatTime(Clock::WallTime time) {
  return formatWith(time, false);
}

std::string formatMicroTime(Clock::WallTime time) {
  return formatWith(time, true);
}

Result<Clock::WallTime> parseTime(std::string_view text) {
  const auto bad = [&] {
    return fail(ErrorCode::Parse, "not an RFC 3339 time: \"" + std::string(text) + "\"");
  };
  // 2006-01-02T15:04:05
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !readNumber(text, 0, 4, year) || text[4] != '-' ||
      !readNumber(text, 5, 2, month) || text[7] != '-' || !readNumber(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !readNumber(text, 11, 2, hour) || text[13] != ':' ||
      !readNumber(text, 14, 2, minute) || text[16] != ':' || !readNumber(text, 17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  size_t at = 19;
  int64_t micros = 0;
  if (text[at] == '.') {
    ++at;
    int64_t scale = 100'000;
    const size_t start = at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) != 0) {
      micros += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) {
      return bad();
    }
  }
  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int oh = 0, om = 0;
    if (!readNumber(text, at + 1, 2, oh) || !readNumber(text, at + 4, 2, om)) {
      return bad();
    }
    offset_minutes = (oh * 60 + om) * (text[at] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) {
    return bad();
  }
  const auto days = std::chrono::sys_days(date);
  const auto time = days + std::chrono::hours(hour) +
                    std::chrono::minutes(minute - offset_minutes) + std::chrono::seconds(second) +
                    std::chrono::microseconds(micros);
  return Clock::WallTime(duration_cast<Clock::WallTime::duration>(time.time_since_epoch()));
}

}  // namespace kprof::runtime
