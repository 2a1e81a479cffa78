// The kannel connector against a real Kannel gateway (tests/support/kannel_server.h:
// bearerbox + smsbox + Kannel's fake SMSC) and the real host. A phone's message entered at the
// fake SMSC reaches the customer's timeline; our outbound SMS reaches the fake SMSC with the
// right text, in UCS-2 when the text needs it and in concatenated segments when long;
// Kannel's delivery reports update the message's delivery status; STOP opts the number out
// so later sends are refused, START opts it back in.
#include "kannel_server.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

using namespace switchboard::test;
using nlohmann::json;

namespace {

const std::string kPhone = "+351912345678";
const std::string kShortCode = "4321";
const std::string kToken = "kannel-hook-token";

json api(const HostProcess& host, const std::string& uri) {
    auto r = host.get(uri, host.auth());
    return r.status == 200 ? json::parse(r.body, nullptr, false) : json();
}

// A host with the kannel instance "sms-kannel" wired to a running gateway.
class KannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        host_ = std::make_unique<HostProcess>("  - name: site-chat\n    plugin: webchat\n",
                                              "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n"
                                              "  initial_backoff: 100ms\n  max_backoff: 500ms\n",
                                              std::map<std::string, std::string>{{"KANNEL_PASSWORD", KannelServer::kPassword}});
        // The webhook URL needs the host's port, known only now: add the instance by reload.
        const std::string hook = "http://127.0.0.1:" + std::to_string(host_->port()) + "/webhooks/sms-kannel";
        host_->reload("  - name: site-chat\n    plugin: webchat\n"
                      "  - name: sms-kannel\n    plugin: kannel\n    options:\n"
                      "      sendsms_url: " + kannel_.sendsmsUrl() + "\n"
                      "      username: " + KannelServer::kUser + "\n"
                      "      password: ${env:KANNEL_PASSWORD}\n"
                      "      callback_url: " + hook + "\n"
                      "      webhook_token: " + kToken + "\n"
                      "      from: \"" + kShortCode + "\"\n",
                      "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n"
                      "  initial_backoff: 100ms\n  max_backoff: 500ms\n");
        ASSERT_TRUE(waitFor([&] {
            json c = api(*host_, "/api/v1/connectors/sms-kannel");
            return c.is_object() && c.value("state", "") == "running";
        }))
            << host_->output();
        // smsbox's get-url: the escape codes the connector's README documents.
        kannel_.start(hook + "?from=%p&to=%P&text=%b&coding=%c&charset=%C&time=%T&smsc=%i&id=%I&token=" + kToken);
    }

    // The customer the phone's messages resolved to ("" until one exists).
    std::string customer() {
        json found = api(*host_, "/api/v1/customers?identity=phone:%2B351912345678");
        return found.is_object() && !found["customers"].empty() ? found["customers"][0]["id"].get<std::string>() : "";
    }
    json timeline(const std::string& id) { return api(*host_, "/api/v1/customers/" + id + "/timeline?limit=100"); }
    HttpResponse send(const std::string& customerId, const std::string& text) {
        json body{{"customer_id", customerId}, {"connector", "sms-kannel"}, {"text", text}};
        return http("POST", host_->port(), "/api/v1/messages", body.dump(), host_->auth());
    }
    // A customer who texted us first.
    std::string customerWhoTexted() {
        kannel_.injectText(kPhone, kShortCode, "hello");
        std::string id;
        waitFor([&] { return !(id = customer()).empty(); });
        return id;
    }

    KannelServer kannel_;
    std::unique_ptr<HostProcess> host_;
};

}  // namespace

TEST_F(KannelTest, MessagesFromAPhoneReachTheCustomersTimeline) {
    // Kannel writes the sender as the SMSC gave it; the host normalizes it to E.164.
    kannel_.injectText(kPhone, kShortCode, "Hello, is my order + receipt ready? 100% sure");
    kannel_.injectUcs2(kPhone, kShortCode, "Olá! 你好 😀");
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer()).empty(); })) << kannel_.logs() << host_->output();
    std::vector<std::string> texts;
    ASSERT_TRUE(waitFor([&] {
        texts.clear();
        const json page = timeline(id);
        for (const auto& i : page["interactions"])
            if (i.value("channel", "") == "sms" && i.value("direction", "") == "inbound") texts.push_back(i.value("text", ""));
        return texts.size() == 2;
    })) << json(texts).dump() << "\n" << kannel_.logs() << host_->output();
    EXPECT_NE(std::find(texts.begin(), texts.end(), "Hello, is my order + receipt ready? 100% sure"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "Olá! 你好 😀"), texts.end());
}

TEST_F(KannelTest, OutboundTextArrivesIntactInGsmUcs2AndConcatenatedSegments) {
    const std::string id = customerWhoTexted();
    ASSERT_FALSE(id.empty()) << kannel_.logs();
    const std::string gsm = "Your code is {1234} for 5€ @ home_ok";
    const std::string portuguese = "Olá, a sua encomenda está a caminho";
    const std::string chinese = "您的订单已发货";
    std::string longText;
    for (int i = 0; i < 40; ++i) longText += "0123456789";  // 400 GSM-7 characters: 3 segments
    for (const auto& text : {gsm, portuguese, chinese, longText}) ASSERT_EQ(send(id, text).status, 202) << text;

    auto got = kannel_.waitForMessages(4);
    ASSERT_EQ(got.size(), 4u) << kannel_.logs();
    std::map<std::string, SmscMessage> byText;
    for (const auto& m : got) {
        EXPECT_EQ(m.to, kPhone);
        EXPECT_EQ(m.from, kShortCode);
        byText[m.type == "ucs-2" ? utf16BeToUtf8(m.bytes) : m.bytes] = m;
    }
    ASSERT_TRUE(byText.count(gsm)) << kannel_.logs();
    EXPECT_EQ(byText[gsm].type, "text");  // GSM-7: the default coding
    ASSERT_TRUE(byText.count(portuguese)) << kannel_.logs();
    EXPECT_EQ(byText[portuguese].type, "ucs-2");  // á/ã are not GSM: sent as UCS-2, not mangled
    ASSERT_TRUE(byText.count(chinese)) << kannel_.logs();
    EXPECT_EQ(byText[chinese].type, "ucs-2");
    ASSERT_TRUE(byText.count(longText)) << kannel_.logs();
    EXPECT_EQ(byText[longText].parts, 3);  // 153 + 153 + 94 septets
}

TEST_F(KannelTest, LongUcs2TextIsConcatenated) {
    const std::string id = customerWhoTexted();
    ASSERT_FALSE(id.empty());
    std::string text;
    for (int i = 0; i < 40; ++i) text += "你好世界";  // 160 UCS-2 units: 67 + 67 + 26
    ASSERT_EQ(send(id, text).status, 202);
    auto got = kannel_.waitForMessages(1);
    ASSERT_EQ(got.size(), 1u) << kannel_.logs();
    EXPECT_EQ(got[0].parts, 3);
    EXPECT_EQ(utf16BeToUtf8(got[0].bytes), text);
}

TEST_F(KannelTest, DeliveryReportsUpdateTheTimeline) {
    const std::string id = customerWhoTexted();
    ASSERT_FALSE(id.empty());
    auto sent = send(id, "Your parcel arrives today");
    ASSERT_EQ(sent.status, 202) << sent.body;
    const int64_t messageId = json::parse(sent.body)["message_id"];
    // The fake SMSC acknowledges (DLR 8, "sent") and reports delivery (DLR 1, "delivered").
    std::string status;
    EXPECT_TRUE(waitFor([&] {
        const json page = timeline(id);
        for (const auto& i : page["interactions"])
            if (i["id"] == messageId && i["delivery_status"].is_string()) status = i["delivery_status"];
        return status == "delivered";
    })) << "delivery_status: " << status << "\n" << kannel_.logs() << host_->output();
}

TEST_F(KannelTest, StopOptsTheNumberOutAndStartOptsItBackIn) {
    const std::string id = customerWhoTexted();
    ASSERT_FALSE(id.empty());
    kannel_.injectText(kPhone, kShortCode, " stop ");
    auto consent = [&](const std::string& purpose) {
        const json view = api(*host_, "/api/v1/customers/" + id);
        for (const auto& i : view["identities"])
            if (i.value("type", "") == "phone" && i["consent"].contains(purpose))
                return i["consent"][purpose].value("status", "");
        return std::string();
    };
    ASSERT_TRUE(waitFor([&] { return consent("service") == "opted_out"; })) << kannel_.logs() << host_->output();
    EXPECT_EQ(consent("marketing"), "opted_out");
    auto refused = send(id, "We miss you");
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_NE(refused.body.find("opted out"), std::string::npos) << refused.body;

    kannel_.injectText(kPhone, kShortCode, "START");
    ASSERT_TRUE(waitFor([&] { return consent("service") == "opted_in"; })) << kannel_.logs();
    EXPECT_EQ(send(id, "Welcome back").status, 202);
    EXPECT_EQ(kannel_.waitForMessages(1).size(), 1u) << kannel_.logs();
}

TEST_F(KannelTest, WebhookRequestsWithoutTheTokenAreRefused) {
    auto r = host_->get("/webhooks/sms-kannel?from=%2B351912345678&text=STOP&id=forged-1");
    EXPECT_EQ(r.status, 403) << r.body;
    auto dlr = host_->get("/webhooks/sms-kannel/dlr?id=x&type=1&token=wrong");
    EXPECT_EQ(dlr.status, 403) << dlr.body;
    EXPECT_TRUE(customer().empty());  // nothing was stored
}
