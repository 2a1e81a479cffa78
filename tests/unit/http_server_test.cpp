// HttpServer against a fake HostControl: probes, webhook routing, the API and its auth,
// limits, malformed input and the metrics it exposes.
#include "http/http_server.h"
#include "log/log.h"
#include "test_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

using namespace switchboard::host;
using switchboard::test::http;
using json = nlohmann::json;

namespace {

constexpr const char* kToken = "s3cret-api-token-9f8e7d";

std::map<std::string, std::string> bearer(const std::string& token = kToken) {
    return {{"Authorization", "Bearer " + token}};
}

ConnectorStatus makeStatus(const std::string& name) {
    ConnectorStatus s;
    s.name = name;
    s.plugin = "webchat";
    s.pluginVersion = "1.2.0";
    s.pluginFile = "/usr/lib/switchboard/plugins/libswitchboard-plugin-webchat.so";
    s.kind = "source";
    s.state = "running";
    s.counters.received = 7;
    s.counters.webhookRequests = 3;
    return s;
}

class FakeControl : public HostControl {
public:
    FakeControl() {
        auto alpha = makeStatus("alpha");
        alpha.options = {{"secret_key", "***"}, {"allowed_origin", "https://a.example"},
                         {"allowed_origin", "https://b.example"}, {"port", "8080"}};
        auto beta = makeStatus("beta");
        beta.state = "paused";
        beta.lastError = "connection refused";
        beta.lastErrorAt = "2026-01-02T03:04:05Z";
        statuses_ = {alpha, beta};
    }

    std::vector<ConnectorStatus> connectors() const override { return statuses_; }
    std::optional<ConnectorStatus> connector(const std::string& name) const override {
        for (const auto& s : statuses_)
            if (s.name == name) return s;
        return std::nullopt;
    }
    ControlResult pause(const std::string& name) override { return control("pause", name); }
    ControlResult resume(const std::string& name) override { return control("resume", name); }
    ControlResult restart(const std::string& name) override { return control("restart", name); }

    WebhookOutcome dispatchWebhook(const std::string& instance, const WebhookRequest& request,
                                   WebhookResponse& response) override {
        {
            std::lock_guard lock(mutex_);
            ++webhookCalls;
            lastInstance = instance;
            lastRequest = request;
            lastBody = std::string(request.body);  // the body is borrowed for the call only
            lastRequest.body = lastBody;
        }
        if (instance == "sleepy") std::this_thread::sleep_for(std::chrono::milliseconds(500));
        if (instance == "stuck") {
            std::unique_lock lock(mutex_);
            released_.wait_for(lock, std::chrono::seconds(20), [this] { return released; });
        }
        if (instance == "boom") throw std::runtime_error("plugin blew up");
        if (instance == "down") return WebhookOutcome::Unavailable;
        if (instance != "alpha" && instance != "beta" && instance != "sleepy" && instance != "stuck")
            return WebhookOutcome::NotFound;
        response.status = 202;
        response.headers = {{"X-Handled-By", instance}, {"Content-Type", "text/plain"}};
        response.body = "accepted by " + instance;
        return WebhookOutcome::Handled;
    }

    bool ready(std::string& why) const override {
        if (!isReady) why = "store not open";
        return isReady;
    }

    // Lets every "stuck" handler return.
    void release() {
        {
            std::lock_guard lock(mutex_);
            released = true;
        }
        released_.notify_all();
    }

    std::atomic<bool> isReady{true};
    std::mutex mutex_;
    std::condition_variable released_;
    bool released = false;
    int webhookCalls = 0;
    std::string lastInstance;
    WebhookRequest lastRequest;
    std::string lastBody;
    std::vector<std::string> controlCalls;

private:
    ControlResult control(const std::string& verb, const std::string& name) {
        std::lock_guard lock(mutex_);
        controlCalls.push_back(verb + " " + name);
        if (name == "alpha") return {ControlOutcome::Ok, verb + " done"};
        if (name == "beta") return {ControlOutcome::Conflict, "'beta' is being reconfigured"};
        return {ControlOutcome::NotFound, "no connector instance named '" + name + "'"};
    }

    std::vector<ConnectorStatus> statuses_;
};

// A connection from a chosen loopback address (the whole of 127/8 is loopback on Linux), so
// a test can be several clients.
Poco::Net::StreamSocket connectFrom(const std::string& from, int port) {
    Poco::Net::StreamSocket socket;
    socket.impl()->bind(Poco::Net::SocketAddress(from, 0), false);
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    return socket;
}

void sendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

// Everything until the server closes (or 10 s pass).
std::string readToEnd(Poco::Net::StreamSocket& socket) {
    std::string out;
    char buf[4096];
    try {
        int n;
        while ((n = socket.receiveBytes(buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    } catch (const Poco::Exception&) {
    }
    return out;
}

// Sends raw bytes and returns everything the server answers until it closes.
std::string rawExchange(int port, const std::string& bytes) {
    auto socket = connectFrom("127.0.0.1", port);
    sendAll(socket, bytes);
    return readToEnd(socket);
}

std::string bodyOf(const std::string& rawResponse) {
    auto p = rawResponse.find("\r\n\r\n");
    return p == std::string::npos ? "" : rawResponse.substr(p + 4);
}

// Checks the Prometheus text format 0.0.4 line by line; returns the first bad line.
std::optional<std::string> invalidPrometheusLine(const std::string& text) {
    static const std::string name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    static const std::string label = "[a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\"";
    static const std::regex help("# HELP " + name + " .*");
    static const std::regex type("# TYPE " + name + " (counter|gauge|histogram|summary|untyped)");
    static const std::regex sample(name + "(\\{" + label + "(," + label + ")*\\})? (\\S+)");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (std::regex_match(line, help) || std::regex_match(line, type)) continue;
        std::smatch m;
        if (!std::regex_match(line, m, sample)) return line;
        std::string value = m[m.size() - 1];
        if (value == "NaN" || value == "+Inf" || value == "-Inf") continue;
        char* end = nullptr;
        std::strtod(value.c_str(), &end);
        if (end != value.c_str() + value.size()) return line;
    }
    if (!text.empty() && text.back() != '\n') return std::string("(no final newline)");
    return std::nullopt;
}

class HttpServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        cfg.host = "127.0.0.1";
        cfg.port = 0;
        cfg.apiToken = kToken;
        cfg.maxBodyBytes = 1024;
        cfg.threads = 4;
        Logger::instance().captureForTesting(&logLines);
    }
    void TearDown() override {
        server.reset();
        Logger::instance().captureForTesting(nullptr);
        for (const auto& line : logLines) EXPECT_EQ(line.find(kToken), std::string::npos) << line;
    }
    void start() {
        server = std::make_unique<HttpServer>(cfg, fake, metrics);
        server->start();
        port = server->port();
        ASSERT_NE(port, 0);
    }
    int webhookCalls() {
        std::lock_guard lock(fake.mutex_);
        return fake.webhookCalls;
    }

    config::ServerConfig cfg;
    FakeControl fake;
    Metrics metrics;
    std::vector<std::string> logLines;
    std::unique_ptr<HttpServer> server;
    int port = 0;
};

TEST_F(HttpServerTest, HealthzAnswersOk) {
    start();
    auto r = http("GET", port, "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"], "application/json");
    EXPECT_EQ(json::parse(r.body), json({{"status", "ok"}}));
}

TEST_F(HttpServerTest, LogsTheBoundAddress) {
    start();
    bool found = false;
    for (const auto& line : logLines)
        found = found || line.find("listening on 127.0.0.1:" + std::to_string(port)) != std::string::npos;
    EXPECT_TRUE(found);
}

TEST_F(HttpServerTest, ReadyzFollowsTheHost) {
    start();
    auto ready = http("GET", port, "/readyz");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(json::parse(ready.body)["status"], "ready");

    fake.isReady = false;
    auto notReady = http("GET", port, "/readyz");
    EXPECT_EQ(notReady.status, 503);
    auto body = json::parse(notReady.body);
    EXPECT_EQ(body["status"], "not ready");
    EXPECT_EQ(body["reason"], "store not open");
}

TEST_F(HttpServerTest, UnknownRouteIs404) {
    start();
    auto r = http("GET", port, "/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(json::parse(r.body).contains("error"));
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
    start();
    auto probe = http("POST", port, "/healthz", "{}");
    EXPECT_EQ(probe.status, 405);
    EXPECT_EQ(probe.headers["allow"], "GET");

    auto list = http("DELETE", port, "/api/v1/connectors", {}, bearer());
    EXPECT_EQ(list.status, 405);
    EXPECT_EQ(list.headers["allow"], "GET");

    auto action = http("GET", port, "/api/v1/connectors/alpha/pause", {}, bearer());
    EXPECT_EQ(action.status, 405);
    EXPECT_EQ(action.headers["allow"], "POST");
    EXPECT_TRUE(fake.controlCalls.empty());
}

TEST_F(HttpServerTest, ApiRequiresTheBearerToken) {
    start();
    auto missing = http("GET", port, "/api/v1/connectors");
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(missing.headers["www-authenticate"], "Bearer realm=\"switchboard\"");
    EXPECT_EQ(missing.headers["content-type"], "application/json");

    auto wrong = http("GET", port, "/api/v1/connectors", {}, bearer("s3cret-api-token-9f8e7X"));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.headers["www-authenticate"], "Bearer realm=\"switchboard\"");

    auto prefix = http("GET", port, "/api/v1/connectors", {}, bearer("s3cret"));
    EXPECT_EQ(prefix.status, 401);

    auto basic = http("GET", port, "/api/v1/connectors", {}, {{"Authorization", std::string("Basic ") + kToken}});
    EXPECT_EQ(basic.status, 401);

    // Unknown API paths are not revealed to anonymous callers either.
    EXPECT_EQ(http("GET", port, "/api/v2/whatever").status, 401);

    auto right = http("GET", port, "/api/v1/connectors", {}, bearer());
    EXPECT_EQ(right.status, 200);
    for (const auto& r : {missing, wrong, prefix, basic, right}) EXPECT_EQ(r.body.find(kToken), std::string::npos);
}

TEST_F(HttpServerTest, ApiIsDisabledWithoutAToken) {
    cfg.apiToken.reset();
    start();
    auto r = http("GET", port, "/api/v1/connectors", {}, bearer());
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(json::parse(r.body)["error"], "the API is disabled: set server.api_token");
    EXPECT_EQ(http("POST", port, "/api/v1/connectors/alpha/pause", {}, bearer()).status, 403);
    EXPECT_TRUE(fake.controlCalls.empty());

    // A reload (SIGHUP) can turn it on, and change it.
    server->setApiToken("new-token");
    EXPECT_EQ(http("GET", port, "/api/v1/connectors", {}, bearer("new-token")).status, 200);
    EXPECT_EQ(http("GET", port, "/api/v1/connectors", {}, bearer()).status, 401);
    server->setApiToken(std::nullopt);
    EXPECT_EQ(http("GET", port, "/api/v1/connectors", {}, bearer("new-token")).status, 403);
}

TEST_F(HttpServerTest, ListsConnectorsWithMaskedOptions) {
    start();
    auto r = http("GET", port, "/api/v1/connectors", {}, bearer());
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"], "application/json");
    auto all = json::parse(r.body)["connectors"];
    ASSERT_EQ(all.size(), 2u);

    const auto& alpha = all[0];
    EXPECT_EQ(alpha["name"], "alpha");
    EXPECT_EQ(alpha["plugin"], "webchat");
    EXPECT_EQ(alpha["plugin_version"], "1.2.0");
    EXPECT_EQ(alpha["plugin_file"], "/usr/lib/switchboard/plugins/libswitchboard-plugin-webchat.so");
    EXPECT_EQ(alpha["kind"], "source");
    EXPECT_EQ(alpha["state"], "running");
    EXPECT_TRUE(alpha["last_error"].is_null());
    EXPECT_TRUE(alpha["last_error_at"].is_null());
    EXPECT_TRUE(alpha["next_retry_at"].is_null());
    EXPECT_EQ(alpha["counters"],
              json({{"received", 7}, {"stored", 0}, {"duplicates", 0}, {"rejected", 0}, {"webhook_requests", 3},
                    {"failures", 0}, {"restarts", 0}}));
    EXPECT_EQ(alpha["options"]["secret_key"], "***");
    EXPECT_EQ(alpha["options"]["allowed_origin"], json({"https://a.example", "https://b.example"}));
    EXPECT_EQ(alpha["options"]["port"], "8080");

    EXPECT_EQ(all[1]["state"], "paused");
    EXPECT_EQ(all[1]["last_error"], "connection refused");
    EXPECT_EQ(all[1]["last_error_at"], "2026-01-02T03:04:05Z");
    EXPECT_EQ(r.body.find(kToken), std::string::npos);
}

TEST_F(HttpServerTest, GetsOneConnectorOr404) {
    start();
    auto one = http("GET", port, "/api/v1/connectors/beta", {}, bearer());
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(json::parse(one.body)["name"], "beta");

    auto ghost = http("GET", port, "/api/v1/connectors/ghost", {}, bearer());
    EXPECT_EQ(ghost.status, 404);
    EXPECT_EQ(json::parse(ghost.body)["error"], "no connector instance named 'ghost'");
}

TEST_F(HttpServerTest, ControlActionsMapOutcomesToStatus) {
    start();
    auto ok = http("POST", port, "/api/v1/connectors/alpha/pause", {}, bearer());
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(json::parse(ok.body), json({{"status", "ok"}, {"message", "pause done"}}));
    EXPECT_EQ(http("POST", port, "/api/v1/connectors/alpha/resume", {}, bearer()).status, 200);
    EXPECT_EQ(http("POST", port, "/api/v1/connectors/alpha/restart", {}, bearer()).status, 200);

    auto missing = http("POST", port, "/api/v1/connectors/ghost/restart", {}, bearer());
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(json::parse(missing.body)["error"], "no connector instance named 'ghost'");

    auto conflict = http("POST", port, "/api/v1/connectors/beta/resume", {}, bearer());
    EXPECT_EQ(conflict.status, 409);
    EXPECT_EQ(json::parse(conflict.body)["error"], "'beta' is being reconfigured");

    EXPECT_EQ(http("POST", port, "/api/v1/connectors/alpha/explode", {}, bearer()).status, 404);
    EXPECT_EQ(fake.controlCalls,
              (std::vector<std::string>{"pause alpha", "resume alpha", "restart alpha", "restart ghost",
                                        "resume beta"}));
}

TEST_F(HttpServerTest, WebhookReachesTheNamedInstanceWithEverything) {
    start();
    auto r = http("POST", port, "/webhooks/beta/inbound/msg?sig=abc&x=1", "{\"text\":\"hi\"}",
                  {{"X-Signature-Header", "Sha256=AbC"}, {"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, "accepted by beta");
    EXPECT_EQ(r.headers["x-handled-by"], "beta");
    EXPECT_EQ(r.headers["content-type"], "text/plain");

    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.lastInstance, "beta");
    const auto& w = fake.lastRequest;
    EXPECT_EQ(w.method, "POST");
    EXPECT_EQ(w.path, "/inbound/msg");
    EXPECT_EQ(w.query, "sig=abc&x=1");
    EXPECT_EQ(w.body, "{\"text\":\"hi\"}");
    EXPECT_EQ(w.remoteAddr, "127.0.0.1");
    EXPECT_EQ(w.publicUrl, "http://127.0.0.1:" + std::to_string(port) + "/webhooks/beta/inbound/msg?sig=abc&x=1");
    std::map<std::string, std::string> headers(w.headers.begin(), w.headers.end());
    EXPECT_EQ(headers["x-signature-header"], "Sha256=AbC");  // name lower-cased, value as sent
    EXPECT_EQ(headers["content-type"], "application/json");
    for (const auto& [name, value] : w.headers) {
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(name, lower);
    }
}

TEST_F(HttpServerTest, WebhookWithoutSuffixAndWithEncodedName) {
    start();
    EXPECT_EQ(http("GET", port, "/webhooks/alpha").status, 202);
    {
        std::lock_guard lock(fake.mutex_);
        EXPECT_EQ(fake.lastInstance, "alpha");
        EXPECT_EQ(fake.lastRequest.method, "GET");
        EXPECT_EQ(fake.lastRequest.path, "");
        EXPECT_EQ(fake.lastRequest.query, "");
    }
    EXPECT_EQ(http("PUT", port, "/webhooks/%62eta/x", "b").status, 202);
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.lastInstance, "beta");
    EXPECT_EQ(fake.lastRequest.path, "/x");
}

TEST_F(HttpServerTest, WebhookPublicUrlUsesTheConfiguredBase) {
    cfg.publicUrl = "https://hooks.example.com/";
    start();
    EXPECT_EQ(http("POST", port, "/webhooks/alpha/cb?a=b", "x").status, 202);
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.lastRequest.publicUrl, "https://hooks.example.com/webhooks/alpha/cb?a=b");
}

TEST_F(HttpServerTest, UnknownOrInvalidInstanceIs404) {
    start();
    auto unknown = http("POST", port, "/webhooks/ghost", "x");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(json::parse(unknown.body)["error"], "no connector instance named 'ghost'");
    EXPECT_EQ(webhookCalls(), 1);

    for (const char* uri : {"/webhooks/Alpha", "/webhooks/_x", "/webhooks/a%2Fb", "/webhooks/a%zz", "/webhooks/",
                            "/webhooks/a.b"}) {
        auto r = http("POST", port, uri, "x");
        EXPECT_EQ(r.status, 404) << uri;
        EXPECT_EQ(r.headers["content-type"], "application/json") << uri;
    }
    EXPECT_EQ(webhookCalls(), 1);
}

TEST_F(HttpServerTest, UnavailableInstanceIs503WithRetryAfter) {
    start();
    auto r = http("POST", port, "/webhooks/down", "x");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.headers["retry-after"], "5");
    EXPECT_TRUE(json::parse(r.body).contains("error"));
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413AndNotDispatched) {
    start();
    EXPECT_EQ(http("POST", port, "/webhooks/alpha", std::string(1024, 'a')).status, 202);
    EXPECT_EQ(webhookCalls(), 1);

    auto big = http("POST", port, "/webhooks/alpha", std::string(1025, 'a'));
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(big.headers["content-type"], "application/json");
    auto huge = http("POST", port, "/webhooks/alpha", std::string(4 * 1024 * 1024, 'a'));
    EXPECT_EQ(huge.status, 413);

    // Chunked: no length up front, so the server stops reading once over the limit.
    std::string chunk(600, 'c');
    std::string chunked = "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) chunked += "258\r\n" + chunk + "\r\n";
    chunked += "0\r\n\r\n";
    std::string raw = rawExchange(port, chunked);
    EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 413") << raw;
    EXPECT_EQ(webhookCalls(), 1);
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredOnlyWithinTheLimit) {
    start();
    // Over the limit: 413 at once, without waiting for a body that is never sent.
    std::string refused = rawExchange(
        port, "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 413") << refused;

    // Within it: the head alone gets 100 Continue, and the body sent after it is handled.
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    std::string head =
        "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
        "Connection: close\r\n\r\n";
    socket.sendBytes(head.data(), static_cast<int>(head.size()));
    char buf[4096];
    int n = socket.receiveBytes(buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
    socket.sendBytes("ok", 2);
    std::string accepted;
    try {
        while ((n = socket.receiveBytes(buf, sizeof buf)) > 0) accepted.append(buf, static_cast<size_t>(n));
    } catch (const Poco::Exception&) {
    }
    EXPECT_EQ(accepted.substr(0, 12), "HTTP/1.1 202") << accepted;
    EXPECT_EQ(webhookCalls(), 1);
}

TEST_F(HttpServerTest, SmallChunkedBodyIsDelivered) {
    start();
    std::string raw = rawExchange(port,
                                  "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                  "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 202") << raw;
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.lastRequest.body, "hello world");
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
    start();
    std::string garbage = rawExchange(port, "GARBAGE\r\n\r\n");
    EXPECT_EQ(garbage.substr(0, 12), "HTTP/1.1 400") << garbage;
    EXPECT_EQ(http("GET", port, "/healthz").status, 200);

    std::string badLength =
        rawExchange(port, "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n0123456789");
    EXPECT_EQ(badLength.substr(0, 12), "HTTP/1.1 400") << badLength;
    auto body = json::parse(bodyOf(badLength));
    EXPECT_NE(body["error"].get<std::string>().find("Content-Length"), std::string::npos);

    std::string badHeader = rawExchange(port, "GET /healthz HTTP/1.1\r\n" + std::string(9000, 'h') + "\r\n\r\n");
    EXPECT_EQ(badHeader.substr(0, 12), "HTTP/1.1 400") << badHeader;

    EXPECT_EQ(webhookCalls(), 0);
    EXPECT_EQ(http("GET", port, "/healthz").status, 200);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndLogged) {
    start();
    auto r = http("POST", port, "/webhooks/boom", "x");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(json::parse(r.body), json({{"error", "internal error"}}));
    EXPECT_EQ(r.body.find("blew up"), std::string::npos);  // details go to the log only
    bool logged = false;
    for (const auto& line : logLines) logged = logged || line.find("plugin blew up") != std::string::npos;
    EXPECT_TRUE(logged);
    EXPECT_EQ(http("GET", port, "/healthz").status, 200);
}

TEST_F(HttpServerTest, MetricsAreValidPrometheusTextWithRouteTemplates) {
    start();
    http("GET", port, "/healthz");
    http("POST", port, "/webhooks/beta/some/raw/path?x=1", "x");
    http("GET", port, "/api/v1/connectors");
    http("GET", port, "/api/v1/connectors/ghost", {}, bearer());

    auto r = http("GET", port, "/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(invalidPrometheusLine(r.body), std::nullopt) << r.body;
    EXPECT_NE(r.body.find("# TYPE switchboard_http_requests_total counter"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("switchboard_http_requests_total{route=\"/healthz\",code=\"200\"} 1\n"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("{route=\"/webhooks/{instance}\",code=\"202\"} 1\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("{route=\"/api/v1/connectors\",code=\"401\"} 1\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("{route=\"/api/v1/connectors/{name}\",code=\"404\"} 1\n"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("some/raw/path"), std::string::npos);
    EXPECT_EQ(r.body.find("ghost"), std::string::npos);
}

TEST_F(HttpServerTest, ValidatorRejectsBadPrometheusText) {
    EXPECT_EQ(invalidPrometheusLine("# TYPE a counter\na{x=\"1\"} 2\n"), std::nullopt);
    EXPECT_NE(invalidPrometheusLine("a{x=\"1\"} two\n"), std::nullopt);
    EXPECT_NE(invalidPrometheusLine("1a 2\n"), std::nullopt);
    EXPECT_NE(invalidPrometheusLine("a{x=1} 2\n"), std::nullopt);
}

TEST_F(HttpServerTest, BindFailureNamesTheAddress) {
    start();
    config::ServerConfig taken = cfg;
    taken.port = static_cast<uint16_t>(port);
    HttpServer second(taken, fake, metrics);
    try {
        second.start();
        FAIL() << "second bind succeeded";
    } catch (const std::runtime_error& e) {
        std::string prefix = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": ";
        EXPECT_EQ(std::string(e.what()).substr(0, prefix.size()), prefix) << e.what();
    }
}

TEST_F(HttpServerTest, StopWaitsForTheRequestInFlight) {
    start();
    switchboard::test::HttpResponse slow;
    std::thread client([&] { slow = http("POST", port, "/webhooks/sleepy", "x"); });
    while (webhookCalls() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server->stop();
    client.join();
    EXPECT_EQ(slow.status, 202);
    EXPECT_EQ(http("GET", port, "/healthz").status, 0);  // no longer listening
}

// With one I/O thread and a client that sends request after request on one keep-alive
// connection, a second client is still served at once: no connection owns a thread.
TEST_F(HttpServerTest, AKeepAliveClientCannotStarveOthers) {
    cfg.ioThreads = 1;
    start();
    std::atomic<bool> otherServed{false};
    std::atomic<int> hammered{0};
    std::atomic<bool> hammerStillRunning{true};
    std::thread hammer([&] {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setKeepAlive(true);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!otherServed && std::chrono::steady_clock::now() < deadline) {
            try {
                Poco::Net::HTTPRequest req("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
                req.setKeepAlive(true);
                session.sendRequest(req);
                Poco::Net::HTTPResponse resp;
                std::string body;
                Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
                ++hammered;
            } catch (const std::exception&) {
                session.reset();  // closed by the server: reconnect, as clients do
            }
        }
        hammerStillRunning = false;
    });
    while (hammered < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const int before = hammered;
    auto other = http("GET", port, "/healthz");
    const int waitedFor = hammered - before;
    // Served while the hammering client was still going, and soon.
    bool servedDuringHammering = hammerStillRunning.load();
    otherServed = true;
    hammer.join();
    EXPECT_EQ(other.status, 200);
    EXPECT_TRUE(servedDuringHammering);
    EXPECT_LT(waitedFor, 100) << "the waiting client was served only after " << waitedFor << " requests of the other";
}

}  // namespace


// One stuck connector instance: its own webhooks are refused (busy at once, or past its
// deadline), while another instance and the probes answer as usual.
TEST_F(HttpServerTest, AStuckInstanceGets503ForItsOwnWebhooksOnly) {
    cfg.webhooks = config::WebhookLimits{1, 1, 400};
    start();
    struct Outcome {
        switchboard::test::HttpResponse response;
        std::chrono::steady_clock::duration took{};
    };
    std::vector<Outcome> stuck(3);
    std::vector<std::thread> clients;
    auto send = [&](int i) {
        clients.emplace_back([&, i] {
            auto sent = std::chrono::steady_clock::now();
            stuck[i].response = http("POST", port, "/webhooks/stuck", "x");
            stuck[i].took = std::chrono::steady_clock::now() - sent;
        });
    };
    send(0);
    ASSERT_TRUE(switchboard::test::waitFor([&] { return webhookCalls() == 1; }));
    // One runs and never returns; of the next two, whichever comes second finds the one
    // queue place taken and is refused at once, without reaching the plugin.
    send(1);
    send(2);
    auto other = http("POST", port, "/webhooks/alpha", "hello");
    EXPECT_EQ(other.status, 202);
    EXPECT_EQ(http("GET", port, "/healthz").status, 200);
    EXPECT_EQ(http("GET", port, "/readyz").status, 200);
    for (auto& t : clients) t.join();
    int busy = 0, timedOut = 0;
    for (const auto& [response, took] : stuck) {
        EXPECT_EQ(response.status, 503) << response.body;
        EXPECT_EQ(response.headers.at("retry-after"), "1");
        if (response.body.find("connector instance 'stuck' is busy") != std::string::npos) {
            ++busy;
            EXPECT_LT(took, std::chrono::milliseconds(300)) << "the refusal waited";
        } else {
            ++timedOut;
            EXPECT_NE(response.body.find("did not answer within 400 ms"), std::string::npos) << response.body;
            EXPECT_GE(took, std::chrono::milliseconds(400));
        }
    }
    EXPECT_EQ(busy, 1);
    EXPECT_EQ(timedOut, 2);
    EXPECT_EQ(webhookCalls(), 2) << "a queued or refused request reached the plugin (calls: the stuck one, alpha)";
    EXPECT_EQ(metrics.value("switchboard_webhook_refused_total", {{"instance", "stuck"}, {"reason", "busy"}}), 1);
    EXPECT_EQ(metrics.value("switchboard_webhook_refused_total", {{"instance", "stuck"}, {"reason", "timeout"}}), 2);
    fake.release();
}

TEST_F(HttpServerTest, ForwardedForIsBelievedOnlyFromATrustedProxy) {
    auto remoteAddrWith = [&](const std::string& xff) {
        EXPECT_EQ(http("POST", port, "/webhooks/alpha", "x", {{"X-Forwarded-For", xff}}).status, 202);
        std::lock_guard lock(fake.mutex_);
        return fake.lastRequest.remoteAddr;
    };
    start();
    EXPECT_EQ(remoteAddrWith("203.0.113.9"), "127.0.0.1");  // no trusted proxy: the peer
    server.reset();
    cfg.trustedProxies = {*config::parseAddressRange("127.0.0.0/8"), *config::parseAddressRange("10.0.0.0/8")};
    start();
    EXPECT_EQ(remoteAddrWith("203.0.113.9"), "203.0.113.9");
    // The nearest untrusted hop: what a client writes in front of it is not believed.
    EXPECT_EQ(remoteAddrWith("198.51.100.1, 203.0.113.9, 10.1.1.1"), "203.0.113.9");
    EXPECT_EQ(remoteAddrWith("not-an-address"), "127.0.0.1");
}

TEST_F(HttpServerTest, ASlowHeadIs408AndAnIdleKeepAliveConnectionIsClosed) {
    cfg.headerTimeoutMs = 300;
    cfg.keepAliveTimeoutMs = 300;
    start();
    auto slow = connectFrom("127.0.0.1", port);
    sendAll(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    auto began = std::chrono::steady_clock::now();
    std::string answer = readToEnd(slow);
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer;
    EXPECT_NE(answer.find("request head not complete within 300 ms"), std::string::npos) << answer;
    EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));

    auto idle = connectFrom("127.0.0.1", port);
    sendAll(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string first = readToEnd(idle);  // answered, then closed when idle past 300 ms
    EXPECT_EQ(first.substr(0, 12), "HTTP/1.1 200") << first;
    EXPECT_EQ(metrics.value("switchboard_http_timeouts_total", {{"phase", "header"}}), 1);
    EXPECT_EQ(metrics.value("switchboard_http_timeouts_total", {{"phase", "keepalive"}}), 1);
}

TEST_F(HttpServerTest, ConnectionsPerClientAreLimited) {
    cfg.maxConnectionsPerClient = 2;
    start();
    auto a = connectFrom("127.0.0.1", port);
    auto b = connectFrom("127.0.0.1", port);
    ASSERT_TRUE(switchboard::test::waitFor(
        [&] { return metrics.value("switchboard_http_connections", {}) == 2; }));
    auto third = connectFrom("127.0.0.1", port);
    std::string refused = readToEnd(third);
    EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 503") << refused;
    EXPECT_NE(refused.find("too many connections from 127.0.0.1"), std::string::npos) << refused;
    // Another client address is not affected.
    auto other = connectFrom("127.0.0.2", port);
    sendAll(other, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(readToEnd(other).substr(0, 12), "HTTP/1.1 200");
    EXPECT_EQ(metrics.value("switchboard_http_connections_refused_total", {{"reason", "per_client"}}), 1);
}

TEST_F(HttpServerTest, BodiesHeldAtOnceStayWithinTheBudget) {
    cfg.maxBodyBytes = 1000;
    cfg.maxBufferedBodyBytes = 2000;
    start();
    std::string head = "POST /webhooks/alpha HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    std::vector<Poco::Net::StreamSocket> uploads;
    for (int i = 0; i < 2; ++i) {
        uploads.push_back(connectFrom("127.0.0.1", port));
        sendAll(uploads.back(), head + std::string(900, 'a'));
    }
    // Two bodies of 900 bytes are held; a third would go over 2000 bytes.
    auto third = connectFrom("127.0.0.1", port);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sendAll(third, head + std::string(900, 'a'));
    std::string refused = readToEnd(third);
    EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 503") << refused;
    EXPECT_NE(refused.find("too many request bodies"), std::string::npos) << refused;
    // The first two complete normally.
    for (auto& u : uploads) {
        sendAll(u, std::string(100, 'b'));
        u.shutdownSend();
        EXPECT_EQ(readToEnd(u).substr(0, 12), "HTTP/1.1 202");
    }
    EXPECT_EQ(webhookCalls(), 2);
}
