// The SDK's Retry-After parser (RFC 9110 §10.2.3): delta-seconds and the three HTTP-date forms
// of RFC 9110 §5.6.7, relative to a fixed "now" so no test depends on the clock.
#include <switchboard/retry_after.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using switchboard::http::kMaxRetryAfter;
using switchboard::http::parseRetryAfter;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

// RFC 9110's example instant, Sun, 06 Nov 1994 08:49:37 GMT.
const Clock::time_point kExampleDate = Clock::from_time_t(784111777);

TEST(SdkRetryAfter, DeltaSeconds) {
    EXPECT_EQ(parseRetryAfter("120"), seconds(120));  // RFC 9110's example
    EXPECT_EQ(parseRetryAfter("0"), seconds(0));
    EXPECT_EQ(parseRetryAfter(" 7\t"), seconds(7));  // optional whitespace around the value
}

TEST(SdkRetryAfter, LongDelaysAreCappedAtADay) {
    EXPECT_EQ(parseRetryAfter("86401"), kMaxRetryAfter);
    EXPECT_EQ(parseRetryAfter("99999999999999999999999"), kMaxRetryAfter);  // past 64 bits
    EXPECT_EQ(kMaxRetryAfter, seconds(86400));
}

TEST(SdkRetryAfter, AllThreeHttpDateForms) {
    const auto now = kExampleDate - seconds(120);
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(120));   // IMF-fixdate
    EXPECT_EQ(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds(120));  // obsolete RFC 850
    EXPECT_EQ(parseRetryAfter("Sun Nov  6 08:49:37 1994", now), seconds(120));        // ANSI C asctime()
}

TEST(SdkRetryAfter, RfcExampleDate) {
    // "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT", an hour before it.
    const auto now = Clock::from_time_t(946684799) - seconds(3600);
    EXPECT_EQ(parseRetryAfter("Fri, 31 Dec 1999 23:59:59 GMT", now), seconds(3600));
}

TEST(SdkRetryAfter, DatesInThePastMeanNowAndFarDatesAreCapped) {
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate + seconds(5)), seconds(0));
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate), seconds(0));
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate - seconds(3 * 86400)), kMaxRetryAfter);
}

TEST(SdkRetryAfter, PartSecondsRoundUp) {
    // 1.5 s before the date: wait 2 s, never less than the server asked.
    EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate - std::chrono::milliseconds(1500)),
              seconds(2));
}

TEST(SdkRetryAfter, NeitherFormIsNothing) {
    EXPECT_EQ(parseRetryAfter(""), std::nullopt);
    EXPECT_EQ(parseRetryAfter("  "), std::nullopt);
    EXPECT_EQ(parseRetryAfter("soon"), std::nullopt);
    EXPECT_EQ(parseRetryAfter("-5"), std::nullopt);
    EXPECT_EQ(parseRetryAfter("1.5"), std::nullopt);
    EXPECT_EQ(parseRetryAfter("120 s"), std::nullopt);
    EXPECT_EQ(parseRetryAfter("1994-11-06T08:49:37Z"), std::nullopt);
}

}  // namespace
