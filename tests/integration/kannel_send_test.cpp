// The kannel connector's sendsms mapping, through the C ABI: the built switchboard-kannel.so
// is dlopen'ed and its send() driven against a real HTTP server on 127.0.0.1 that plays
// Kannel's sendsms interface and answers what Kannel answers (and what a broken gateway
// answers). The happy path against a real Kannel is in kannel_test.cpp.
#include "http_endpoint.h"
#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using switchboard::test::HttpEndpoint;
using switchboard::test::ScriptedAnswer;
using Options = std::map<std::string, std::string>;

constexpr const char* kPassword = "Kannel-Pass-Distinct-9";

const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("kannel"); }

using switchboard::test::SendOutcome;

class Instance : public switchboard::test::PluginInstance {
public:
    explicit Instance(const std::string& sendsmsUrl, Options extra = {})
        : PluginInstance(descriptor(), "sms", options(sendsmsUrl, extra)) {}

    SendOutcome send(const std::string& text) {
        switchboard::Message m;
        m.channel = "sms";
        m.direction = SB_DIRECTION_OUTBOUND;
        m.sourceId = "out-1";
        m.text = text;
        m.recipients = {{"phone", "+351912345678", ""}};
        m.attributes = {{"outbox.idempotency_key", "ob_key/1"}};
        return PluginInstance::send(m);
    }

private:
    static Options options(const std::string& sendsmsUrl, const Options& extra) {
        Options all{{"sendsms_url", sendsmsUrl}, {"username", "switchboard"}, {"password", kPassword},
                    {"callback_url", "http://sb.test:8080/webhooks/sms"}, {"dlr_mask", "31"},
                    {"max_segments", "3"}, {"timeout", "5000"}, {"channel", "sms"}, {"from", "4321"}};
        for (const auto& [k, v] : extra) all[k] = v;
        return all;
    }
};

bool has(const std::string& uri, const std::string& part) { return uri.find(part) != std::string::npos; }

}  // namespace

TEST(KannelSend, AcceptedGsmTextCarriesCredentialsCodingAndADlrUrlWithOurId) {
    HttpEndpoint kannel;
    kannel.answer({202, "0: Accepted for delivery", {{"Content-Type", "text/html"}}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send("Hi {Ann}, 5€ off");
    ASSERT_EQ(out.status, SB_OK) << out.error;
    EXPECT_EQ(out.providerId, "ob_key/1");  // the outbox key: the same on every retry
    const std::string uri = kannel.only().uri;
    EXPECT_TRUE(has(uri, "/cgi-bin/sendsms?")) << uri;
    EXPECT_TRUE(has(uri, "username=switchboard")) << uri;
    EXPECT_TRUE(has(uri, std::string("password=") + kPassword)) << uri;
    EXPECT_TRUE(has(uri, "to=%2B351912345678")) << uri;
    EXPECT_TRUE(has(uri, "from=4321")) << uri;
    EXPECT_TRUE(has(uri, "text=Hi%20%7BAnn%7D%2C%205%E2%82%AC%20off")) << uri;
    EXPECT_TRUE(has(uri, "coding=0")) << uri;
    EXPECT_TRUE(has(uri, "dlr-mask=31")) << uri;
    // dlr-url, itself url-encoded: <callback_url>/dlr?id=ob_key%2F1&type=%d&...
    EXPECT_TRUE(has(uri, "dlr-url=http%3A%2F%2Fsb.test%3A8080%2Fwebhooks%2Fsms%2Fdlr%3Fid%3Dob_key%252F1%26type%3D%25d"))
        << uri;
}

TEST(KannelSend, NonGsmTextGoesAsUcs2Utf16) {
    HttpEndpoint kannel;
    kannel.answer({202, "0: Accepted for delivery", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    ASSERT_EQ(inst.send("Olá").status, SB_OK);
    const std::string uri = kannel.only().uri;
    EXPECT_TRUE(has(uri, "text=%00O%00l%00%E1")) << uri;
    EXPECT_TRUE(has(uri, "charset=UTF-16BE")) << uri;
    EXPECT_TRUE(has(uri, "coding=2")) << uri;
}

TEST(KannelSend, BusyGatewayIsRetriedAfterItsRetryAfter) {
    HttpEndpoint kannel;
    kannel.answer({503, "Service unavailable", {{"Retry-After", "7"}}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_EQ(out.retryAfterMs, 7000u);
    EXPECT_TRUE(has(out.error, "503")) << out.error;
}

TEST(KannelSend, WrongCredentialsStopTheInstanceWithoutLeakingThePassword) {
    HttpEndpoint kannel;
    kannel.answer({403, "Authorization failed for sendsms", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_FAIL_FATAL) << out.error;
    EXPECT_TRUE(has(out.error, "Authorization failed")) << out.error;
    EXPECT_FALSE(has(out.error, kPassword)) << out.error;
}

TEST(KannelSend, RejectedMessageIsDeadLetteredWithKannelsReason) {
    HttpEndpoint kannel;
    kannel.answer({400, "Missing receiver number", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_FAIL_DATA) << out.error;
    EXPECT_TRUE(has(out.error, "Missing receiver number")) << out.error;
}

TEST(KannelSend, UnreachableGatewayIsRetried) {
    const int closed = switchboard::test::freePort();
    Instance inst("http://127.0.0.1:" + std::to_string(closed) + "/cgi-bin/sendsms");
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_FALSE(has(out.error, kPassword)) << out.error;
}

TEST(KannelSend, TextLongerThanMaxSegmentsFailsWithoutARequest) {
    HttpEndpoint kannel;
    Instance inst(kannel.url("/cgi-bin/sendsms"));  // max_segments 3
    SendOutcome out = inst.send(std::string(4 * 153, 'x'));
    EXPECT_EQ(out.status, SB_FAIL_DATA) << out.error;
    EXPECT_TRUE(has(out.error, "4 SMS segments")) << out.error;
    EXPECT_TRUE(kannel.received().empty());
}

TEST(KannelSend, BadConfigurationIsRefusedNamingTheOption) {
    HttpEndpoint kannel;
    Instance badUrl("ftp://kannel/cgi-bin/sendsms");
    EXPECT_EQ(badUrl.createStatus(), SB_FAIL_CONFIG);
    EXPECT_TRUE(has(badUrl.createError(), "sendsms_url")) << badUrl.createError();
    Instance badMask(kannel.url("/cgi-bin/sendsms"), {{"dlr_mask", "64"}});
    EXPECT_EQ(badMask.createStatus(), SB_FAIL_CONFIG);
    EXPECT_TRUE(has(badMask.createError(), "dlr_mask")) << badMask.createError();
}
