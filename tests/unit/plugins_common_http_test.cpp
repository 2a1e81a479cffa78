// plugins/common's HTTP rules, shared by every bundled connector: how a provider's error
// status becomes a Result, and how an http(s) URL option is checked (never echoing secrets).
#include <sbcommon/http_answer.h>
#include <sbcommon/url_option.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PluginsCommonHttp, TransientStatusesRetryAfterTheServersDelay) {
    for (long status : {408L, 429L, 500L, 502L, 503L, 599L}) {
        const switchboard::Result r = sbcommon::failedAnswer(status, "api answered", 7000, "(check key)");
        EXPECT_EQ(r.status(), SB_RETRY) << status;
        EXPECT_EQ(r.retryAfterMs(), 7000u) << status;
    }
}

TEST(PluginsCommonHttp, CredentialsRefusedAreFatalOnlyWhenTheyAreTheInstances) {
    const switchboard::Result fatal = sbcommon::failedAnswer(401, "api answered 401", 0, "(check key)");
    EXPECT_EQ(fatal.status(), SB_FAIL_FATAL);
    EXPECT_EQ(fatal.message(), "api answered 401 (check key)");
    EXPECT_EQ(sbcommon::failedAnswer(403, "x", 0, "(check key)").status(), SB_FAIL_FATAL);
    // A website's 401 about one reply: that message's failure.
    EXPECT_EQ(sbcommon::failedAnswer(401, "x", 0, nullptr).status(), SB_FAIL_DATA);
}

TEST(PluginsCommonHttp, OtherStatusesAreThisMessagesFault) {
    for (long status : {400L, 404L, 409L, 422L, 301L}) {
        const switchboard::Result r = sbcommon::failedAnswer(status, "api answered", 7000, "(check key)");
        EXPECT_EQ(r.status(), SB_FAIL_DATA) << status;
        EXPECT_EQ(r.message(), "api answered");
    }
    EXPECT_TRUE(sbcommon::isSuccess(200));
    EXPECT_TRUE(sbcommon::isSuccess(204));
    EXPECT_FALSE(sbcommon::isSuccess(199));
    EXPECT_FALSE(sbcommon::isSuccess(300));
}

std::string configError(const std::string& url, sbcommon::Query query = sbcommon::Query::Allowed) {
    try {
        sbcommon::checkedHttpUrl("base_url", url, query);
    } catch (const switchboard::ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(PluginsCommonHttp, UrlOptionsAreAbsoluteHttpUrlsAndLoggedWithoutSecrets) {
    EXPECT_EQ(sbcommon::checkedHttpUrl("base_url", "https://user:pw@api.example.com:8443/v1?k=s"),
              "https://api.example.com:8443/v1");
    EXPECT_THAT(configError("ftp://example.com/"), HasSubstr("option 'base_url': scheme must be http or https"));
    EXPECT_THAT(configError("example.com/path"), HasSubstr("option 'base_url': not a valid absolute URL"));
    EXPECT_THAT(configError("http://example.com/x?token=s3cret", sbcommon::Query::Refused),
                HasSubstr("must not have a query string"));
    EXPECT_EQ(configError("http://example.com/x?token=s3cret"), "");
    const std::string bad = configError("http://user:s3cret@[bad/x");
    EXPECT_THAT(bad, HasSubstr("not a valid absolute URL"));
    EXPECT_THAT(bad, Not(HasSubstr("s3cret")));
}

}  // namespace
