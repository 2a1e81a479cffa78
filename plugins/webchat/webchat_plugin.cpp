// webchat: a source for a website chat widget or anything that can POST JSON.
// POST /webhooks/{instance} with one message; the plugin validates it, commits it through
// the host, and answers 2xx only once the host has stored it durably.
// It is also a sink: with reply_url set, send() POSTs replies back to the website.
#include "webchat_payload.h"
#include "webchat_reply.h"
#include "webchat_signature.h"
#include "webchat_version.h"

#include <switchboard/plugin.hpp>

#include <nlohmann/json.hpp>

#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace webchat {
namespace {

using switchboard::Result;

constexpr std::string_view kSignatureHeader = "x-switchboard-signature";

// Error text may carry client-chosen bytes; replace invalid UTF-8 instead of throwing.
std::string jsonBody(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string errorBody(std::string_view reason) { return jsonBody({{"error", reason}}); }

bool isJsonMediaType(std::string_view contentType) {
    std::string_view type = contentType.substr(0, contentType.find(';'));
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    constexpr std::string_view kJson = "application/json";
    if (type.size() != kJson.size()) return false;
    for (size_t i = 0; i < type.size(); ++i) {
        char c = type[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != kJson[i]) return false;
    }
    return true;
}

PayloadOptions readOptions(const switchboard::Config& cfg) {
    PayloadOptions o;
    o.channel = cfg.getString("channel", "webchat");
    if (o.channel.empty()) throw switchboard::ConfigError("option 'channel': must not be empty");
    o.scope = cfg.getString("scope");
    const std::string max = cfg.getString("max_attachments", "20");
    try {
        size_t used = 0;
        o.maxAttachments = std::stoll(max, &used);
        if (used != max.size()) throw std::invalid_argument(max);
    } catch (const std::exception&) {
        throw switchboard::ConfigError("option 'max_attachments': expected an integer, got '" + max + "'");
    }
    if (o.maxAttachments < 0)
        throw switchboard::ConfigError("option 'max_attachments': must be 0 or more, got " + max);
    return o;
}

std::string readSecret(const switchboard::Config& cfg) {
    auto secret = cfg.get("secret");
    // An unresolved variable must not silently turn signature checks off.
    if (secret && secret->empty())
        throw switchboard::ConfigError("option 'secret': is set but empty; remove it to accept unsigned requests");
    return secret.value_or("");
}

// No reply_url: the instance receives only, and send() says so.
std::unique_ptr<ReplySender> readReplySender(const switchboard::Config& cfg, const std::string& secret) {
    const std::string url = cfg.getString("reply_url");
    if (url.empty()) {
        if (!cfg.getString("reply_ca_file").empty())
            throw switchboard::ConfigError("option 'reply_ca_file': is set but 'reply_url' is not");
        return nullptr;
    }
    // Unsigned replies would let anyone who finds the website's endpoint post as the agent.
    if (secret.empty())
        throw switchboard::ConfigError("option 'reply_url': needs 'secret' too, so the website can verify replies");
    ReplyOptions o;
    o.url = url;
    o.secret = secret;
    o.timeout = cfg.getDuration("reply_timeout", std::chrono::seconds(10));
    o.caFile = cfg.getString("reply_ca_file");
    return std::make_unique<ReplySender>(std::move(o));
}

}  // namespace

class WebchatPlugin : public switchboard::Plugin {
public:
    WebchatPlugin(switchboard::Host host, const switchboard::Config& cfg)
        : Plugin(host),
          options_(readOptions(cfg)),
          secret_(readSecret(cfg)),
          replies_(readReplySender(cfg, secret_)),
          instanceName_(cfg.instanceName()) {}

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        try {
            handle(req, resp);
        } catch (const std::exception& e) {
            host().error(std::string("internal error while handling a request: ") + e.what());
            resp.json(500, errorBody("internal error"));
        }
        return Result::ok();
    }

    // Called concurrently from several host threads: ReplySender is thread-safe and the
    // rest is read-only.
    Result send(const switchboard::Message& message, switchboard::SendResult& sent) override {
        if (!replies_)
            return Result::unsupported("webchat instance '" + instanceName_ +
                                       "' has no reply_url; set options.reply_url to send replies");
        Result r = replies_->send(message, sent);
        if (r.isOk()) {
            host().count("replies_sent");
        } else if (r.status() == SB_RETRY) {
            host().count("replies_retried");
            host().warn("reply not delivered yet, will retry: " + r.message());
        } else {
            host().count("replies_failed");
            host().warn("reply refused: " + r.message());
        }
        return r;
    }

private:
    void handle(const switchboard::Request& req, switchboard::Response& resp) const {
        if (!req.path().empty() && req.path() != "/") {
            resp.json(404, errorBody("no such endpoint; POST to the instance's webhook URL itself"));
            return;
        }
        if (req.method() != "POST") {
            resp.setHeader("allow", "POST");
            resp.json(405, errorBody("method not allowed; use POST"));
            return;
        }
        // Authenticate before looking at the body: unsigned input is not parsed at all.
        if (!secret_.empty()) {
            auto signature = req.header(kSignatureHeader);
            if (!signature) {
                reject(req, resp, 401, "rejected_signature", "missing X-Switchboard-Signature header");
                return;
            }
            if (!verifySignature(secret_, req.body(), *signature)) {
                reject(req, resp, 403, "rejected_signature", "invalid signature");
                return;
            }
        }
        if (auto type = req.header("content-type"); type && !isJsonMediaType(*type)) {
            reject(req, resp, 415, "rejected_payload", "unsupported content type; send application/json");
            return;
        }
        ParseResult parsed = parsePayload(req.body(), options_);
        if (!parsed.ok()) {
            reject(req, resp, 400, "rejected_payload", parsed.error);
            return;
        }
        store(*parsed.message, resp);
    }

    void store(const switchboard::Message& message, switchboard::Response& resp) const {
        sb_emit_outcome outcome = SB_EMIT_STORED;
        const Result r = host().emit(message, &outcome);
        if (r.status() == SB_RETRY) {
            host().warn("store busy, answering 503: " + r.message());
            resp.setHeader("retry-after", "1");
            resp.json(503, errorBody("temporarily unable to store the message; retry"));
            return;
        }
        if (r.status() == SB_FAIL_DATA || outcome == SB_EMIT_REJECTED) {
            // The host found the message invalid; its reason names the field.
            const std::string reason = r.message().empty() ? "message rejected by the host" : r.message();
            host().count("rejected_payload");
            host().warn("message rejected by the host: " + reason);
            resp.json(400, errorBody(reason));
            return;
        }
        if (!r.isOk()) {
            host().error("emit failed: " + r.message());
            resp.json(500, errorBody("could not store the message"));
            return;
        }
        const char* status = outcome == SB_EMIT_DUPLICATE ? "duplicate" : "stored";
        resp.json(200, jsonBody({{"status", status}, {"id", message.sourceId}}));
    }

    // Logs the reason only: never the secret, the signature or the body.
    void reject(const switchboard::Request& req, switchboard::Response& resp, int status, std::string_view counter,
                const std::string& reason) const {
        host().count(counter);
        host().warn("rejected request from " + std::string(req.remoteAddr()) + " with " + std::to_string(status) +
                    ": " + reason);
        resp.json(status, errorBody(reason));
    }

    PayloadOptions options_;
    std::string secret_;
    std::unique_ptr<ReplySender> replies_;  // null without reply_url
    std::string instanceName_;
};

}  // namespace webchat

static constexpr sb_option kOptions[] = {
    switchboard::option("secret", SB_OPT_STRING, SB_OPTION_SECRET, nullptr,
                        "Shared secret for request signatures. When set, every request must carry "
                        "X-Switchboard-Signature: sha256=<lower-case hex HMAC-SHA256 of the raw body>; "
                        "unsigned requests get 401, wrong signatures 403."),
    switchboard::option("channel", SB_OPT_STRING, 0, "webchat",
                        "Channel name given to every message of this instance."),
    switchboard::option("scope", SB_OPT_STRING, 0, "",
                        "Scope of the sender's external ids (e.g. a site id), so visitor ids of two sites "
                        "never match each other. Empty: external ids are global."),
    switchboard::option("max_attachments", SB_OPT_INT, 0, "20",
                        "Most attachments one message may carry; more is refused with 400."),
    switchboard::option("reply_url", SB_OPT_STRING, 0, nullptr,
                        "http(s) URL of the website's endpoint for outbound replies. When set, the instance is "
                        "also a sink: each reply is POSTed there as JSON, signed like inbound requests "
                        "(X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body>), so 'secret' is "
                        "required. Unset: the instance only receives."),
    switchboard::option("reply_timeout", SB_OPT_DURATION, 0, "10s",
                        "Longest wait for the website to answer one reply (connect included); a timeout is "
                        "retried later."),
    switchboard::option("reply_ca_file", SB_OPT_STRING, 0, nullptr,
                        "PEM file of CA certificates to trust for an https reply_url, instead of the system's "
                        "(e.g. a private CA). Certificates are always verified."),
};

SWITCHBOARD_PLUGIN(webchat::WebchatPlugin, "webchat", webchat::kVersion,
                   "Website chat widget, or anything that can POST JSON: inbound messages, and replies back "
                   "to the website when reply_url is set.",
                   SB_KIND_SOURCE | SB_KIND_SINK, kOptions)
