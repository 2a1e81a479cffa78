// kannel: SMS through a Kannel gateway (https://www.kannel.org). Outbound through smsbox's
// sendsms HTTP interface; inbound through an sms-service get-url aimed at
// /webhooks/{instance}; delivery reports through the dlr-url each sendsms carries, aimed at
// /webhooks/{instance}/dlr. STOP/START keywords update the sender's SMS consent.
// Built against the SDK only, like an out-of-tree connector.
#include "kannel_inbound.h"
#include "kannel_sendsms.h"

#include <switchboard/crypto.hpp>
#include <switchboard/plugin.hpp>
#include <sbcommon/sms.h>
#include <sbcommon/form.h>

#include <string>

namespace {

using switchboard::Result;
namespace sms = sbcommon::sms;
namespace form = sbcommon::form;

kannel::SendsmsOptions sendsmsOptions(const switchboard::Config& c) {
    kannel::SendsmsOptions o;
    o.url = c.getString("sendsms_url");
    o.username = c.getString("username");
    o.password = c.getString("password");
    o.from = c.getString("from");
    o.smsc = c.getString("smsc");
    o.callbackUrl = c.getString("callback_url");
    o.token = c.getString("webhook_token");
    o.dlrMask = static_cast<int>(c.getInt("dlr_mask", 31));
    o.maxSegments = static_cast<int>(c.getInt("max_segments", 10));
    o.timeout = c.getDuration("timeout", std::chrono::milliseconds(10000));
    return o;
}

std::string jsonEscape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
    return out;
}

class Kannel : public switchboard::Plugin {
public:
    Kannel(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host),
          channel_(config.getString("channel", "sms")),
          token_(config.getString("webhook_token")),
          client_(sendsmsOptions(config)) {
        if (channel_.empty()) throw switchboard::ConfigError("option 'channel' must not be empty");
    }

    Result send(const switchboard::Message& m, switchboard::SendResult& sent) override {
        Result r = client_.send(m, sent);
        if (r.isOk()) host().count("sent");
        else host().count(r.status() == SB_RETRY ? "send_retries" : "send_failures");
        return r;
    }

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        const auto params = form::parseQuery(req.query());
        if (!token_.empty()) {
            auto it = params.find("token");
            if (it == params.end() || !switchboard::crypto::constantTimeEquals(it->second, token_)) {
                host().count("webhook_rejected");
                host().warn("webhook request without the right token refused (from " + std::string(req.remoteAddr()) +
                            ")");
                resp.json(403, R"({"error":"missing or wrong token"})");
                return Result::ok();
            }
        }
        if (req.path().empty() || req.path() == "/") return inbound(req, params, resp);
        if (req.path() == "/dlr") return deliveryReport(params, resp);
        resp.json(404, R"json({"error":"use /webhooks/{instance} for the get-url and /webhooks/{instance}/dlr for the dlr-url"})json");
        return Result::ok();
    }

private:
    Result inbound(const switchboard::Request& req, const std::map<std::string, std::string>& params,
                   switchboard::Response& resp) {
        kannel::MoMessage mo;
        if (auto why = kannel::parseMo(params, form::withoutParam(req.query(), "token"), channel_, mo)) {
            host().count("webhook_rejected");
            resp.json(400, "{\"error\":\"" + jsonEscape(*why) + "\"}");
            return Result::ok();
        }
        sb_emit_outcome outcome = SB_EMIT_STORED;
        Result emitted = host().emit(mo.message, &outcome);
        if (emitted.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry"})");  // smsbox retries (http-request-retry)
            return Result::ok();
        }
        if (!emitted.isOk()) {
            resp.json(400, "{\"error\":\"" + jsonEscape(emitted.message()) + "\"}");
            return Result::ok();
        }
        // The message is stored: now act on a keyword. A retry of the same get-url finds it a
        // duplicate and applies the consent again, which is harmless.
        if (Result consent = applyKeyword(mo); consent.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry"})");
            return Result::ok();
        }
        // An empty text/plain answer: with max-messages = 0 smsbox sends nothing back.
        resp.setStatus(200);
        resp.setHeader("content-type", "text/plain");
        return Result::ok();
    }

    Result applyKeyword(const kannel::MoMessage& mo) {
        const auto consent = sms::consentOfKeyword(mo.message.text);
        if (!consent) return Result::ok();
        const bool out = consent->optOut();
        if (!host().canReportConsent()) {
            host().warn("an SMS keyword asked to change consent, but this host does not take consent (ABI < 1.2)");
            return Result::ok();
        }
        Result r = host().reportConsent(mo.message.sender.front(), consent->purpose, consent->status, consent->evidence);
        if (r.isOk()) host().count(out ? "opt_outs" : "opt_ins");
        else host().warn("could not record the sender's " + std::string(out ? "opt-out" : "opt-in") + ": " + r.message());
        return r;
    }

    Result deliveryReport(const std::map<std::string, std::string>& params, switchboard::Response& resp) {
        auto param = [&](const char* name) {
            auto it = params.find(name);
            return it == params.end() ? std::string() : it->second;
        };
        const std::string id = param("id"), type = param("type");
        auto status = kannel::dlrStatus(type);
        if (id.empty() || !status) {
            host().count("webhook_rejected");
            resp.json(400, "{\"error\":\"a delivery report needs id and type (1, 2, 4, 8 or 16), got type '" +
                               jsonEscape(type) + "'\"}");
            return Result::ok();
        }
        int64_t atMs = 0;
        try {
            if (!param("time").empty()) atMs = std::stoll(param("time")) * 1000;
        } catch (const std::exception&) {
        }
        const bool failed = *status == SB_DELIVERY_FAILED || *status == SB_DELIVERY_UNDELIVERED;
        Result r = host().reportDelivery(id, *status, failed ? "kannel_dlr_" + type : "", param("answer"), atMs);
        if (r.isOk()) {
            host().count("delivery_reports");
            resp.setStatus(200);
            resp.setHeader("content-type", "text/plain");
        } else if (r.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry"})");
        } else {
            host().warn("delivery report for " + id + " not recorded: " + r.message());
            resp.json(r.status() == SB_FAIL_DATA ? 404 : 500, "{\"error\":\"" + jsonEscape(r.message()) + "\"}");
        }
        return Result::ok();
    }

    std::string channel_;
    std::string token_;
    kannel::SendsmsClient client_;
};

constexpr sb_option kOptions[] = {
    switchboard::option("sendsms_url", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "Kannel's sendsms endpoint: the smsbox sendsms-port and path, e.g. "
                        "http://kannel:13013/cgi-bin/sendsms."),
    switchboard::option("username", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "The username of a sendsms-user group in kannel.conf."),
    switchboard::option("password", SB_OPT_STRING, SB_OPTION_REQUIRED | SB_OPTION_SECRET, nullptr,
                        "That sendsms-user's password. Secret: write ${env:NAME} or ${file:PATH}."),
    switchboard::option("callback_url", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "This instance's webhook URL as Kannel reaches it, e.g. "
                        "http://switchboard:8080/webhooks/sms-kannel. Delivery reports come back to "
                        "<callback_url>/dlr."),
    switchboard::option("webhook_token", SB_OPT_STRING, SB_OPTION_SECRET, nullptr,
                        "When set, every webhook request must carry token=<this value> in its query (add "
                        "&token=... to the smsbox get-url; dlr-urls get it automatically); others are refused "
                        "with 403 and counted. Kannel cannot sign requests: set it, and keep the webhook on a "
                        "private network. Secret: write ${env:NAME} or ${file:PATH}."),
    switchboard::option("from", SB_OPT_STRING, 0, nullptr,
                        "Sender of outbound messages (a number or an alphanumeric name). Unset: the smsbox's "
                        "global-sender, or what the sendsms-user forces."),
    switchboard::option("smsc", SB_OPT_STRING, 0, nullptr,
                        "Route outbound messages through this smsc-id. Unset: Kannel routes."),
    switchboard::option("dlr_mask", SB_OPT_INT, 0, "31",
                        "Which delivery reports to ask for, a sum of 1 (delivered to phone), 2 (not delivered "
                        "to phone), 4 (queued on SMSC), 8 (delivered to SMSC) and 16 (not delivered to SMSC). "
                        "0: none."),
    switchboard::option("max_segments", SB_OPT_INT, 0, "10",
                        "Longest text sent, in SMS segments (160/153 GSM-7 characters, 70/67 UCS-2 units "
                        "each); longer messages fail. Kannel splits and concatenates them itself: its "
                        "sendsms-user needs max-messages at least this high and concatenation = true."),
    switchboard::option("timeout", SB_OPT_DURATION, 0, "10s", "How long to wait for Kannel to answer a sendsms request."),
    switchboard::option("channel", SB_OPT_STRING, 0, "sms",
                        "The channel name messages of this instance carry (the customer timeline and the "
                        "outbox's channel choice use it)."),
};

}  // namespace

SWITCHBOARD_PLUGIN(Kannel, "kannel", "1.0.0", "SMS through a Kannel gateway: sendsms out, get-url and DLRs in.",
                   SB_KIND_SOURCE | SB_KIND_SINK, kOptions)
