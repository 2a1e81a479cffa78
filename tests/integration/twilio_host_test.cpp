// The twilio connector in the real host, with a local double of Twilio's Messages API
// (tests/support/http_endpoint.h): a signed inbound SMS reaches the customer's timeline, a
// send goes to the API and its status callback updates the delivery status, and Twilio's
// error 21610 opts the number out so the next send is refused up front. Signatures are
// computed here with OpenSSL, over the URL the host is reached at (no server.public_url:
// http://127.0.0.1:PORT).
#include "http_endpoint.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstring>

using namespace switchboard::test;
using nlohmann::json;

namespace {

constexpr const char* kAccount = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kToken = "host-test-auth-token";
using Params = std::vector<std::pair<std::string, std::string>>;

std::string sign(const std::string& url, Params params) {
    std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data = url;
    for (const auto& [k, v] : params) data += k + v;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha1(), kToken, static_cast<int>(std::strlen(kToken)), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest, &len);
    std::string out(4 * ((len + 2) / 3), '\0');
    out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(len))));
    return out;
}

std::string form(const Params& params) {
    static const char* hex = "0123456789ABCDEF";
    std::string body;
    for (const auto& [k, v] : params) {
        body += (body.empty() ? "" : "&") + k + "=";
        for (unsigned char c : v) body += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return body;
}

class TwilioHost : public ::testing::Test {
protected:
    void SetUp() override {
        host_ = std::make_unique<HostProcess>(
            "  - name: sms-twilio\n    plugin: twilio\n    options:\n"
            "      account_sid: " + std::string(kAccount) + "\n"
            "      auth_token: ${env:TWILIO_TOKEN}\n"
            "      from: \"+15005550006\"\n"
            "      api_base_url: " + api_.url("") + "\n",
            "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n  initial_backoff: 100ms\n",
            std::map<std::string, std::string>{{"TWILIO_TOKEN", kToken}});
    }
    HttpResponse webhook(const std::string& path, const Params& p) {
        const std::string url = "http://127.0.0.1:" + std::to_string(host_->port()) + "/webhooks/sms-twilio" + path;
        return host_->post("/webhooks/sms-twilio" + path, form(p),
                           {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", sign(url, p)}});
    }
    json api(const std::string& uri) {
        auto r = host_->get(uri, host_->auth());
        return r.status == 200 ? json::parse(r.body, nullptr, false) : json();
    }
    std::string customer() {
        json found = api("/api/v1/customers?identity=phone:%2B351912345678");
        return found.is_object() && !found["customers"].empty() ? found["customers"][0]["id"].get<std::string>() : "";
    }
    HttpResponse send(const std::string& id, const std::string& text) {
        json body{{"customer_id", id}, {"connector", "sms-twilio"}, {"text", text}};
        return http("POST", host_->port(), "/api/v1/messages", body.dump(), host_->auth());
    }
    HttpEndpoint api_;
    std::unique_ptr<HostProcess> host_;
};

}  // namespace

TEST_F(TwilioHost, InboundSendStatusCallbackAndUnsubscribedRecipient) {
    auto in = webhook("", {{"MessageSid", "SM100"}, {"From", "+351912345678"}, {"To", "+15005550006"},
                           {"Body", "Olá, where is my order?"}, {"NumMedia", "0"}});
    ASSERT_EQ(in.status, 200) << in.body << host_->output();
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer()).empty(); }));

    api_.answer({201, R"({"sid":"SM200","status":"queued"})", {}, false});
    auto sent = send(id, "It ships today");
    ASSERT_EQ(sent.status, 202) << sent.body;
    const int64_t messageId = json::parse(sent.body)["message_id"];
    ASSERT_TRUE(waitFor([&] { return api_.received().size() == 1; }));
    EXPECT_NE(api_.received()[0].body.find("To=%2B351912345678"), std::string::npos);

    // The status callback finds the message by the sid the send returned.
    std::string status;
    ASSERT_TRUE(waitFor([&] {
        webhook("/status", {{"MessageSid", "SM200"}, {"MessageStatus", "delivered"}, {"To", "+351912345678"}});
        const json page = api("/api/v1/customers/" + id + "/timeline?limit=50");
        if (page.is_object())
            for (const auto& i : page["interactions"])
                if (i["id"] == messageId && i["delivery_status"].is_string()) status = i["delivery_status"];
        return status == "delivered";
    })) << status << host_->output();

    // Twilio refuses: the number replied STOP on Twilio's side. The number is opted out...
    api_.answer({400, R"({"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400})", {}, false});
    ASSERT_EQ(send(id, "One more thing").status, 202);
    ASSERT_TRUE(waitFor([&] {
        const json view = api("/api/v1/customers/" + id);
        if (!view.is_object()) return false;
        for (const auto& i : view["identities"])
            if (i.value("type", "") == "phone" && i["consent"].contains("service"))
                return i["consent"]["service"].value("status", "") == "opted_out";
        return false;
    })) << host_->output();
    // ...so the next send is refused before it reaches Twilio.
    const size_t calls = api_.received().size();
    auto refused = send(id, "And another");
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(api_.received().size(), calls);
}

TEST_F(TwilioHost, ForgedWebhookIsRefused) {
    auto r = host_->post("/webhooks/sms-twilio", "MessageSid=SM1&From=%2B351912345678&Body=STOP",
                         {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", "forged="}});
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(customer().empty());
}
