#include "routing/business_hours.h"

#include <absl/time/civil_time.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

namespace switchboard::host::routing {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<const char*, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::optional<int> dayIndex(std::string_view name) {
    for (size_t i = 0; i < kDays.size(); ++i)
        if (kDays[i] == name) return static_cast<int>(i);
    return std::nullopt;
}

int mondayBased(absl::Weekday d) {
    switch (d) {
        case absl::Weekday::monday: return 0;
        case absl::Weekday::tuesday: return 1;
        case absl::Weekday::wednesday: return 2;
        case absl::Weekday::thursday: return 3;
        case absl::Weekday::friday: return 4;
        case absl::Weekday::saturday: return 5;
        case absl::Weekday::sunday: return 6;
    }
    return 0;
}

std::string intervals(const std::vector<std::pair<int, int>>& list) {
    std::string out;
    for (const auto& [from, to] : list) {
        if (!out.empty()) out += ", ";
        out += formatClock(from) + "-" + formatClock(to);
    }
    return out;
}

}  // namespace

std::optional<int> parseClock(std::string_view t) {
    if (t.size() != 5 || t[2] != ':') return std::nullopt;
    for (size_t i : {0, 1, 3, 4})
        if (t[i] < '0' || t[i] > '9') return std::nullopt;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

std::optional<std::pair<int, int>> parseInterval(std::string_view text, std::string* why) {
    auto dash = text.find('-');
    std::optional<int> from, to;
    if (dash != std::string_view::npos) {
        from = parseClock(text.substr(0, dash));
        to = parseClock(text.substr(dash + 1));
    }
    if (!from || !to || *from == 1440) {
        *why = "expects an interval HH:MM-HH:MM such as 09:00-18:00 (24:00 may end a day)";
        return std::nullopt;
    }
    if (*to <= *from) {
        *why = "the interval ends before it starts; split hours past midnight over two days "
               "(e.g. fri: 22:00-24:00, sat: 00:00-02:00)";
        return std::nullopt;
    }
    return std::make_pair(*from, *to);
}

std::optional<std::vector<int>> parseWeekdays(std::string_view text) {
    std::vector<int> days;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view part = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        size_t dash = part.find('-');
        auto first = dayIndex(part.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : dayIndex(part.substr(dash + 1));
        if (!first || !last || *last < *first) return std::nullopt;
        for (int d = *first; d <= *last; ++d) days.push_back(d);
        if (comma != std::string_view::npos && text.empty()) return std::nullopt;  // trailing comma
    }
    if (days.empty()) return std::nullopt;
    return days;
}

bool isValidDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    absl::CivilDay day;
    // ParseCivilTime refuses 2026-02-30 rather than normalizing it.
    return absl::ParseCivilTime(absl::string_view(text.data(), text.size()), &day) && absl::FormatCivilTime(day) == text;
}

std::string formatClock(int minutes) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
    return buf;
}

BusinessHours::BusinessHours(const config::BusinessHoursConfig& config) : config_(config) {
    if (!absl::LoadTimeZone(config_.timeZone, &zone_))
        throw std::invalid_argument("unknown time zone '" + config_.timeZone + "'");
}

BusinessHours::Check BusinessHours::at(int64_t unixMs) const {
    const absl::CivilSecond local = absl::ToCivilSecond(absl::FromUnixMillis(unixMs), zone_);
    const int day = mondayBased(absl::GetWeekday(local));
    const std::string date = absl::FormatCivilTime(absl::CivilDay(local));
    const int minute = local.hour() * 60 + local.minute();
    Check c;
    c.local = std::string(kDayNames[day]) + " " + date + " " + formatClock(minute) + " " + config_.timeZone;
    if (std::find(config_.holidays.begin(), config_.holidays.end(), date) != config_.holidays.end()) {
        c.why = "holiday " + date;
        return c;
    }
    auto it = config_.open.find(day);
    if (it == config_.open.end() || it->second.empty()) {
        c.why = std::string("closed on ") + kDayNames[day];
        return c;
    }
    for (const auto& [from, to] : it->second) {
        if (minute >= from && minute < to) {
            c.open = true;
            c.why = "within " + formatClock(from) + "-" + formatClock(to);
            return c;
        }
    }
    c.why = "outside " + intervals(it->second);
    return c;
}

}  // namespace switchboard::host::routing
