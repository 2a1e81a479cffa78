// The webchat connector as a sink: the built switchboard-webchat.so is dlopen'ed and its
// send() driven through the C ABI, against a real HTTP server on 127.0.0.1 that plays the
// website's reply endpoint. Signatures are checked here with OpenSSL directly, never with
// the plugin's own code.
#include "http_endpoint.h"
#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using Options = std::map<std::string, std::string>;
using switchboard::test::HttpEndpoint;
using switchboard::test::ReceivedRequest;
using switchboard::test::ScriptedAnswer;

constexpr const char* kSecret = "reply-s3cr3t-Distinct-Value";

const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("webchat"); }

using switchboard::test::SendOutcome;

// One created and started instance, configured the way the host would (defaults filled in).
class Instance : public switchboard::test::PluginInstance {
public:
    explicit Instance(const Options& overrides)
        : PluginInstance(descriptor(), "site-chat", switchboard::test::withOptionDefaults(descriptor(), overrides)) {}
};

switchboard::Message reply(const std::string& text = "Your order shipped today.") {
    switchboard::Message m;
    m.channel = "webchat";
    m.direction = SB_DIRECTION_OUTBOUND;
    m.sourceId = "out-1";
    m.conversationId = "chat-session-42";
    m.text = text;
    m.recipients = {{"external", "visitor:cookie-3f2a", "example.com"}};
    m.attributes = {{"outbox.idempotency_key", "ob-key-1"}};
    return m;
}

Options sinkOptions(const HttpEndpoint& site, const std::string& path = "/chat/replies") {
    return {{"secret", kSecret}, {"reply_url", site.url(path)}};
}

TEST(WebchatSend, PostsSignedJsonWithEveryFieldAndTakesTheSitesId) {
    HttpEndpoint site;
    site.answer({200, R"({"id":"site-msg-99"})", {}, false});
    Instance inst(sinkOptions(site, "/chat/replies?tenant=7"));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();

    switchboard::Message m = reply("Hello Ann, your order 1234 shipped.");
    m.inReplyTo = "msg-8f14e45f";
    m.subject = "Order 1234";
    m.html = "<p>Hello Ann, your order <b>1234</b> shipped.</p>";
    m.recipients = {{"email", "ann@example.com", ""},
                    {"phone", "+351912345678", ""},
                    {"external", "visitor:cookie-3f2a", "example.com"},
                    {"external", "crm:003xyz", ""}};
    m.attachments = {{"invoice.pdf", "application/pdf", 12345, "", "https://cdn.example.com/invoice.pdf"}};
    m.attributes = {{"outbox.idempotency_key", "ob-key-42"}, {"locale", "en-GB"}, {"agent", "Rui"}};
    SendOutcome out = inst.send(m);
    ASSERT_EQ(out.status, SB_OK) << out.error;
    EXPECT_EQ(out.providerId, "site-msg-99");

    ReceivedRequest r = site.only();
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.uri, "/chat/replies?tenant=7");
    EXPECT_EQ(r.headers["content-type"], "application/json");
    EXPECT_EQ(r.headers["user-agent"], std::string("switchboard-webchat/") + descriptor()->version);
    EXPECT_EQ(r.headers["x-switchboard-signature"], "sha256=" + switchboard::test::hmacSha256Hex(kSecret, r.body));
    EXPECT_EQ(r.headers["idempotency-key"], "ob-key-42");

    json body = json::parse(r.body);
    EXPECT_EQ(body["id"], "ob-key-42");  // the outbox's key, so the site can dedupe retries
    EXPECT_EQ(body["conversation_id"], "chat-session-42");
    EXPECT_EQ(body["in_reply_to"], "msg-8f14e45f");
    EXPECT_EQ(body["to"], (json{{"email", "ann@example.com"},
                                {"phone", "+351912345678"},
                                {"external_ids", {{"visitor", "cookie-3f2a"}, {"crm", "003xyz"}}}}));
    EXPECT_EQ(body["subject"], "Order 1234");
    EXPECT_EQ(body["text"], "Hello Ann, your order 1234 shipped.");
    EXPECT_EQ(body["html"], "<p>Hello Ann, your order <b>1234</b> shipped.</p>");
    EXPECT_EQ(body["attachments"], (json::array({{{"name", "invoice.pdf"},
                                                 {"content_type", "application/pdf"},
                                                 {"size", 12345},
                                                 {"url", "https://cdn.example.com/invoice.pdf"}}})));
    // Host bookkeeping (outbox.*) stays out of the site's attributes.
    EXPECT_EQ(body["attributes"], (json{{"locale", "en-GB"}, {"agent", "Rui"}}));
    ASSERT_TRUE(body["sent_at"].is_string());
    EXPECT_EQ(body["sent_at"].get<std::string>().size(), std::string("2026-11-23T10:00:00.250Z").size());
    EXPECT_EQ(body["sent_at"].get<std::string>().back(), 'Z');
    EXPECT_EQ(inst.host().counters["replies_sent"], 1);
}

TEST(WebchatSend, WithoutAnIdInTheAnswerTheProviderIdIsOurs) {
    HttpEndpoint site;
    site.answer({202, "accepted", {}, false});
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send(reply());
    ASSERT_EQ(out.status, SB_OK) << out.error;
    EXPECT_EQ(out.providerId, "ob-key-1");
}

TEST(WebchatSend, WithoutAnOutboxKeyTheIdIsTheSourceIdOrAFreshOne) {
    HttpEndpoint site;
    site.answer({204, "", {}, false});
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();

    switchboard::Message m = reply();
    m.attributes.clear();
    ASSERT_EQ(inst.send(m).status, SB_OK);
    m.sourceId.clear();
    SendOutcome fresh = inst.send(m);
    ASSERT_EQ(fresh.status, SB_OK) << fresh.error;

    auto got = site.received();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(json::parse(got[0].body)["id"], "out-1");
    const std::string generated = json::parse(got[1].body)["id"];
    EXPECT_EQ(generated.rfind("wc-", 0), 0u) << generated;
    EXPECT_EQ(fresh.providerId, generated);
}

TEST(WebchatSend, PortugueseAndChineseTextArrivesByteForByte) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    const std::string text = "Olá! A sua encomenda já foi enviada — obrigado. 您的订单已发货，谢谢！";
    switchboard::Message m = reply(text);
    m.subject = "Ação necessária / 需要操作";
    ASSERT_EQ(inst.send(m).status, SB_OK);

    ReceivedRequest r = site.only();
    EXPECT_NE(r.body.find(text), std::string::npos) << "sent as raw UTF-8, not escaped: " << r.body;
    json body = json::parse(r.body);
    EXPECT_EQ(body["text"], text);
    EXPECT_EQ(body["subject"], "Ação necessária / 需要操作");
    EXPECT_EQ(r.headers["x-switchboard-signature"], "sha256=" + switchboard::test::hmacSha256Hex(kSecret, r.body));
}

TEST(WebchatSend, ServerErrorsAreRetried) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    for (int status : {500, 502, 408}) {
        site.answer({status, R"({"error":"database down"})", {}, false});
        SendOutcome out = inst.send(reply());
        EXPECT_EQ(out.status, SB_RETRY) << status;
        EXPECT_EQ(out.retryAfterMs, 0u) << status;
        EXPECT_NE(out.error.find("answered " + std::to_string(status)), std::string::npos) << out.error;
    }
    EXPECT_EQ(inst.host().counters["replies_retried"], 3);
}

TEST(WebchatSend, TooManyRequestsHonoursRetryAfterSeconds) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();

    site.answer({429, R"({"error":"slow down"})", {{"Retry-After", "7"}}, false});
    SendOutcome limited = inst.send(reply());
    EXPECT_EQ(limited.status, SB_RETRY) << limited.error;
    EXPECT_EQ(limited.retryAfterMs, 7000u);
    EXPECT_NE(limited.error.find("429"), std::string::npos) << limited.error;

    site.answer({503, "maintenance", {{"Retry-After", "2"}}, false});
    SendOutcome unavailable = inst.send(reply());
    EXPECT_EQ(unavailable.status, SB_RETRY) << unavailable.error;
    EXPECT_EQ(unavailable.retryAfterMs, 2000u);
}

TEST(WebchatSend, ClientErrorsAreDeadLetteredWithStatusAndAShortSafeExcerpt) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site, "/chat/replies?token=query-Token-Value"));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    const std::string body = "{\"error\":\"unknown conversation\"}\n\r\x01" + std::string(5000, 'x');
    site.answer({400, body, {}, false});

    SendOutcome out = inst.send(reply());
    EXPECT_EQ(out.status, SB_FAIL_DATA);
    EXPECT_NE(out.error.find("400"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("unknown conversation"), std::string::npos) << out.error;
    EXPECT_LT(out.error.size(), 600u) << "the excerpt is truncated";
    EXPECT_EQ(out.error.find_first_of("\r\n\x01"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("http://127.0.0.1:"), std::string::npos) << "names where: " << out.error;
    EXPECT_EQ(out.error.find("query-Token-Value"), std::string::npos) << "the query may hold a token";

    site.answer({404, "", {}, false});
    EXPECT_EQ(inst.send(reply()).status, SB_FAIL_DATA);
    EXPECT_EQ(inst.host().counters["replies_failed"], 2);
    const std::string logs = inst.host().allLogs();
    EXPECT_NE(logs.find("400"), std::string::npos) << logs;
    EXPECT_EQ(logs.find(kSecret), std::string::npos) << "the secret is never logged";
}

TEST(WebchatSend, ConnectionRefusedIsRetried) {
    const int closedPort = switchboard::test::freePort();  // nothing listens there
    Instance inst(Options{{"secret", kSecret}, {"reply_url", "http://127.0.0.1:" + std::to_string(closedPort) + "/r"}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send(reply());
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_NE(out.error.find("could not deliver"), std::string::npos) << out.error;
}

TEST(WebchatSend, ASiteThatDoesNotAnswerInTimeIsRetried) {
    HttpEndpoint site;
    site.answer({200, "{}", {}, /*hang=*/true});
    Options options = sinkOptions(site);
    options["reply_timeout"] = "300";  // milliseconds, as the host passes durations
    Instance inst(options);
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send(reply());
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_NE(out.error.find("reply_timeout"), std::string::npos) << out.error;
}

TEST(WebchatSend, WithoutReplyUrlTheInstanceOnlyReceivesAndSendSaysWhy) {
    Instance inst(Options{{"secret", kSecret}});
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send(reply());
    EXPECT_EQ(out.status, SB_UNSUPPORTED);
    EXPECT_NE(out.error.find("webchat instance 'site-chat' has no reply_url"), std::string::npos) << out.error;
}

TEST(WebchatSend, AReplyWithNothingToSayIsRefusedWithoutCallingTheSite) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send(reply(""));
    EXPECT_EQ(out.status, SB_FAIL_DATA);
    EXPECT_NE(out.error.find("nothing to send"), std::string::npos) << out.error;
    EXPECT_TRUE(site.received().empty());
}

TEST(WebchatSend, BadReplyOptionsAreRefusedNamingTheOption) {
    const std::vector<std::pair<Options, std::string>> cases = {
        {{{"reply_url", "https://example.com/replies"}}, "reply_url"},  // no secret
        {{{"secret", kSecret}, {"reply_url", "ftp://example.com/replies"}}, "reply_url"},
        {{{"secret", kSecret}, {"reply_url", "not a url"}}, "reply_url"},
        {{{"secret", kSecret}, {"reply_url", "https://example.com/r"}, {"reply_timeout", "0"}}, "reply_timeout"},
        {{{"secret", kSecret}, {"reply_url", "https://example.com/r"}, {"reply_ca_file", "/nonexistent/ca.pem"}},
         "reply_ca_file"},
        {{{"secret", kSecret}, {"reply_ca_file", "/etc/hostname"}}, "reply_ca_file"},  // without reply_url
    };
    for (const auto& [options, name] : cases) {
        Instance inst(options);
        EXPECT_EQ(inst.createStatus(), SB_FAIL_CONFIG) << name;
        EXPECT_NE(inst.createError().find("'" + name + "'"), std::string::npos) << inst.createError();
        EXPECT_EQ(inst.createError().find(kSecret), std::string::npos) << inst.createError();
    }
}

TEST(WebchatSend, ConcurrentSendsFromSeveralThreadsAllArrive) {
    HttpEndpoint site;
    Instance inst(sinkOptions(site));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    constexpr int kThreads = 6, kEach = 5;
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::vector<SendOutcome> outcomes;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                switchboard::Message m = reply("reply " + std::to_string(t) + "-" + std::to_string(i));
                m.attributes = {{"outbox.idempotency_key", "ob-" + std::to_string(t) + "-" + std::to_string(i)}};
                SendOutcome out = inst.send(m);
                std::lock_guard<std::mutex> lock(mutex);
                outcomes.push_back(out);
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& o : outcomes) EXPECT_EQ(o.status, SB_OK) << o.error;
    std::set<std::string> ids;
    for (const auto& r : site.received()) {
        ids.insert(json::parse(r.body)["id"].get<std::string>());
        EXPECT_EQ(r.headers.at("x-switchboard-signature"), "sha256=" + switchboard::test::hmacSha256Hex(kSecret, r.body));
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace

namespace {

TEST(WebchatSend, DescribeShowsTheReplyOptionsAndBothKinds) {
    using switchboard::test::run;
    auto text = run({switchboard::test::switchboardBin(), "plugins", "describe", "webchat"});
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_NE(text.out.find("(source+sink)"), std::string::npos) << text.out;
    for (const char* option : {"reply_url", "reply_timeout", "reply_ca_file"})
        EXPECT_NE(text.out.find(option), std::string::npos) << option;

    auto asJson = run({switchboard::test::switchboardBin(), "plugins", "describe", "webchat", "--format", "json"});
    ASSERT_EQ(asJson.exitCode, 0) << asJson.err;
    json schema = json::parse(asJson.out);
    EXPECT_EQ(schema["kind"], "source+sink");
    for (const auto& o : schema["options"]) {
        if (o["name"] == "reply_timeout") {
            EXPECT_EQ(o["type"], "duration");
            EXPECT_EQ(o["default"], "10s");
        }
    }
}

}  // namespace

namespace {

// A tiny HTTPS reply endpoint in Python (its own process), with a self-signed certificate
// for 127.0.0.1 made by the openssl CLI: answers every POST with 200 {"id":"tls-reply-1"}.
constexpr const char* kTlsServer = R"PY(
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"id":"tls-reply-1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
)PY";

TEST(WebchatSend, HttpsVerifiesTheCertificateAndTrustsReplyCaFile) {
    using namespace switchboard::test;
    TempDir dir;
    const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem"), portFile = dir.file("port");
    auto made = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                     "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
    ASSERT_EQ(made.exitCode, 0) << made.err;
    Child server({"python3", dir.write("server.py", kTlsServer), cert, key, portFile});
    for (int i = 0; i < 200 && readFile(portFile).empty() && server.alive(); ++i) ::usleep(50 * 1000);
    const std::string port = readFile(portFile);
    ASSERT_FALSE(port.empty()) << server.output();
    const std::string url = "https://127.0.0.1:" + port + "/replies";

    // The system's CAs do not know this certificate: not delivered, retried later.
    Instance untrusted(Options{{"secret", kSecret}, {"reply_url", url}});
    ASSERT_EQ(untrusted.createStatus(), SB_OK) << untrusted.createError();
    SendOutcome refused = untrusted.send(reply());
    EXPECT_EQ(refused.status, SB_RETRY) << refused.error;
    EXPECT_NE(refused.error.find("certificate"), std::string::npos) << refused.error;

    Instance trusted(Options{{"secret", kSecret}, {"reply_url", url}, {"reply_ca_file", cert}});
    ASSERT_EQ(trusted.createStatus(), SB_OK) << trusted.createError();
    SendOutcome out = trusted.send(reply());
    EXPECT_EQ(out.status, SB_OK) << out.error;
    EXPECT_EQ(out.providerId, "tls-reply-1");
}

}  // namespace
