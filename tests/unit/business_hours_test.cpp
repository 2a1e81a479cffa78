// Business hours: local wall-clock intervals in an IANA time zone, across daylight-saving
// changes, holidays as local dates, and the local weekday when the UTC date differs.
#include "routing/business_hours.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <gtest/gtest.h>

using namespace switchboard::host;
using routing::BusinessHours;

namespace {

int64_t utc(int y, int mo, int d, int h, int mi, int s = 0) {
    return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

config::BusinessHoursConfig lisbon() {
    config::BusinessHoursConfig c;
    c.name = "lisbon";
    c.timeZone = "Europe/Lisbon";
    for (int d = 0; d < 5; ++d) c.open[d] = {{9 * 60, 18 * 60}};  // mon-fri 09:00-18:00
    c.open[5] = {{10 * 60, 14 * 60}};                              // sat 10:00-14:00
    c.open[6] = {{2 * 60, 3 * 60}};  // sun 02:00-03:00: the hour skipped or repeated by DST
    c.holidays = {"2026-12-25"};
    return c;
}

}  // namespace

// Winter (WET = UTC+0): 09:00 local is 09:00Z.
TEST(BusinessHours, WinterOpeningEdgesAreLocalTime) {
    BusinessHours h(lisbon());
    // Friday 2026-03-27, before the change.
    EXPECT_FALSE(h.at(utc(2026, 3, 27, 8, 59)).open);
    EXPECT_TRUE(h.at(utc(2026, 3, 27, 9, 0)).open);
    EXPECT_TRUE(h.at(utc(2026, 3, 27, 17, 59, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 3, 27, 18, 0)).open);
    EXPECT_EQ(h.at(utc(2026, 3, 27, 9, 0)).local, "Fri 2026-03-27 09:00 Europe/Lisbon");
}

// 2026-03-29 01:00Z clocks jump to 02:00 WEST (UTC+1): the same local hours move an hour earlier in UTC.
TEST(BusinessHours, SummerAfterTheSpringChangeOpensAnHourEarlierInUtc) {
    BusinessHours h(lisbon());
    // Monday 2026-03-30: 08:59 local = 07:59Z, 09:00 local = 08:00Z.
    EXPECT_FALSE(h.at(utc(2026, 3, 30, 7, 59)).open);
    EXPECT_TRUE(h.at(utc(2026, 3, 30, 8, 0)).open);
    EXPECT_TRUE(h.at(utc(2026, 3, 30, 16, 59)).open);
    auto closing = h.at(utc(2026, 3, 30, 17, 0));
    EXPECT_FALSE(closing.open);
    EXPECT_EQ(closing.local, "Mon 2026-03-30 18:00 Europe/Lisbon");
    EXPECT_EQ(closing.why, "outside 09:00-18:00");
    // The same UTC time of day, either side of the change: 17:30Z is 17:30 local on Friday
    // (open) and 18:30 local on Monday (closed).
    EXPECT_TRUE(h.at(utc(2026, 3, 27, 17, 30)).open);
    EXPECT_FALSE(h.at(utc(2026, 3, 30, 17, 30)).open);
}

TEST(BusinessHours, OnTheSpringChangeDayTheSkippedHourIsReadAfterTheJump) {
    BusinessHours h(lisbon());
    // Sunday 2026-03-29: 00:59Z is 00:59 WET; 01:00Z is already 02:00 WEST.
    EXPECT_FALSE(h.at(utc(2026, 3, 29, 0, 59)).open);
    auto jumped = h.at(utc(2026, 3, 29, 1, 0));
    EXPECT_TRUE(jumped.open);
    EXPECT_EQ(jumped.local, "Sun 2026-03-29 02:00 Europe/Lisbon");
    EXPECT_TRUE(h.at(utc(2026, 3, 29, 1, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 3, 29, 2, 0)).open);  // 03:00 WEST
}

// 2026-10-25 02:00 WEST (01:00Z) clocks go back to 01:00 WET.
TEST(BusinessHours, AutumnChangeMovesTheSameLocalHoursLaterInUtc) {
    BusinessHours h(lisbon());
    // Friday 2026-10-23 (WEST): 09:00 local = 08:00Z; 18:00 local = 17:00Z.
    EXPECT_FALSE(h.at(utc(2026, 10, 23, 7, 59)).open);
    EXPECT_TRUE(h.at(utc(2026, 10, 23, 8, 0)).open);
    EXPECT_TRUE(h.at(utc(2026, 10, 23, 16, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 10, 23, 17, 0)).open);
    // Monday 2026-10-26 (WET): 09:00 local = 09:00Z; 18:00 local = 18:00Z.
    EXPECT_FALSE(h.at(utc(2026, 10, 26, 8, 59)).open);
    EXPECT_TRUE(h.at(utc(2026, 10, 26, 9, 0)).open);
    EXPECT_TRUE(h.at(utc(2026, 10, 26, 17, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 10, 26, 18, 0)).open);
    // Sunday 2026-10-25: 02:00-03:00 local happens once after the fall back, from 02:00Z (WET).
    EXPECT_FALSE(h.at(utc(2026, 10, 25, 0, 30)).open);  // 01:30 WEST
    EXPECT_FALSE(h.at(utc(2026, 10, 25, 1, 30)).open);  // 01:30 WET, the repeated hour
    EXPECT_TRUE(h.at(utc(2026, 10, 25, 2, 0)).open);    // 02:00 WET
    EXPECT_FALSE(h.at(utc(2026, 10, 25, 3, 0)).open);
}

TEST(BusinessHours, HolidaysAreClosedAllDay) {
    BusinessHours h(lisbon());
    auto christmas = h.at(utc(2026, 12, 25, 11, 0));  // a Friday
    EXPECT_FALSE(christmas.open);
    EXPECT_EQ(christmas.why, "holiday 2026-12-25");
    EXPECT_TRUE(h.at(utc(2026, 12, 24, 11, 0)).open);
}

// Tokyo is UTC+9: Friday 23:30Z is already Saturday morning there.
TEST(BusinessHours, UsesTheLocalDateWhenItDiffersFromTheUtcDate) {
    config::BusinessHoursConfig c;
    c.name = "tokyo";
    c.timeZone = "Asia/Tokyo";
    for (int d = 0; d < 5; ++d) c.open[d] = {{9 * 60, 18 * 60}};
    c.open[5] = {{8 * 60, 12 * 60}};
    BusinessHours h(c);
    auto saturday = h.at(utc(2026, 3, 27, 23, 30));  // Fri 23:30Z
    EXPECT_TRUE(saturday.open);
    EXPECT_EQ(saturday.local, "Sat 2026-03-28 08:30 Asia/Tokyo");
    // A holiday is the local date, not the UTC one.
    c.holidays = {"2026-03-28"};
    BusinessHours withHoliday(c);
    EXPECT_FALSE(withHoliday.at(utc(2026, 3, 27, 23, 30)).open);
    EXPECT_TRUE(withHoliday.at(utc(2026, 3, 27, 8, 0)).open);  // Fri 17:00 JST

    // Los Angeles is behind UTC: Monday 03:00Z is Sunday evening there.
    c.name = "la";
    c.timeZone = "America/Los_Angeles";
    c.holidays.clear();
    auto sunday = BusinessHours(c).at(utc(2026, 3, 30, 3, 0));
    EXPECT_FALSE(sunday.open);
    EXPECT_EQ(sunday.why, "closed on Sun");
    EXPECT_EQ(sunday.local, "Sun 2026-03-29 20:00 America/Los_Angeles");
}

TEST(BusinessHours, SeveralIntervalsADay) {
    config::BusinessHoursConfig c;
    c.name = "lunch";
    c.timeZone = "UTC";
    c.open[0] = {{9 * 60, 12 * 60}, {14 * 60, 24 * 60}};
    BusinessHours h(c);
    EXPECT_TRUE(h.at(utc(2026, 3, 30, 11, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 3, 30, 13, 0)).open);
    EXPECT_EQ(h.at(utc(2026, 3, 30, 13, 0)).why, "outside 09:00-12:00, 14:00-24:00");
    EXPECT_TRUE(h.at(utc(2026, 3, 30, 23, 59, 59)).open);
    EXPECT_FALSE(h.at(utc(2026, 3, 31, 0, 0)).open);  // Tuesday: not listed
}

TEST(BusinessHours, RefusesAnUnknownTimeZone) {
    config::BusinessHoursConfig c;
    c.timeZone = "Europe/Atlantis";
    EXPECT_THROW(BusinessHours{c}, std::invalid_argument);
}

TEST(BusinessHoursParsing, WeekdaysIntervalsAndDates) {
    EXPECT_EQ(routing::parseWeekdays("mon-fri"), (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(routing::parseWeekdays("sat,sun"), (std::vector<int>{5, 6}));
    EXPECT_EQ(routing::parseWeekdays("mon-wed,fri"), (std::vector<int>{0, 1, 2, 4}));
    EXPECT_FALSE(routing::parseWeekdays("fri-mon"));
    EXPECT_FALSE(routing::parseWeekdays("monday"));
    EXPECT_FALSE(routing::parseWeekdays("mon,"));

    std::string why;
    EXPECT_EQ(routing::parseInterval("09:00-18:00", &why), std::make_pair(540, 1080));
    EXPECT_EQ(routing::parseInterval("00:00-24:00", &why), std::make_pair(0, 1440));
    EXPECT_FALSE(routing::parseInterval("9:00-18:00", &why));
    EXPECT_FALSE(routing::parseInterval("09:00-24:01", &why));
    EXPECT_FALSE(routing::parseInterval("22:00-02:00", &why));
    EXPECT_NE(why.find("split hours past midnight"), std::string::npos) << why;

    EXPECT_TRUE(routing::isValidDate("2028-02-29"));
    EXPECT_FALSE(routing::isValidDate("2026-02-29"));
    EXPECT_FALSE(routing::isValidDate("2026-13-01"));
    EXPECT_FALSE(routing::isValidDate("2026-1-01"));
}
