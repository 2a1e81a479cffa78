// The webchat connector, tested as the host sees it: the built switchboard-webchat.so is
// dlopen'ed, its descriptor read, and handle_webhook driven through the C ABI with a fake
// sb_host_api that records what the plugin emits, logs and counts.
#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Options = std::map<std::string, std::string>;

// RFC 4231 test case 2.
constexpr const char* kRfcKey = "Jefe";
constexpr const char* kRfcData = "what do ya want for nothing?";
constexpr const char* kRfcMac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

// A JSON message signed outside the plugin, with:
//   printf '%s' "$kSignedBody" | openssl dgst -sha256 -hmac "$kSecret"
constexpr const char* kSecret = "s3cr3t-Very-Distinct-Value";
constexpr const char* kSignedBody = R"({"id":"sig-1","from":{"email":"ann@example.com"},"text":"hello"})";
constexpr const char* kSignedMac = "d50399ae290df144ccb19b20bea3dcfb5674a88e733ade1be002279b2d8d4c87";

const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("webchat"); }

using Reply = switchboard::test::WebhookReply;

// One created and started instance, configured the way the host would (defaults filled in).
class Instance : public switchboard::test::PluginInstance {
public:
    explicit Instance(const Options& options = {})
        : PluginInstance(descriptor(), "site-chat", switchboard::test::withOptionDefaults(descriptor(), options)) {}

    Reply request(const std::string& method, const std::string& body, const Headers& headers = {},
                  const std::string& path = "") {
        return handleWebhook({method, path, headers, body, "", "203.0.113.9"});
    }
    Reply post(const std::string& body, Headers headers = {{"content-type", "application/json"}}) {
        return request("POST", body, headers);
    }
};

const sb_option* findOption(const std::string& name) {
    const sb_plugin_descriptor* d = descriptor();
    for (size_t i = 0; i < d->option_count; ++i)
        if (name == d->options[i].name) return &d->options[i];
    return nullptr;
}

// A valid message; tests break one field at a time.
nlohmann::json validMessage() {
    return {{"id", "m-1"}, {"from", {{"email", "ann@example.com"}}}, {"text", "hello"}};
}

void expectJsonReply(const Reply& r, int http) {
    EXPECT_EQ(r.status, SB_OK);
    EXPECT_EQ(r.http, http) << r.body;
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "", "application/json");
    EXPECT_TRUE(nlohmann::json::accept(r.body)) << r.body;
}

TEST(WebchatDescriptor, IsSane) {
    const sb_plugin_descriptor* d = descriptor();
    ASSERT_NE(d, nullptr);
    EXPECT_GE(d->struct_size, SB_PLUGIN_DESCRIPTOR_SIZE_1_0);
    EXPECT_EQ(d->abi_major, 1u);
    EXPECT_STREQ(d->name, "webchat");
    EXPECT_NE(std::string(d->version), "");
    EXPECT_NE(std::string(d->description), "");
    EXPECT_EQ(d->kind, SB_KIND_SOURCE | SB_KIND_SINK);
    EXPECT_NE(d->handle_webhook, nullptr);
    EXPECT_NE(d->send, nullptr);
    ASSERT_EQ(d->option_count, 7u);

    for (const char* name :
         {"secret", "channel", "scope", "max_attachments", "reply_url", "reply_timeout", "reply_ca_file"}) {
        const sb_option* o = findOption(name);
        ASSERT_NE(o, nullptr) << name;
        EXPECT_EQ(o->struct_size, sizeof(sb_option));
        EXPECT_NE(std::string(o->description), "") << name;
        EXPECT_EQ(o->flags & SB_OPTION_REQUIRED, 0u) << name;
        EXPECT_EQ((o->flags & SB_OPTION_SECRET) != 0, std::string(name) == "secret") << name;
    }
    EXPECT_EQ(findOption("secret")->type, SB_OPT_STRING);
    EXPECT_EQ(findOption("secret")->default_value, nullptr);
    EXPECT_STREQ(findOption("channel")->default_value, "webchat");
    EXPECT_STREQ(findOption("scope")->default_value, "");
    EXPECT_EQ(findOption("max_attachments")->type, SB_OPT_INT);
    EXPECT_STREQ(findOption("max_attachments")->default_value, "20");
    EXPECT_EQ(findOption("reply_url")->default_value, nullptr);
    EXPECT_EQ(findOption("reply_timeout")->type, SB_OPT_DURATION);
    EXPECT_STREQ(findOption("reply_timeout")->default_value, "10s");
    EXPECT_EQ(findOption("reply_ca_file")->default_value, nullptr);
}

TEST(WebchatConfig, RefusesBadOptionsNamingThem) {
    const std::vector<std::pair<Options, std::string>> cases = {
        {{{"max_attachments", "-1"}}, "max_attachments"},
        {{{"max_attachments", "lots"}}, "max_attachments"},
        {{{"channel", ""}}, "channel"},
        {{{"secret", ""}}, "secret"},
    };
    for (const auto& [options, name] : cases) {
        Instance inst(options);
        EXPECT_EQ(inst.createStatus(), SB_FAIL_CONFIG) << name;
        EXPECT_NE(inst.createError().find("'" + name + "'"), std::string::npos) << inst.createError();
    }
    EXPECT_EQ(Instance(Options{{"max_attachments", "0"}}).createStatus(), SB_OK);
}

TEST(WebchatMessage, MapsEveryField) {
    Instance inst(Options{{"channel", "site-chat"}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    const std::string body = R"({
        "id": "msg-1",
        "conversation": "conv-7",
        "timestamp": "2026-11-23T10:00:00.250+01:00",
        "from": {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "+351 912 345 678",
                 "external_ids": {"visitor": "cookie-42", "crm": "003xyz"}},
        "subject": "Order 1234",
        "text": "Where is my order?",
        "attachments": [
            {"name": "receipt.pdf", "content_type": "application/pdf", "size": 12345,
             "url": "https://cdn.example.com/r.pdf"},
            {"url": "https://cdn.example.com/x"}
        ],
        "attributes": {"locale": "pt-PT", "page": "/checkout"},
        "future_field": {"ignored": true}
    })";
    Reply r = inst.post(body);
    expectJsonReply(r, 200);
    EXPECT_EQ(r.json(), (nlohmann::json{{"status", "stored"}, {"id", "msg-1"}}));

    ASSERT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.host().messageSizes[0], sizeof(sb_message));
    const switchboard::Message& m = inst.host().emitted[0];
    EXPECT_EQ(m.channel, "site-chat");
    EXPECT_EQ(m.direction, SB_DIRECTION_INBOUND);
    EXPECT_EQ(m.sourceId, "msg-1");
    EXPECT_EQ(m.conversationId, "conv-7");
    EXPECT_EQ(m.occurredAtMs, 1795424400250);  // date -u -d 2026-11-23T09:00:00Z +%s, plus .250
    EXPECT_EQ(m.senderName, "Ann Lee");
    ASSERT_EQ(m.sender.size(), 4u);
    auto has = [&](const std::string& type, const std::string& value) {
        return std::any_of(m.sender.begin(), m.sender.end(), [&](const switchboard::Identity& i) {
            return i.type == type && i.value == value && i.scope.empty();
        });
    };
    EXPECT_TRUE(has("email", "Ann@Example.com"));  // raw: the host normalizes
    EXPECT_TRUE(has("phone", "+351 912 345 678"));
    EXPECT_TRUE(has("external", "visitor:cookie-42"));
    EXPECT_TRUE(has("external", "crm:003xyz"));
    EXPECT_TRUE(m.recipients.empty());
    EXPECT_EQ(m.subject, "Order 1234");
    EXPECT_EQ(m.text, "Where is my order?");
    EXPECT_EQ(m.html, "");
    ASSERT_EQ(m.attachments.size(), 2u);
    EXPECT_EQ(m.attachments[0].name, "receipt.pdf");
    EXPECT_EQ(m.attachments[0].contentType, "application/pdf");
    EXPECT_EQ(m.attachments[0].sizeBytes, 12345u);
    EXPECT_EQ(m.attachments[0].reference, "https://cdn.example.com/r.pdf");
    EXPECT_EQ(m.attachments[1].name, "");
    EXPECT_EQ(m.attachments[1].sizeBytes, 0u);
    EXPECT_EQ(m.attachments[1].reference, "https://cdn.example.com/x");
    const std::vector<std::pair<std::string, std::string>> attrs = {{"locale", "pt-PT"}, {"page", "/checkout"}};
    EXPECT_EQ(m.attributes, attrs);
    EXPECT_EQ(m.rawContentType, "application/json");
    EXPECT_EQ(m.raw, body);
    EXPECT_EQ(inst.host().counter("rejected_payload"), 0);
}

TEST(WebchatMessage, TimestampForms) {
    const std::vector<std::pair<nlohmann::json, int64_t>> cases = {
        {"2026-11-23T09:00:00Z", 1795424400000},
        {"2026-11-23t09:00:00z", 1795424400000},
        {"2026-11-23T10:30:00+01:30", 1795424400000},
        {"2026-11-23T04:00:00-05:00", 1795424400000},
        {"2026-11-23T09:00:00.123456789Z", 1795424400123},
        {"2026-11-23T09:00:00.5Z", 1795424400500},
        {"2028-02-29T23:59:59Z", 1835481599000},  // leap day
        {"1970-01-01T00:00:00Z", 0},
        {1795424400250, 1795424400250},
    };
    for (const auto& [ts, expected] : cases) {
        Instance inst;
        nlohmann::json msg = validMessage();
        msg["timestamp"] = ts;
        Reply r = inst.post(msg.dump());
        ASSERT_EQ(r.http, 200) << ts << " " << r.body;
        ASSERT_EQ(inst.host().emitted.size(), 1u);
        EXPECT_EQ(inst.host().emitted[0].occurredAtMs, expected) << ts;
    }
    Instance inst;
    ASSERT_EQ(inst.post(validMessage().dump()).http, 200);
    EXPECT_EQ(inst.host().emitted.at(0).occurredAtMs, 0) << "absent timestamp is 0 (unknown)";
}

TEST(WebchatMessage, AnonymousVisitorWithScope) {
    Instance inst(Options{{"scope", "site-a"}});
    Reply r = inst.post(
        R"({"id":"v-1","from":{"email":"","external_ids":{"visitor":"cookie-1"}},"text":"hi","attributes":null})");
    expectJsonReply(r, 200);
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    const auto& sender = inst.host().emitted[0].sender;
    ASSERT_EQ(sender.size(), 1u) << "an empty email counts as absent";
    EXPECT_EQ(sender[0].type, "external");
    EXPECT_EQ(sender[0].value, "visitor:cookie-1");
    EXPECT_EQ(sender[0].scope, "site-a");

    ASSERT_EQ(inst.post(R"({"id":"v-2","from":{"email":"a@b.c","external_ids":{"v":"1"}},"text":"x"})").http, 200);
    const auto& both = inst.host().emitted.at(1).sender;
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(both[0].type, "email");
    EXPECT_EQ(both[0].scope, "") << "the scope applies to external ids only";
    EXPECT_EQ(both[1].scope, "site-a");
}

TEST(WebchatMessage, EmptyTextNeedsAttachments) {
    Instance inst;
    Reply ok = inst.post(R"({"id":"a","from":{"phone":"+1"},"text":"","attachments":[{"url":"https://x/y"}]})");
    EXPECT_EQ(ok.http, 200) << ok.body;
    Reply bad = inst.post(R"({"id":"b","from":{"phone":"+1"},"text":""})");
    EXPECT_EQ(bad.http, 400);
    EXPECT_NE(bad.error().find("field 'text'"), std::string::npos) << bad.body;
}

TEST(WebchatMessage, DuplicateIsReported) {
    Instance inst;
    inst.host().outcome = SB_EMIT_DUPLICATE;
    Reply r = inst.post(validMessage().dump());
    expectJsonReply(r, 200);
    EXPECT_EQ(r.json(), (nlohmann::json{{"status", "duplicate"}, {"id", "m-1"}}));
}

TEST(WebchatMessage, MalformedBodiesAnswer400NamingTheField) {
    auto with = [](const char* key, nlohmann::json value) {
        nlohmann::json m = validMessage();
        m[key] = std::move(value);
        return m.dump();
    };
    auto without = [](const char* key) {
        nlohmann::json m = validMessage();
        m.erase(key);
        return m.dump();
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"not json at all", "not valid JSON"},
        {"", "body is empty"},
        {"[1,2,3]", "expected a JSON object"},
        {R"({"id":"x",)", "not valid JSON"},
        {without("id"), "field 'id': required"},
        {with("id", 42), "field 'id': expected a string"},
        {with("id", ""), "field 'id': must not be empty"},
        {with("id", std::string(257, 'x')), "field 'id': longer than 256 bytes"},
        {with("conversation", true), "field 'conversation': expected a string"},
        {without("from"), "field 'from': required"},
        {with("from", "ann@example.com"), "field 'from': expected an object"},
        {with("from", {{"name", "Ann"}}), "field 'from': needs at least one of"},
        {with("from", {{"email", 7}}), "field 'from.email': expected a string"},
        {with("from", {{"external_ids", {{"crm", 7}}}}), "field 'from.external_ids.crm': expected a string"},
        {with("from", {{"external_ids", {{"a:b", "1"}}}}), "field 'from.external_ids'"},
        {with("from", {{"external_ids", "x"}}), "field 'from.external_ids': expected an object"},
        {with("timestamp", "yesterday"), "field 'timestamp'"},
        {with("timestamp", "2026-11-23 10:00:00"), "field 'timestamp'"},
        {with("timestamp", "2026-02-30T10:00:00Z"), "field 'timestamp'"},
        {with("timestamp", "2026-11-23T10:00:00+25:00"), "field 'timestamp'"},
        {with("timestamp", "2026-11-23T10:00:00.Z"), "field 'timestamp'"},
        {with("timestamp", 1.5), "field 'timestamp'"},
        {with("timestamp", -1), "field 'timestamp': must not be negative"},
        {without("text"), "field 'text': required"},
        {with("text", nlohmann::json::array()), "field 'text': expected a string"},
        {with("subject", 3), "field 'subject': expected a string"},
        {with("attachments", "file.pdf"), "field 'attachments': expected an array"},
        {with("attachments", {1}), "field 'attachments[0]': expected an object"},
        {with("attachments", {{{"name", "a"}}}), "field 'attachments[0].url': required"},
        {with("attachments", {{{"url", "u"}, {"size", -3}}}), "field 'attachments[0].size'"},
        {with("attachments", {{{"url", "u"}, {"size", "12"}}}), "field 'attachments[0].size'"},
        {with("attributes", {{"locale", 1}}), "field 'attributes.locale': expected a string"},
        {with("attributes", {1, 2}), "field 'attributes': expected an object"},
    };
    for (const auto& [body, expected] : cases) {
        Instance inst;
        Reply r = inst.post(body);
        expectJsonReply(r, 400);
        EXPECT_NE(r.error().find(expected), std::string::npos) << "body: " << body << "\nreply: " << r.body;
        EXPECT_TRUE(inst.host().emitted.empty()) << body;
        EXPECT_EQ(inst.host().counter("rejected_payload"), 1) << body;
        EXPECT_TRUE(inst.host().loggedAt(SB_LOG_WARN, expected)) << inst.host().allLogs();
    }
}

TEST(WebchatMessage, MaxAttachmentsIsEnforced) {
    Instance inst(Options{{"max_attachments", "1"}});
    nlohmann::json m = validMessage();
    m["attachments"] = {{{"url", "u1"}}, {{"url", "u2"}}};
    Reply r = inst.post(m.dump());
    EXPECT_EQ(r.http, 400);
    EXPECT_NE(r.error().find("field 'attachments': more than 1"), std::string::npos) << r.body;
    m["attachments"] = {{{"url", "u1"}}};
    EXPECT_EQ(inst.post(m.dump()).http, 200);
}

TEST(WebchatSignature, KnownVectorIsAccepted) {
    // The RFC 4231 data is not JSON: getting past the signature check shows up as a 400.
    Instance inst(Options{{"secret", kRfcKey}});
    ASSERT_EQ(inst.createStatus(), SB_OK);
    Reply r = inst.post(kRfcData, {{"x-switchboard-signature", std::string("sha256=") + kRfcMac}});
    EXPECT_EQ(r.http, 400) << r.body;
    EXPECT_NE(r.error().find("not valid JSON"), std::string::npos);
    EXPECT_EQ(inst.host().counter("rejected_signature"), 0);

    std::string upper = kRfcMac;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    EXPECT_EQ(inst.post(kRfcData, {{"x-switchboard-signature", "sha256=" + upper}}).http, 400);
}

TEST(WebchatSignature, SignedMessageIsStored) {
    Instance inst(Options{{"secret", kSecret}});
    Reply r = inst.post(kSignedBody, {{"content-type", "application/json"},
                                      {"x-switchboard-signature", std::string("sha256=") + kSignedMac}});
    expectJsonReply(r, 200);
    EXPECT_EQ(r.json().value("status", ""), "stored");
    ASSERT_EQ(inst.host().emitted.size(), 1u);
    EXPECT_EQ(inst.host().emitted[0].sourceId, "sig-1");
}

TEST(WebchatSignature, MissingOrForgedIsRefused) {
    Instance inst(Options{{"secret", kSecret}});
    Reply missing = inst.post(kSignedBody);
    expectJsonReply(missing, 401);
    EXPECT_EQ(missing.error(), "missing X-Switchboard-Signature header");

    std::string forgedMac = kSignedMac;
    forgedMac[10] = forgedMac[10] == '0' ? '1' : '0';
    const std::vector<std::string> forged = {
        "sha256=" + forgedMac,
        kSignedMac,                                   // no prefix
        "sha1=" + std::string(kSignedMac),            // other scheme
        "sha256=" + std::string(kSignedMac).substr(0, 63),
        "sha256=",
        "",
    };
    for (const auto& header : forged) {
        Reply r = inst.post(kSignedBody, {{"x-switchboard-signature", header}});
        expectJsonReply(r, 403);
        EXPECT_EQ(r.error(), "invalid signature") << header;
    }
    // The right signature over a different body is a forgery too.
    std::string tampered = kSignedBody;
    tampered.replace(tampered.find("hello"), 5, "HELLO");
    EXPECT_EQ(inst.post(tampered, {{"x-switchboard-signature", std::string("sha256=") + kSignedMac}}).http, 403);

    EXPECT_TRUE(inst.host().emitted.empty());
    EXPECT_EQ(inst.host().counter("rejected_signature"), 1 + forged.size() + 1);
    EXPECT_TRUE(inst.host().loggedAt(SB_LOG_WARN, "invalid signature"));
    EXPECT_TRUE(inst.host().loggedAt(SB_LOG_WARN, "missing X-Switchboard-Signature header"));
    EXPECT_EQ(inst.host().allLogs().find(kSecret), std::string::npos) << inst.host().allLogs();
    EXPECT_EQ(inst.host().allLogs().find(kSignedMac), std::string::npos) << "no signature in logs either";
}

TEST(WebchatSignature, SecretNeverLogged) {
    Instance inst(Options{{"secret", kSecret}});
    inst.post(kSignedBody, {{"x-switchboard-signature", std::string("sha256=") + kSignedMac}});
    inst.post("garbage", {{"x-switchboard-signature", std::string("sha256=") + kSignedMac}});
    inst.post(kSignedBody);
    inst.request("GET", "");
    inst.host().emitStatus = SB_FAIL_FATAL;
    inst.post(kSignedBody, {{"x-switchboard-signature", std::string("sha256=") + kSignedMac}});
    EXPECT_FALSE(inst.host().logs.empty());
    EXPECT_EQ(inst.host().allLogs().find(kSecret), std::string::npos) << inst.host().allLogs();
}

TEST(WebchatHttp, RetryFromStoreAnswers503) {
    Instance inst;
    inst.host().emitStatus = SB_RETRY;
    Reply r = inst.post(validMessage().dump());
    expectJsonReply(r, 503);
    EXPECT_EQ(r.headers["retry-after"], "1");
    EXPECT_FALSE(r.error().empty());
}

TEST(WebchatHttp, StoreFailureAnswers500) {
    Instance inst;
    inst.host().emitStatus = SB_FAIL_FATAL;
    Reply r = inst.post(validMessage().dump());
    expectJsonReply(r, 500);
    EXPECT_TRUE(inst.host().loggedAt(SB_LOG_ERROR, "fake host refuses"));
}

TEST(WebchatHttp, HostRejectionAnswers400WithItsReason) {
    Instance inst;
    inst.host().emitStatus = SB_FAIL_DATA;  // the host marks the message REJECTED and says why
    Reply r = inst.post(validMessage().dump());
    expectJsonReply(r, 400);
    EXPECT_EQ(r.error(), "fake host refuses");
    EXPECT_EQ(inst.host().counter("rejected_payload"), 1);
    EXPECT_TRUE(inst.host().loggedAt(SB_LOG_WARN, "fake host refuses"));
}

TEST(WebchatHttp, OnlyPostIsAllowed) {
    Instance inst;
    for (const char* method : {"GET", "PUT", "DELETE", "PATCH"}) {
        Reply r = inst.request(method, validMessage().dump(), {{"content-type", "application/json"}});
        expectJsonReply(r, 405);
        EXPECT_EQ(r.headers["allow"], "POST") << method;
    }
    EXPECT_EQ(inst.request("POST", validMessage().dump(), {}, "/other").http, 404);
    EXPECT_EQ(inst.request("POST", validMessage().dump(), {}, "/").http, 200);
    EXPECT_EQ(inst.host().emitted.size(), 1u);
}

TEST(WebchatHttp, ContentTypeMustBeJsonWhenPresent) {
    Instance inst;
    const std::string body = validMessage().dump();
    EXPECT_EQ(inst.post(body, {{"content-type", "text/plain"}}).http, 415);
    EXPECT_EQ(inst.post(body, {{"content-type", "application/x-www-form-urlencoded"}}).http, 415);
    EXPECT_EQ(inst.post(body, {{"content-type", "application/jsonx"}}).http, 415);
    EXPECT_TRUE(inst.host().emitted.empty());
    EXPECT_EQ(inst.post(body, {{"content-type", "application/json; charset=utf-8"}}).http, 200);
    EXPECT_EQ(inst.post(body, {{"content-type", "Application/JSON"}}).http, 200);
    EXPECT_EQ(inst.post(body, {}).http, 200);
}

TEST(WebchatRobustness, HostileBodiesAnswer400) {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
    const std::vector<std::string> bodies = {
        garbage,
        std::string(200000, '['),
        std::string(100000, '[') + std::string(100000, ']'),
        [] {
            std::string s;
            for (int i = 0; i < 50000; ++i) s += R"({"a":)";
            return s + "1" + std::string(50000, '}');
        }(),
        std::string("{\"id\":\"\xff\xfe\",\"from\":{\"email\":\"a@b\"},\"text\":\"x\"}"),    // invalid UTF-8
        std::string("{\"id\":\"a\",\"from\":{\"email\":\"\xc3\"},\"text\":\"x\"}"),           // truncated sequence
        R"({"id":"\ud800","from":{"email":"a@b"},"text":"x"})",                                // lone surrogate
        std::string("{\"id\":\"a\",\0\"from\":1}", 20),
        R"({"id":"a","from":{"email":"a@b"},"text":"x","attachments":[)" + std::string(5000, '{') + "]}",
        "\xef\xbb\xbf[",
        "1e999999",
        "null",
    };
    Instance inst;
    for (const auto& body : bodies) {
        Reply r = inst.post(body);
        EXPECT_EQ(r.status, SB_OK);
        EXPECT_EQ(r.http, 400) << r.body;
        EXPECT_TRUE(nlohmann::json::accept(r.body)) << "the error reply is valid JSON";
    }
    EXPECT_TRUE(inst.host().emitted.empty());

    // Brackets inside strings are text, not nesting.
    nlohmann::json m = validMessage();
    m["text"] = std::string(1000, '[');
    EXPECT_EQ(inst.post(m.dump()).http, 200);
}

TEST(WebchatRobustness, FuzzCorpusReplays) {
    const std::filesystem::path dir = std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "tests/fuzz/corpus/webchat";
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    size_t files = 0;
    Instance inst;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        Reply r = inst.post(content.str());
        EXPECT_EQ(r.status, SB_OK) << entry.path();
        EXPECT_TRUE((r.http >= 200 && r.http < 300) || (r.http >= 400 && r.http < 500))
            << entry.path() << " -> " << r.http << " " << r.body;
        ++files;
    }
    EXPECT_GE(files, 10u);
}

}  // namespace
