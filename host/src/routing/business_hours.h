// Business hours: is an instant inside the opening hours of a calendar? Intervals are local
// wall-clock times in the calendar's IANA time zone (abseil reads /usr/share/zoneinfo), so
// "09:00-18:00" means 09:00 local on both sides of a daylight-saving change; holidays are
// local dates, and the weekday is the local one (a message at 23:30 UTC may already be
// tomorrow in Tokyo).
#pragma once

#include "config/routing_config.h"

#include <absl/time/time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::host::routing {

// "09:00" → 540; "24:00" → 1440 (only as an interval's end). nullopt when malformed.
std::optional<int> parseClock(std::string_view text);
// "09:00-18:00" → {540, 1080}; the end must be after the start.
std::optional<std::pair<int, int>> parseInterval(std::string_view text, std::string* why);
// "mon", "mon-fri", "sat,sun", "mon-wed,fri" → weekdays 0 (Monday) .. 6 (Sunday).
std::optional<std::vector<int>> parseWeekdays(std::string_view text);
// "2026-12-25": a real calendar date.
bool isValidDate(std::string_view text);
// "09:00"
std::string formatClock(int minutes);

class BusinessHours {
public:
    // Throws std::invalid_argument when the time zone cannot be loaded (checked at config load).
    explicit BusinessHours(const config::BusinessHoursConfig& config);

    struct Check {
        bool open = false;
        std::string local;  // "Mon 2026-03-30 10:12 Europe/Lisbon"
        std::string why;    // "within 09:00-18:00", "holiday 2026-12-25", "outside 09:00-18:00", "closed on Sun"
    };
    Check at(int64_t unixMs) const;
    const std::string& name() const { return config_.name; }

private:
    config::BusinessHoursConfig config_;
    absl::TimeZone zone_;
};

}  // namespace switchboard::host::routing
