// A generic JSON webhook sink in the template's style: each outbound message is POSTed as JSON
// to `url`, signed X-Signature: sha256=<hex HMAC-SHA256 of the body with signing_secret>. The
// answer maps to the outcome the host acts on: 2xx delivered (provider id from {"id": ...}),
// 408/429/5xx retry (after Retry-After), 401/403 fatal (credentials: the instance backs off and
// the message waits), any other 4xx dead-letters it. Receipts come back signed the same way to
// POST /webhooks/{instance}/receipts as {"id": ..., "status": "delivered"|"read"|"failed", ...}.
#include <switchboard/crypto.hpp>
#include <switchboard/http_client.hpp>
#include <switchboard/plugin.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace {

using nlohmann::json;
using switchboard::Result;
namespace crypto = switchboard::crypto;

class JsonWebhookSink : public switchboard::Plugin {
public:
    static constexpr sb_webhook_route kWebhookRoutes[] = {
        switchboard::route("POST", "/receipts", "Signed delivery receipts for messages sent."),
    };
    static constexpr const char* kReaches = "email,phone,external";

    JsonWebhookSink(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host), url_(config.getString("url")), secret_(config.getString("signing_secret")),
          timeout_(config.getDuration("timeout")) {}

    Result send(const switchboard::Message& m, switchboard::SendResult& sent) override {
        json to = json::array();
        for (const auto& r : m.recipients) to.push_back({{"type", r.type}, {"value", r.value}});
        const std::string body = json{{"id", m.outboxId}, {"customer_id", m.customerId}, {"kind", m.kind},
                                      {"channel", m.channel}, {"to", to}, {"subject", m.subject},
                                      {"text", m.text}, {"attempt", m.attempt}, {"replay", m.replay}}.dump();
        switchboard::http::Request req;
        req.method = "POST";
        req.url = url_;
        req.timeout = timeout_;
        req.body = body;
        req.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", m.sourceId},
                       {"X-Signature", signature(body)}};
        const switchboard::http::Response r = client_.perform(req);
        const std::string what = "POST " + url_ + " answered " + std::to_string(r.status);
        if (r.status == 0) return Result::retry("no answer: " + r.error);
        if (r.status == 408 || r.status == 429 || r.status >= 500)
            return Result::retry(what, switchboard::http::retryMs(r.retryAfter()));
        if (r.status == 401 || r.status == 403) return Result::fatal(what + ": check signing_secret");
        if (r.status < 200 || r.status > 299) return Result::failData(what);
        const json answer = json::parse(r.body, nullptr, false);
        const bool named = answer.is_object() && answer.contains("id") && answer["id"].is_string();
        sent.providerMessageId = named ? answer["id"].get<std::string>() : m.sourceId;
        return Result::ok();
    }

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        if (!crypto::constantTimeEquals(req.header("x-signature").value_or(""), signature(req.body())))
            return refuse(resp, 403, "bad_signature", "missing or wrong X-Signature");
        const json receipt = json::parse(req.body(), nullptr, false);
        const std::string status = receipt.is_object() ? receipt.value("status", "") : "";
        const sb_delivery_status s = status == "delivered" ? SB_DELIVERY_DELIVERED
                                     : status == "read"    ? SB_DELIVERY_READ
                                                           : SB_DELIVERY_FAILED;
        if (!receipt.is_object() || !receipt.contains("id") || !receipt["id"].is_string() ||
            (s == SB_DELIVERY_FAILED && status != "failed"))
            return refuse(resp, 400, "bad_payload", R"(expected {"id": "...", "status": "delivered|read|failed"})");
        Result r = host().reportDelivery(receipt["id"].get<std::string>(), s, receipt.value("error", ""));
        if (r.status() == SB_RETRY) resp.json(503, R"({"error":"busy, retry later"})");
        else resp.json(r.isOk() ? 200 : 400, r.isOk() ? R"({"ok":true})" : json{{"error", r.message()}}.dump());
        return Result::ok();
    }

private:
    std::string signature(std::string_view body) const {
        return "sha256=" + crypto::toHex(crypto::hmacSha256(secret_, body));
    }

    const std::string url_, secret_;
    const std::chrono::milliseconds timeout_;
    switchboard::http::Client client_;
};

constexpr sb_option kOptions[] = {
    switchboard::Option("url", SB_OPT_STRING, "Where messages are POSTed.").required().format(SB_FORMAT_HTTP_URL),
    switchboard::Option("signing_secret", SB_OPT_STRING, "HMAC-SHA256 key of X-Signature.").required().secret(),
    switchboard::Option("timeout", SB_OPT_DURATION, "Per request.").defaultValue("10s").min("1s").max("2m"),
};

}  // namespace

SWITCHBOARD_PLUGIN(JsonWebhookSink, "json-webhook-example", "1.0.0", "Delivers messages as signed JSON webhooks.",
                   SB_KIND_SINK, kOptions)
