// The vonage connector through the C ABI: the built switchboard-vonage.so is dlopen'ed with a
// fake host that records what the plugin reports. Webhook signatures are checked against
// vectors computed with Python's hashlib (below) and against signatures this test computes
// with OpenSSL directly, never with the plugin's code; sends go to a local double of the SMS
// API (tests/fixtures/vonage/vonage_double.h) that implements Vonage's documented request and
// answer formats, credentials, multi-part answers and throttling.
#include "../fixtures/vonage/vonage_double.h"
#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

using switchboard::test::PluginInstance;
using switchboard::test::WebhookReply;
using vonage_test::VonageSmsDouble;
using Options = std::map<std::string, std::string>;
using Params = std::map<std::string, std::string>;

constexpr const char* kApiKey = "a1b2c3d4";
constexpr const char* kApiSecret = "Api-Secret-Distinct-55";
constexpr const char* kSigSecret = "Sup3rSecretSignat0re";

const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("vonage"); }

std::string form(const Params& p) { return vonage_test::formEncode(p); }

std::string sign(const Params& params, const std::string& method = "md5hash", const std::string& secret = kSigSecret) {
    return vonage_test::sign(params, method, secret);
}

long long nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Params inboundSms(const std::string& text, const std::string& id = "0A0000001234ABCD") {
    return {{"msisdn", "447700900001"}, {"to", "447700900000"}, {"messageId", id}, {"text", text}, {"type", "text"},
            {"keyword", text.substr(0, text.find(' '))}, {"message-timestamp", "2020-01-01 12:00:00"}};
}

Params concatPart(const std::string& text, const std::string& id, int part, int total, const std::string& ref = "7B") {
    Params p = inboundSms(text, id);
    p["concat"] = "true";
    p["concat-ref"] = ref;
    p["concat-total"] = std::to_string(total);
    p["concat-part"] = std::to_string(part);
    return p;
}

// Adds timestamp, nonce and sig as Vonage does for a signed webhook.
Params signedNow(Params p, const std::string& method = "md5hash", long long timestamp = nowSeconds()) {
    p["timestamp"] = std::to_string(timestamp);
    p["nonce"] = "6d9f1c5e-1b2a-4c3d-9e8f-0a1b2c3d4e5f";
    p["sig"] = sign(p, method);
    return p;
}

class Instance : public PluginInstance {
public:
    explicit Instance(Options extra = {}) : PluginInstance(descriptor(), "sms-vonage", options(extra)) {}

    WebhookReply postForm(const Params& p, const std::string& path = "") {
        return handleWebhook({"POST", path, {{"content-type", "application/x-www-form-urlencoded"}}, form(p), "", ""});
    }
    WebhookReply postJson(const nlohmann::json& body, const std::string& path = "") {
        return handleWebhook({"POST", path, {{"content-type", "application/json"}}, body.dump(), "", ""});
    }

    switchboard::test::SendOutcome send(const std::string& to, const std::string& text) {
        switchboard::Message m;
        m.channel = "sms";
        m.direction = SB_DIRECTION_OUTBOUND;
        m.sourceId = "out-1";
        m.text = text;
        m.recipients = {{"phone", to, ""}};
        return PluginInstance::send(m);
    }

private:
    // (GET webhooks carry their parameters in the query, which the harness does not pass:
    // vonage_host_test.cpp sends those through the real host.)
    WebhookReply handleWebhook(const switchboard::test::WebhookRequest& r) {
        WebhookReply reply = PluginInstance::handleWebhook(r);
        EXPECT_EQ(reply.status, SB_OK) << reply.pluginError;
        return reply;
    }

    // An empty value in extra removes the option (the host passes unset options as absent).
    static Options options(const Options& extra) {
        Options all = switchboard::test::withOptionDefaults(
            descriptor(), {{"api_key", kApiKey}, {"api_secret", kApiSecret}, {"from", "447700900000"}});
        for (const auto& [k, v] : extra) all[k] = v;
        for (auto it = all.begin(); it != all.end();) it = it->second.empty() ? all.erase(it) : std::next(it);
        return all;
    }
};

}  // namespace

// ---- signatures ---------------------------------------------------------------------------

// Vectors computed outside this code base, with Python's hashlib/hmac over Vonage's recipe:
//   p = {msisdn, to, messageId, text, type, keyword, message-timestamp, timestamp, nonce} below
//   s = "".join("&%s=%s" % (k, p[k].replace("&","_").replace("=","_")) for k in sorted(p))
//   md5hash: hashlib.md5((s + secret).encode()).hexdigest()
//   others:  hmac.new(secret.encode(), s.encode(), m).hexdigest().upper()
TEST(VonageSignature, AcceptsIndependentlyComputedVectorsForEveryMethod) {
    const Params p = {{"msisdn", "447700900001"}, {"to", "447700900000"}, {"messageId", "0A0000000123ABCD1"},
                      {"text", "Hello world & a=b"}, {"type", "text"}, {"keyword", "HELLO"},
                      {"message-timestamp", "2020-01-01 12:00:00"}, {"timestamp", "1577880000"},
                      {"nonce", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}};
    const std::map<std::string, std::string> vectors = {
        {"md5hash", "d4f2e8c3f24b8fec929d465804c68b77"},
        {"md5", "24ED63A2462B4E1C9E0D80411B1A95B7"},
        {"sha1", "963025070A6B0EFBF04F77F89938D13F1F9B986F"},
        {"sha256", "2214F0D3A46408E2DBBA1949D24D32770EEF8162568381EB89E67752C112DC22"},
        {"sha512", "A6D55775D2C0EF0A32A2A7A93BE29DAA05141B7BBB783EFD23779BEE3F4E815A92D917827FB00CDC2EE45CDB364B0328CDDD2A99A11ECBCF34EF3DDBDCE10982"}};
    for (const auto& [method, sig] : vectors) {
        // The vector's timestamp is from 2020: allow any age here (staleness is tested below).
        Instance inst(Options{{"signature_secret", kSigSecret}, {"signature_method", method},
                              {"signature_max_age", "999999999999"}});
        ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
        Params signedParams = p;
        signedParams["sig"] = sig;
        EXPECT_EQ(inst.postForm(signedParams).http, 200) << method;
        Params forged = signedParams;
        forged["text"] = "Hello world & a=c";
        EXPECT_EQ(inst.postForm(forged).http, 403) << method;
        EXPECT_EQ(inst.host().emitted.size(), 1u) << method;
        EXPECT_EQ(inst.host().counter("signature_rejected"), 1) << method;
    }
    // And our own OpenSSL signer agrees with the Python vectors (so later tests sign honestly).
    EXPECT_EQ(sign(p, "md5hash"), vectors.at("md5hash"));
    EXPECT_EQ(sign(p, "sha256"), vectors.at("sha256"));
}

TEST(VonageSignature, MissingForgedOrStaleSignaturesAreRefusedAndCounted) {
    Instance inst(Options{{"signature_secret", kSigSecret}, {"signature_method", "sha256"}});
    const Params good = signedNow(inboundSms("hello"), "sha256");
    EXPECT_EQ(inst.postForm(good).http, 200);

    Params unsignedParams = inboundSms("hello", "0A00000000000002");
    EXPECT_EQ(inst.postForm(unsignedParams).http, 403);
    Params forged = signedNow(inboundSms("hello", "0A00000000000003"), "sha256");
    forged["msisdn"] = "447700900999";  // signed for another sender
    EXPECT_EQ(inst.postForm(forged).http, 403);
    Params wrongSecret = inboundSms("hello", "0A00000000000004");
    wrongSecret["timestamp"] = std::to_string(nowSeconds());
    wrongSecret["sig"] = sign(wrongSecret, "sha256", "not-the-secret");
    EXPECT_EQ(inst.postForm(wrongSecret).http, 403);
    const Params stale = signedNow(inboundSms("hello", "0A00000000000005"), "sha256", nowSeconds() - 600);
    EXPECT_EQ(inst.postForm(stale).http, 403);  // a valid signature, replayed 10 minutes later
    const Params future = signedNow(inboundSms("hello", "0A00000000000006"), "sha256", nowSeconds() + 600);
    EXPECT_EQ(inst.postForm(future).http, 403);

    EXPECT_EQ(inst.host().counter("signature_rejected"), 5);
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.host().allLogs().find(kSigSecret), std::string::npos);
    // A JSON webhook signs the same parameters.
    const Params signedJson = signedNow(inboundSms("json", "0A00000000000007"), "sha256");
    EXPECT_EQ(inst.postJson(nlohmann::json(signedJson)).http, 200);
    EXPECT_EQ(inst.host().emitted.size(), 2u);
}

TEST(VonageSignature, WithoutASecretWebhooksAreNotVerified) {
    Instance inst;
    EXPECT_EQ(inst.postForm(inboundSms("no signature")).http, 200);
    EXPECT_EQ(inst.host().emitted.size(), 1u);
}

TEST(VonageConfig, RefusesAnUnknownSignatureMethodAndMissingCredentials) {
    Instance bad(Options{{"signature_method", "sha384"}});
    EXPECT_EQ(bad.createStatus(), SB_FAIL_CONFIG);
    EXPECT_NE(bad.createError().find("signature_method"), std::string::npos) << bad.createError();
    Instance noSecret(Options{{"api_secret", ""}});
    EXPECT_NE(noSecret.createStatus(), SB_OK);
    Instance badUrl(Options{{"base_url", "ftp://rest.nexmo.com"}});
    EXPECT_EQ(badUrl.createStatus(), SB_FAIL_CONFIG);
}

// ---- inbound -----------------------------------------------------------------------------

TEST(VonageInbound, FormPostBecomesAMessageWithE164SenderAndTimestamp) {
    Instance inst;
    Params p = inboundSms("Olá, onde está a minha encomenda? 😀");
    p["type"] = "unicode";
    const auto reply = inst.postForm(p);
    ASSERT_EQ(reply.http, 200) << reply.body;
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    const auto& m = inst.host().emitted[0];
    EXPECT_EQ(m.sourceId, "0A0000001234ABCD");
    EXPECT_EQ(m.channel, "sms");
    EXPECT_EQ(m.text, "Olá, onde está a minha encomenda? 😀");
    ASSERT_EQ(m.sender.size(), 1u);
    EXPECT_EQ(m.sender[0].type, "phone");
    EXPECT_EQ(m.sender[0].value, "+447700900001");
    ASSERT_EQ(m.recipients.size(), 1u);
    EXPECT_EQ(m.recipients[0].value, "+447700900000");
    EXPECT_EQ(m.occurredAtMs, 1577880000000);  // 2020-01-01 12:00:00 UTC
    EXPECT_EQ(m.rawContentType, "application/x-www-form-urlencoded");
    EXPECT_NE(std::find(m.attributes.begin(), m.attributes.end(), std::make_pair(std::string("sms.type"), std::string("unicode"))),
              m.attributes.end());
}

TEST(VonageInbound, JsonPostIsReadLikeAForm) {
    Instance inst;
    nlohmann::json body = inboundSms("Hi from JSON");
    body["timestamp"] = 1577880000;  // a number, as some senders write it
    const auto reply = inst.postJson(body);
    ASSERT_EQ(reply.http, 200) << reply.body;
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.host().emitted[0].text, "Hi from JSON");
    EXPECT_EQ(inst.host().emitted[0].rawContentType, "application/json");
    EXPECT_EQ(inst.postJson(nlohmann::json::array({1, 2})).http, 400);
    EXPECT_EQ(inst.postJson(nlohmann::json{{"msisdn", {{"nested", 1}}}}).http, 400);
}

TEST(VonageInbound, BinaryMessagesAreKeptRawWithoutText) {
    Instance inst;
    Params p = inboundSms("", "0B00000000000001");
    p.erase("text");
    p.erase("keyword");
    p["type"] = "binary";
    p["data"] = "0605040B8423F0";
    p["udh"] = "050003CC0201";
    ASSERT_EQ(inst.postForm(p).http, 200);
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    const auto& m = inst.host().emitted[0];
    EXPECT_EQ(m.text, "");
    EXPECT_NE(m.raw.find("data=0605040B8423F0"), std::string::npos) << m.raw;
    EXPECT_NE(std::find(m.attributes.begin(), m.attributes.end(), std::make_pair(std::string("sms.type"), std::string("binary"))),
              m.attributes.end());
}

TEST(VonageInbound, MalformedRequestsAreRefused) {
    Instance inst;
    Params noId = inboundSms("x");
    noId.erase("messageId");
    EXPECT_EQ(inst.postForm(noId).http, 400);
    Params badType = inboundSms("x");
    badType["type"] = "wap-push";
    EXPECT_EQ(inst.postForm(badType).http, 400);
    Params badConcat = concatPart("x", "0C1", 3, 2);
    EXPECT_EQ(inst.postForm(badConcat).http, 400);
    EXPECT_EQ(inst.postForm(inboundSms("x"), "/elsewhere").http, 404);
    EXPECT_TRUE(inst.host().emitted.empty());
    EXPECT_EQ(inst.host().counter("webhook_rejected"), 3);
}

TEST(VonageInbound, StopAndStartUpdateConsent) {
    Instance inst;
    ASSERT_EQ(inst.postForm(inboundSms(" Stop ", "0A01")).http, 200);
    ASSERT_EQ(inst.postForm(inboundSms("START", "0A02")).http, 200);
    ASSERT_EQ(inst.postForm(inboundSms("stop sending me ads", "0A03")).http, 200);  // not a keyword
    ASSERT_EQ(inst.host().consents.size(), 2u);
    EXPECT_EQ(inst.host().consents[0], "phone:+447700900001  opted_out sms STOP");
    EXPECT_EQ(inst.host().consents[1], "phone:+447700900001 service opted_in sms START");
    EXPECT_EQ(inst.host().emitted.size(), 3u);  // the keywords are kept in the timeline too
}

TEST(VonageInbound, BusyStoreAnswers503SoVonageRetries) {
    Instance inst;
    inst.host().emitStatus = SB_RETRY;
    EXPECT_EQ(inst.postForm(inboundSms("hello")).http, 503);
}

// ---- concatenated messages --------------------------------------------------------------

TEST(VonageConcat, PartsOutOfOrderAndRepeatedBecomeOneMessage) {
    Instance inst;
    EXPECT_EQ(inst.postForm(concatPart("and the end.", "0C03", 3, 3)).http, 200);
    EXPECT_EQ(inst.postForm(concatPart("Olá, this is the start ", "0C01", 1, 3)).http, 200);
    EXPECT_EQ(inst.postForm(concatPart("Olá, this is the start ", "0C01", 1, 3)).http, 200);  // Vonage retried
    EXPECT_TRUE(inst.host().emitted.empty());
    EXPECT_EQ(inst.host().counter("concat_duplicates"), 1);
    // Another message from the same number with another reference stays apart.
    EXPECT_EQ(inst.postForm(concatPart("other ", "0D01", 1, 2, "7C")).http, 200);
    EXPECT_EQ(inst.postForm(concatPart("the middle, ", "0C02", 2, 3)).http, 200);
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    const auto& m = inst.host().emitted[0];
    EXPECT_EQ(m.text, "Olá, this is the start the middle, and the end.");
    EXPECT_EQ(m.sourceId, "0C01");
    EXPECT_EQ(m.sender[0].value, "+447700900001");
    EXPECT_NE(std::find(m.attributes.begin(), m.attributes.end(), std::make_pair(std::string("sms.concat.parts"), std::string("3"))),
              m.attributes.end());
    for (const auto& [k, v] : m.attributes) EXPECT_NE(k, "sms.concat.incomplete");
    // A part delivered again after the message was stored (our 200 was lost) is not a new message.
    EXPECT_EQ(inst.postForm(concatPart("the middle, ", "0C02", 2, 3)).http, 200);
    EXPECT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.postForm(concatPart("message", "0D02", 2, 2, "7C")).http, 200);
    ASSERT_EQ(inst.host().emitted.size(), 2u);
    EXPECT_EQ(inst.host().emitted[1].text, "other message");
}

TEST(VonageConcat, AStopSplitIntoPartsStillOptsOut) {
    Instance inst;
    EXPECT_EQ(inst.postForm(concatPart("ST", "0E01", 1, 2)).http, 200);
    EXPECT_EQ(inst.postForm(concatPart("OP", "0E02", 2, 2)).http, 200);
    ASSERT_EQ(inst.host().consents.size(), 1u);
    EXPECT_EQ(inst.host().consents[0], "phone:+447700900001  opted_out sms STOP");
}

TEST(VonageConcat, ABusyStoreKeepsTheLastPartRetryable) {
    Instance inst;
    EXPECT_EQ(inst.postForm(concatPart("one ", "0F01", 1, 2)).http, 200);
    inst.host().emitStatus = SB_RETRY;
    EXPECT_EQ(inst.postForm(concatPart("two", "0F02", 2, 2)).http, 503);
    inst.host().emitStatus = SB_OK;
    EXPECT_EQ(inst.postForm(concatPart("two", "0F02", 2, 2)).http, 200);  // Vonage's retry
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.host().emitted[0].text, "one two");
}

// ---- delivery receipts -----------------------------------------------------------------

TEST(VonageDeliveryReceipts, VonageStatusesMapToDeliveryStatuses) {
    Instance inst;
    const std::vector<std::pair<std::string, sb_delivery_status>> mapped = {
        {"delivered", SB_DELIVERY_DELIVERED}, {"accepted", SB_DELIVERY_SENT},          {"buffered", SB_DELIVERY_SENT},
        {"expired", SB_DELIVERY_UNDELIVERED}, {"failed", SB_DELIVERY_UNDELIVERED}, {"rejected", SB_DELIVERY_FAILED}};
    int n = 0;
    for (const auto& [status, expected] : mapped) {
        const Params dlr = {{"msisdn", "447700900001"}, {"to", "Vonage"}, {"network-code", "23410"},
                            {"messageId", "0B0000012" + std::to_string(n++)}, {"price", "0.03330000"},
                            {"status", status}, {"scts", "2001011400"}, {"err-code", status == "delivered" ? "0" : "6"},
                            {"message-timestamp", "2020-01-01 14:00:00"}};
        EXPECT_EQ(inst.postForm(dlr, "/dlr").http, 200) << status;
    }
    nlohmann::json unknown = {{"messageId", "0B00000129"}, {"status", "unknown"}, {"err-code", "1"}};
    EXPECT_EQ(inst.postJson(unknown, "/dlr").http, 200);  // acknowledged, nothing to record
    ASSERT_EQ(inst.host().receipts.size(), mapped.size());
    for (size_t i = 0; i < mapped.size(); ++i) {
        EXPECT_EQ(inst.host().receipts[i].first, "0B0000012" + std::to_string(i));
        EXPECT_EQ(inst.host().receipts[i].second, mapped[i].second) << mapped[i].first;
    }
    EXPECT_EQ(inst.postForm({{"status", "delivered"}}, "/dlr").http, 400);
}

// ---- outbound ----------------------------------------------------------------------------

TEST(VonageSend, PostsTheDocumentedFormAndReturnsTheMessageId) {
    VonageSmsDouble api(kApiKey, kApiSecret);
    Instance inst(Options{{"base_url", api.baseUrl()},
                          {"delivery_receipt_url", "https://sb.example.com/webhooks/sms-vonage/dlr"}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    auto sent = inst.send("+447700900001", "Your order ships today & arrives soon");
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    ASSERT_EQ(api.requests().size(), 1u);
    const auto req = api.requests()[0];
    EXPECT_EQ(req.uri, "/sms/json");
    EXPECT_NE(req.contentType.find("application/x-www-form-urlencoded"), std::string::npos);
    EXPECT_EQ(req.form.at("to"), "447700900001");  // E.164 without '+', as Vonage documents it
    EXPECT_EQ(req.form.at("from"), "447700900000");
    EXPECT_EQ(req.form.at("text"), "Your order ships today & arrives soon");
    EXPECT_EQ(req.form.count("type"), 0u);  // GSM-7 text: Vonage's default type
    EXPECT_EQ(req.form.at("status-report-req"), "1");
    EXPECT_EQ(req.form.at("callback"), "https://sb.example.com/webhooks/sms-vonage/dlr");
    EXPECT_EQ(sent.providerId, api.issuedIds().at(0));
    EXPECT_EQ(inst.host().counter("sent"), 1);
}

TEST(VonageSend, UnicodeTextIsSentAsUnicode) {
    VonageSmsDouble api(kApiKey, kApiSecret);
    Instance inst(Options{{"base_url", api.baseUrl()}});
    ASSERT_EQ(inst.send("+447700900001", "Olá! Obrigado 😀").status, SB_OK);
    EXPECT_EQ(api.requests().at(0).form.at("type"), "unicode");
    EXPECT_EQ(api.requests().at(0).form.at("text"), "Olá! Obrigado 😀");
}

TEST(VonageSend, ALongMessageIsSentInPartsAndLaterPartsReceiptsMapToTheFirst) {
    VonageSmsDouble api(kApiKey, kApiSecret);
    Instance inst(Options{{"base_url", api.baseUrl()}});
    const std::string text(400, 'a');  // 3 parts of at most 153 GSM-7 characters
    auto sent = inst.send("+447700900001", text);
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    const auto ids = api.issuedIds();
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(sent.providerId, ids[0]);
    // Each part gets its own receipt: the first part's is the message's; a later part's only
    // matters when it failed, and is reported under the first part's id (the one the host knows).
    EXPECT_EQ(inst.postForm({{"messageId", ids[0]}, {"status", "delivered"}, {"err-code", "0"}}, "/dlr").http, 200);
    EXPECT_EQ(inst.postForm({{"messageId", ids[1]}, {"status", "delivered"}, {"err-code", "0"}}, "/dlr").http, 200);
    EXPECT_EQ(inst.postForm({{"messageId", ids[2]}, {"status", "failed"}, {"err-code", "8"}}, "/dlr").http, 200);
    ASSERT_EQ(inst.host().receipts.size(), 2u);
    EXPECT_EQ(inst.host().receipts[0], std::make_pair(ids[0], SB_DELIVERY_DELIVERED));
    EXPECT_EQ(inst.host().receipts[1], std::make_pair(ids[0], SB_DELIVERY_UNDELIVERED));
}

TEST(VonageSend, ThrottlingIsRetried) {
    VonageSmsDouble api(kApiKey, kApiSecret);
    Instance inst(Options{{"base_url", api.baseUrl()}});
    api.throttleNext(1);
    auto throttled = inst.send("+447700900001", "hi");
    EXPECT_EQ(throttled.status, SB_RETRY) << throttled.error;
    EXPECT_GT(throttled.retryAfterMs, 0u);
    EXPECT_NE(throttled.error.find("Vonage status 1"), std::string::npos) << throttled.error;
    api.rateLimitNext(1, 3);
    auto limited = inst.send("+447700900001", "hi");
    EXPECT_EQ(limited.status, SB_RETRY) << limited.error;
    EXPECT_EQ(limited.retryAfterMs, 3000u);
    EXPECT_EQ(inst.send("+447700900001", "hi").status, SB_OK);  // the next try goes through
    EXPECT_EQ(inst.host().counter("send_retries"), 2);
}

TEST(VonageSend, InvalidCredentialsAreFatalWithoutLeakingTheSecret) {
    VonageSmsDouble api(kApiKey, "the-real-secret");
    Instance inst(Options{{"base_url", api.baseUrl()}});
    auto denied = inst.send("+447700900001", "hi");
    EXPECT_EQ(denied.status, SB_FAIL_FATAL) << denied.error;
    EXPECT_NE(denied.error.find("Bad Credentials"), std::string::npos) << denied.error;
    EXPECT_EQ(denied.error.find(kApiSecret), std::string::npos) << denied.error;
    EXPECT_EQ(inst.host().allLogs().find(kApiSecret), std::string::npos);
}

TEST(VonageSend, PermanentErrorsAreDeadLetteredWithVonagesText) {
    VonageSmsDouble api(kApiKey, kApiSecret);
    Instance inst(Options{{"base_url", api.baseUrl()}});
    api.failWith("7", "Number barred.");
    auto barred = inst.send("+447700900001", "hi");
    EXPECT_EQ(barred.status, SB_FAIL_DATA) << barred.error;
    EXPECT_NE(barred.error.find("Vonage status 7: Number barred."), std::string::npos) << barred.error;
    // A part failing after others were accepted is not retried (they would arrive twice).
    api.failAfterParts(1, "1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry");
    auto partial = inst.send("+447700900001", std::string(200, 'b'));
    EXPECT_EQ(partial.status, SB_FAIL_DATA) << partial.error;
    EXPECT_NE(partial.error.find("already accepted"), std::string::npos) << partial.error;
    // Not a phone recipient, or no text: refused before calling Vonage.
    const size_t calls = api.requests().size();
    EXPECT_EQ(inst.send("", "hi").status, SB_FAIL_DATA);
    EXPECT_EQ(inst.send("+447700900001", "").status, SB_FAIL_DATA);
    EXPECT_EQ(api.requests().size(), calls);
}

TEST(VonageSend, NoAnswerIsRetried) {
    const int port = switchboard::test::freePort();  // nothing listens there
    Instance inst(Options{{"base_url", "http://127.0.0.1:" + std::to_string(port)}, {"timeout", "2000"}});
    auto sent = inst.send("+447700900001", "hi");
    EXPECT_EQ(sent.status, SB_RETRY) << sent.error;
    EXPECT_NE(sent.error.find("did not answer"), std::string::npos) << sent.error;
}
