// The twilio connector through the C ABI: the built switchboard-twilio.so is dlopen'ed with a
// fake host that records what the plugin reports. Webhooks are checked against Twilio's own
// documented signature vector and against signatures this test computes with OpenSSL
// directly (never with the plugin's code); sends go to a real HTTP server on 127.0.0.1 that
// answers what Twilio's Messages API documents (201 with a sid, error JSON, 429).
#include "http_endpoint.h"
#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

using switchboard::test::HttpEndpoint;
using switchboard::test::ScriptedAnswer;
using Options = std::map<std::string, std::string>;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kAccount = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kToken = "auth-token-Distinct-77";
constexpr const char* kHookUrl = "https://sb.example.com/webhooks/sms-twilio";

const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("twilio"); }

struct WebhookAnswer {
    int status = 0;  // HTTP
    std::string body;
};

class Instance : public switchboard::test::PluginInstance {
public:
    explicit Instance(Options extra = {}) : PluginInstance(descriptor(), "sms-twilio", options(extra)) {}

    WebhookAnswer post(const std::string& path, const std::string& publicUrl, const std::string& body,
                       const std::string& signature) {
        switchboard::test::HeaderPairs headers{{"content-type", "application/x-www-form-urlencoded"}};
        if (!signature.empty()) headers.emplace_back("x-twilio-signature", signature);
        const switchboard::test::WebhookReply reply = handleWebhook({"POST", path, headers, body, publicUrl, ""});
        EXPECT_EQ(reply.status, SB_OK) << reply.pluginError;
        return {reply.http, reply.body};
    }

    using Sent = switchboard::test::SendOutcome;
    Sent send(const std::string& to, const std::string& text) {
        switchboard::Message m;
        m.channel = "sms";
        m.direction = SB_DIRECTION_OUTBOUND;
        m.sourceId = "out-1";
        m.text = text;
        m.recipients = {{"phone", to, ""}};
        m.attributes = {{"outbox.idempotency_key", "ob-1"}};
        return PluginInstance::send(m);
    }

private:
    // An empty value in extra removes the option (the host passes unset options as absent).
    static Options options(const Options& extra) {
        Options all{{"account_sid", kAccount}, {"auth_token", kToken}, {"from", "+15005550006"},
                    {"api_base_url", "https://api.twilio.com"}, {"timeout", "5000"}, {"channel", "sms"}};
        for (const auto& [k, v] : extra) all[k] = v;
        for (auto it = all.begin(); it != all.end();) it = it->second.empty() ? all.erase(it) : std::next(it);
        return all;
    }
};

std::string formEncode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
        else if (c == ' ') out += '+';
        else out += std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return out;
}

std::string formBody(const Params& params) {
    std::string body;
    for (const auto& [k, v] : params) body += (body.empty() ? "" : "&") + formEncode(k) + "=" + formEncode(v);
    return body;
}

// The test's own signer (OpenSSL), following Twilio's documented recipe.
std::string sign(const std::string& token, const std::string& url, Params params) {
    std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data = url;
    for (const auto& [k, v] : params) data += k + v;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest, &len);
    std::string out(4 * ((len + 2) / 3), '\0');
    out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(len))));
    return out;
}

Params inboundSms(const std::string& body, const std::string& sid = "SM0001") {
    return {{"MessageSid", sid},   {"AccountSid", kAccount}, {"From", "+351912345678"},
            {"To", "+15005550006"}, {"Body", body},           {"NumMedia", "0"}};
}

}  // namespace

// Twilio's documented example: auth token 12345, this URL and these parameters give
// RSOYDt4T1cUTdK1PDd93/VVr8B8= (twilio.com/docs/usage/security; the same vector is in
// Twilio's helper libraries' RequestValidator tests).
TEST(TwilioWebhook, AcceptsTwiliosDocumentedSignatureVector) {
    Instance inst(Options{{"auth_token", "12345"}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const Params params = {{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}, {"Digits", "1234"},
                           {"From", "+14158675309"},         {"To", "+18005551212"}};
    // The signature passes (a voice call's parameters carry no MessageSid, hence 400, not 403).
    EXPECT_EQ(inst.post("", url, formBody(params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=").status, 400);
    Params tampered = params;
    tampered[2].second = "9999";
    EXPECT_EQ(inst.post("", url, formBody(tampered), "RSOYDt4T1cUTdK1PDd93/VVr8B8=").status, 403);
    EXPECT_EQ(inst.post("", url + "&x=1", formBody(params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=").status, 403);
    EXPECT_EQ(inst.host().counters["webhook_rejected"], 3);  // the 400 counts too
}

TEST(TwilioWebhook, UnsignedOrWronglySignedRequestsAreRefusedAndCounted) {
    Instance inst;
    const Params p = inboundSms("hello");
    EXPECT_EQ(inst.post("", kHookUrl, formBody(p), "").status, 403);
    EXPECT_EQ(inst.post("", kHookUrl, formBody(p), sign("other-token", kHookUrl, p)).status, 403);
    EXPECT_EQ(inst.host().counters["webhook_rejected"], 2);
    EXPECT_TRUE(inst.host().emitted.empty());
}

TEST(TwilioWebhook, InboundSmsWithMediaBecomesAMessage) {
    Instance inst;
    Params p = inboundSms("Olá, photo attached + more");
    p[5].second = "1";
    p.push_back({"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"});
    p.push_back({"MediaContentType0", "image/jpeg"});
    auto answer = inst.post("", kHookUrl, formBody(p), sign(kToken, kHookUrl, p));
    ASSERT_EQ(answer.status, 200) << answer.body;
    EXPECT_NE(answer.body.find("<Response>"), std::string::npos);  // empty TwiML: no auto-reply
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    const auto& m = inst.host().emitted[0];
    EXPECT_EQ(m.sourceId, "SM0001");
    EXPECT_EQ(m.channel, "sms");
    EXPECT_EQ(m.text, "Olá, photo attached + more");
    ASSERT_EQ(m.sender.size(), 1u);
    EXPECT_EQ(m.sender[0].type, "phone");
    EXPECT_EQ(m.sender[0].value, "+351912345678");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].contentType, "image/jpeg");
    EXPECT_TRUE(inst.host().consents.empty());
}

TEST(TwilioWebhook, StopAndStartUpdateConsent) {
    Instance inst;
    Params stop = inboundSms(" Stop ", "SM0002");
    ASSERT_EQ(inst.post("", kHookUrl, formBody(stop), sign(kToken, kHookUrl, stop)).status, 200);
    Params start = inboundSms("START", "SM0003");
    ASSERT_EQ(inst.post("", kHookUrl, formBody(start), sign(kToken, kHookUrl, start)).status, 200);
    ASSERT_EQ(inst.host().consents.size(), 2u);
    EXPECT_EQ(inst.host().consents[0], "phone:+351912345678  opted_out sms STOP");
    EXPECT_EQ(inst.host().consents[1], "phone:+351912345678 service opted_in sms START");
    EXPECT_EQ(inst.host().emitted.size(), 2u);  // the keywords are kept in the timeline too
}

TEST(TwilioWebhook, StatusCallbacksBecomeDeliveryReports) {
    Instance inst;
    const std::string url = std::string(kHookUrl) + "/status";
    Params delivered = {{"MessageSid", "SM9"}, {"MessageStatus", "delivered"}, {"To", "+351912345678"}};
    EXPECT_EQ(inst.post("/status", url, formBody(delivered), sign(kToken, url, delivered)).status, 204);
    Params failed = {{"MessageSid", "SM10"}, {"MessageStatus", "undelivered"}, {"ErrorCode", "21610"},
                     {"To", "+351912345678"}};
    EXPECT_EQ(inst.post("/status", url, formBody(failed), sign(kToken, url, failed)).status, 204);
    ASSERT_EQ(inst.host().receipts.size(), 2u);
    EXPECT_EQ(inst.host().receipts[0], std::make_pair(std::string("SM9"), SB_DELIVERY_DELIVERED));
    EXPECT_EQ(inst.host().receipts[1], std::make_pair(std::string("SM10"), SB_DELIVERY_UNDELIVERED));
    ASSERT_EQ(inst.host().consents.size(), 1u);
    EXPECT_EQ(inst.host().consents[0], "phone:+351912345678  opted_out twilio error 21610");
}

TEST(TwilioSend, PostsToTheMessagesApiWithBasicAuthAndReturnsTheSid) {
    HttpEndpoint api;
    api.answer({201, R"({"sid":"SM5f0c2e6ab8f54d3e9c1a2b3c4d5e6f70","status":"queued","error_code":null})", {}, false});
    Instance inst(Options{{"api_base_url", api.url("")}, {"status_callback_url", std::string(kHookUrl) + "/status"}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    auto sent = inst.send("+351912345678", "Olá & bem-vindo");
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    EXPECT_EQ(sent.providerId, "SM5f0c2e6ab8f54d3e9c1a2b3c4d5e6f70");
    auto req = api.only();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.uri, std::string("/2010-04-01/Accounts/") + kAccount + "/Messages.json");
    // Basic base64(AccountSid:AuthToken), computed here with OpenSSL.
    const std::string creds = std::string(kAccount) + ":" + kToken;
    std::string b64(4 * ((creds.size() + 2) / 3), '\0');
    b64.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                   reinterpret_cast<const unsigned char*>(creds.data()),
                                                   static_cast<int>(creds.size()))));
    EXPECT_EQ(req.headers["authorization"], "Basic " + b64);
    EXPECT_NE(req.body.find("To=%2B351912345678"), std::string::npos) << req.body;
    EXPECT_NE(req.body.find("From=%2B15005550006"), std::string::npos) << req.body;
    EXPECT_NE(req.body.find("Body=Ol%C3%A1%20%26%20bem-vindo"), std::string::npos) << req.body;
    EXPECT_NE(req.body.find("StatusCallback=https%3A%2F%2Fsb.example.com%2Fwebhooks%2Fsms-twilio%2Fstatus"),
              std::string::npos)
        << req.body;
}

TEST(TwilioSend, UnsubscribedRecipientOptsTheNumberOutAndDeadLetters) {
    HttpEndpoint api;
    api.answer({400,
                R"({"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400})",
                {}, false});
    Instance inst(Options{{"api_base_url", api.url("")}});
    auto sent = inst.send("+351912345678", "hi");
    EXPECT_EQ(sent.status, SB_FAIL_DATA) << sent.error;
    EXPECT_NE(sent.error.find("21610"), std::string::npos) << sent.error;
    EXPECT_NE(sent.error.find("unsubscribed recipient"), std::string::npos) << sent.error;
    ASSERT_EQ(inst.host().consents.size(), 1u);
    EXPECT_EQ(inst.host().consents[0], "phone:+351912345678  opted_out twilio error 21610");
}

TEST(TwilioSend, RateLimitAndServerErrorsAreRetried) {
    HttpEndpoint api;
    api.answer({429, R"({"code":20429,"message":"Too Many Requests","status":429})", {{"Retry-After", "3"}}, false});
    Instance inst(Options{{"api_base_url", api.url("")}});
    auto limited = inst.send("+351912345678", "hi");
    EXPECT_EQ(limited.status, SB_RETRY) << limited.error;
    EXPECT_EQ(limited.retryAfterMs, 3000u);
    api.answer({503, "Service Unavailable", {{"Content-Type", "text/plain"}}, false});
    EXPECT_EQ(inst.send("+351912345678", "hi").status, SB_RETRY);
}

TEST(TwilioSend, BadCredentialsAreFatalAndOtherErrorsPermanent) {
    HttpEndpoint api;
    api.answer({401, R"({"code":20003,"message":"Authenticate","status":401})", {}, false});
    Instance inst(Options{{"api_base_url", api.url("")}});
    auto denied = inst.send("+351912345678", "hi");
    EXPECT_EQ(denied.status, SB_FAIL_FATAL) << denied.error;
    EXPECT_EQ(denied.error.find(kToken), std::string::npos) << denied.error;
    api.answer({400, R"({"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","status":400})", {}, false});
    auto invalid = inst.send("+1555", "hi");
    EXPECT_EQ(invalid.status, SB_FAIL_DATA);
    EXPECT_NE(invalid.error.find("21211"), std::string::npos) << invalid.error;
    EXPECT_TRUE(inst.host().consents.empty());
}

TEST(TwilioConfig, FromOrMessagingServiceExactlyOne) {
    Instance neither(Options{{"from", ""}});
    EXPECT_EQ(neither.createStatus(), SB_FAIL_CONFIG);
    EXPECT_NE(neither.createError().find("messaging_service_sid"), std::string::npos) << neither.createError();
    Instance both(Options{{"messaging_service_sid", "MG0123"}});
    EXPECT_EQ(both.createStatus(), SB_FAIL_CONFIG);
    Instance badSid(Options{{"account_sid", "XX123"}});
    EXPECT_EQ(badSid.createStatus(), SB_FAIL_CONFIG);
}
