// report_consent (ABI 1.2) on the running host: a plugin saying a number opted out (an SMS
// STOP) records consent for that address through the same writer as the customer API, the
// customer view shows it, the outbox refuses to send there, and a later opt-in (START) lets
// sends through again. The consent_reporter fixture (tests/fixtures/consent_reporter.cpp)
// plays the SMS connector.
#include "host_store_test.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace switchboard::test;
using nlohmann::json;

namespace {

std::vector<std::string> pluginDirs() {
    return {buildPluginDir(), std::string(SWITCHBOARD_FIXTURE_DIR) + "/consent_reporter"};
}

const std::string kConnectors =
    "  - name: site-chat\n    plugin: webchat\n"
    "  - name: sms\n    plugin: consent_reporter\n";
const std::string kExtra = "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n";

json api(const HostProcess& host, const std::string& uri) {
    auto r = host.get(uri, host.auth());
    EXPECT_EQ(r.status, 200) << uri << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
}

std::string customerFromChat(const HostProcess& host) {
    json m{{"id", "c1"}, {"from", {{"name", "Ana"}, {"phone", "912 345 678"}}}, {"text", "hello"}};
    EXPECT_EQ(host.post("/webhooks/site-chat", m.dump()).status, 200);
    json found = api(host, "/api/v1/customers?identity=phone:%2B351912345678");
    return found["customers"].empty() ? "" : found["customers"][0]["id"].get<std::string>();
}

int reportConsent(const HostProcess& host, const std::string& query) {
    return host.post("/webhooks/sms/consent?" + query, "").status;
}

int sendSms(const HostProcess& host, const std::string& customer, const std::string& purpose = "service") {
    json body{{"customer_id", customer}, {"connector", "sms"}, {"text", "hi"}, {"purpose", purpose}};
    return http("POST", host.port(), "/api/v1/messages", body.dump(), host.auth()).status;
}

class ConsentReport : public OnEachHostStore {};

}  // namespace

SWITCHBOARD_ON_EACH_HOST_STORE(ConsentReport);

TEST_P(ConsentReport, StopFromThePluginRefusesLaterSendsAndStartAllowsThemAgain) {
    HostProcess host(kConnectors, kExtra, {}, pluginDirs());
    const std::string ana = customerFromChat(host);
    ASSERT_FALSE(ana.empty());
    ASSERT_EQ(sendSms(host, ana), 202);

    // The plugin gives the number as the SMS gateway wrote it (national format): the host
    // normalizes it to the same match key as the customer's identity.
    ASSERT_EQ(reportConsent(host, "phone=912345678&status=opted_out"), 200);
    json consent = api(host, "/api/v1/customers/" + ana)["identities"];
    bool seen = false;
    for (const auto& id : consent)
        if (id.value("type", "") == "phone") {
            seen = true;
            EXPECT_EQ(id["consent"]["service"]["status"], "opted_out") << id.dump();
            EXPECT_EQ(id["consent"]["marketing"]["status"], "opted_out") << id.dump();
            EXPECT_EQ(id["consent"]["service"]["source"], "sms") << id.dump();
        }
    EXPECT_TRUE(seen) << consent.dump();
    EXPECT_EQ(sendSms(host, ana), 409);

    // START: service messages go again; marketing still needs its own explicit opt-in.
    ASSERT_EQ(reportConsent(host, "phone=%2B351912345678&status=opted_in&purpose=service"), 200);
    EXPECT_EQ(sendSms(host, ana), 202);
    EXPECT_EQ(sendSms(host, ana, "marketing"), 409);
}

TEST_P(ConsentReport, MalformedReportsAreRefusedAndChangeNothing) {
    HostProcess host(kConnectors, kExtra, {}, pluginDirs());
    const std::string ana = customerFromChat(host);
    EXPECT_EQ(reportConsent(host, "phone=912345678&status=maybe"), 400);
    EXPECT_EQ(reportConsent(host, "phone=912345678&status=opted_out&purpose=newsletters"), 400);
    EXPECT_EQ(reportConsent(host, "phone=&status=opted_out"), 400);
    // A withheld / alphanumeric sender can never be matched: refused rather than lost.
    EXPECT_EQ(reportConsent(host, "phone=ACME&status=opted_out"), 400);
    EXPECT_EQ(sendSms(host, ana), 202);
}
