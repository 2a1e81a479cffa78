// twilio: SMS through Twilio Programmable Messaging. Inbound messages and status callbacks
// arrive as signed form posts at /webhooks/{instance} and /webhooks/{instance}/status;
// outbound messages go through the Messages REST API. STOP/START keywords and error 21610
// (the recipient replied STOP) update the number's SMS consent. Built against the SDK only.
#include "twilio_messages.h"
#include "twilio_signature.h"

#include <switchboard/plugin.hpp>
#include <sbcommon/sms.h>
#include <sbcommon/form.h>

#include <map>
#include <string>
#include <vector>

namespace {

using switchboard::Result;
namespace sms = sbcommon::sms;
namespace form = sbcommon::form;
using Params = std::vector<std::pair<std::string, std::string>>;

std::string param(const Params& params, const std::string& name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

// Twilio's MessageStatus values (Message resource, "Message Status values").
std::optional<sb_delivery_status> deliveryStatus(const std::string& s) {
    if (s == "queued" || s == "accepted" || s == "scheduled") return SB_DELIVERY_QUEUED;
    if (s == "sending" || s == "sent") return SB_DELIVERY_SENT;
    if (s == "delivered") return SB_DELIVERY_DELIVERED;
    if (s == "read") return SB_DELIVERY_READ;
    if (s == "undelivered") return SB_DELIVERY_UNDELIVERED;
    if (s == "failed" || s == "canceled") return SB_DELIVERY_FAILED;
    return std::nullopt;
}

// "whatsapp:+1555..." numbers come through the same API: keep them apart from SMS numbers.
switchboard::Identity identityOf(const std::string& address) {
    if (address.rfind("whatsapp:", 0) == 0) return {"external", address, ""};
    return {"phone", address, ""};
}

twilio::MessagesOptions messagesOptions(const switchboard::Config& c) {
    twilio::MessagesOptions o;
    o.apiBaseUrl = c.getString("api_base_url", "https://api.twilio.com");
    o.accountSid = c.getString("account_sid");
    o.authToken = c.getString("auth_token");
    o.from = c.getString("from");
    o.messagingServiceSid = c.getString("messaging_service_sid");
    o.statusCallback = c.getString("status_callback_url");
    o.timeout = c.getDuration("timeout", std::chrono::milliseconds(10000));
    return o;
}

class Twilio : public switchboard::Plugin {
public:
    Twilio(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host),
          authToken_(config.getString("auth_token")),
          channel_(config.getString("channel", "sms")),
          client_(messagesOptions(config)) {
        if (authToken_.empty()) throw switchboard::ConfigError("option 'auth_token' must not be empty");
    }

    Result send(const switchboard::Message& m, switchboard::SendResult& sent) override {
        std::vector<std::string> to;
        for (const auto& r : m.recipients)
            if ((r.type == "phone" || (r.type == "external" && r.value.rfind("whatsapp:", 0) == 0)) && !r.value.empty())
                to.push_back(r.value);
        if (to.size() != 1)
            return Result::failData("Twilio sends one message per number: expected one phone recipient, got " +
                                    std::to_string(to.size()));
        if (m.text.empty()) return Result::failData("the message has no text");
        twilio::SendOutcome out = client_.send(to.front(), m.text);
        if (out.result.isOk()) {
            sent.providerMessageId = out.sid;
            host().count("sent");
        } else if (out.errorCode == twilio::kUnsubscribedRecipient) {
            // Twilio refuses because the number replied STOP: record it, so the outbox stops
            // trying (and refuses later sends up front).
            recordConsent(identityOf(to.front()), "", "opted_out", "twilio error 21610");
        }
        if (!out.result.isOk()) host().count(out.result.status() == SB_RETRY ? "send_retries" : "send_failures");
        return out.result;
    }

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        if (req.method() != "POST") {
            resp.json(405, R"({"error":"Twilio webhooks are POST"})");
            return Result::ok();
        }
        const Params params = form::parseFormPairs(req.body());
        const auto header = req.header("x-twilio-signature");
        if (!twilio::signatureValid(authToken_, req.publicUrl(), params, header.value_or(""))) {
            host().count("webhook_rejected");
            host().warn("webhook with a missing or wrong X-Twilio-Signature refused (signed URL must be exactly " +
                        std::string(req.publicUrl()) + ": check server.public_url)");
            resp.json(403, R"({"error":"invalid X-Twilio-Signature"})");
            return Result::ok();
        }
        if (req.path().empty() || req.path() == "/" || req.path() == "/sms") return inbound(req, params, resp);
        if (req.path() == "/status") return statusCallback(params, resp);
        resp.json(404, R"({"error":"use /webhooks/{instance} for messages and /webhooks/{instance}/status"})");
        return Result::ok();
    }

private:
    Result inbound(const switchboard::Request& req, const Params& p, switchboard::Response& resp) {
        std::string sid = param(p, "MessageSid");
        if (sid.empty()) sid = param(p, "SmsSid");
        const std::string from = param(p, "From");
        if (sid.empty() || from.empty()) {
            host().count("webhook_rejected");
            resp.json(400, R"({"error":"MessageSid and From are required"})");
            return Result::ok();
        }
        switchboard::Message m;
        const switchboard::Identity sender = identityOf(from);
        m.channel = sender.type == "external" ? "whatsapp" : channel_;
        m.sourceId = sid;
        m.sender.push_back(sender);
        if (const std::string to = param(p, "To"); !to.empty()) m.recipients.push_back(identityOf(to));
        m.text = param(p, "Body");
        int media = 0;
        try {
            media = std::stoi(param(p, "NumMedia").empty() ? "0" : param(p, "NumMedia"));
        } catch (const std::exception&) {
        }
        for (int i = 0; i < std::min(media, 10); ++i) {  // Twilio sends at most 10
            switchboard::Attachment a;
            a.reference = param(p, "MediaUrl" + std::to_string(i));
            a.contentType = param(p, "MediaContentType" + std::to_string(i));
            if (!a.reference.empty()) m.attachments.push_back(a);
        }
        const sms::Keyword keyword = sms::classifyKeyword(m.text);
        if (keyword != sms::Keyword::None) m.attributes.emplace_back("sms.keyword", sms::keywordName(keyword));
        m.rawContentType = "application/x-www-form-urlencoded";
        m.raw = std::string(req.body());
        Result emitted = host().emit(m);
        if (emitted.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry"})");
            return Result::ok();
        }
        if (!emitted.isOk()) {
            resp.json(400, R"({"error":"message refused by the host"})");
            return Result::ok();
        }
        if (const auto consent = sms::consentOfKeyword(m.text)) {
            if (recordConsent(sender, consent->purpose, consent->status, consent->evidence).status() == SB_RETRY) {
                resp.json(503, R"({"error":"busy, retry"})");
                return Result::ok();
            }
        }
        // Empty TwiML: no automatic reply.
        resp.setStatus(200);
        resp.setHeader("content-type", "text/xml");
        resp.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>");
        return Result::ok();
    }

    Result statusCallback(const Params& p, switchboard::Response& resp) {
        const std::string sid = param(p, "MessageSid"), status = param(p, "MessageStatus");
        const std::string code = param(p, "ErrorCode");
        auto mapped = deliveryStatus(status);
        if (sid.empty() || !mapped) {
            // A status this connector does not know (Twilio adds some): acknowledge, log.
            host().debug("status callback ignored: MessageStatus '" + status + "'");
            resp.setStatus(204);
            return Result::ok();
        }
        if (code == std::to_string(twilio::kUnsubscribedRecipient))
            recordConsent(identityOf(param(p, "To")), "", "opted_out", "twilio error 21610");
        Result r = host().reportDelivery(sid, *mapped, code, param(p, "ErrorMessage"));
        if (r.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry"})");
            return Result::ok();
        }
        if (r.isOk()) host().count("delivery_reports");
        else host().warn("status callback for " + sid + " not recorded: " + r.message());
        resp.setStatus(204);
        return Result::ok();
    }

    Result recordConsent(const switchboard::Identity& who, const std::string& purpose, const std::string& status,
                         const std::string& evidence) {
        if (who.value.empty()) return Result::ok();
        if (!host().canReportConsent()) {
            host().warn("consent change not recorded: this host does not take consent (ABI < 1.2)");
            return Result::ok();
        }
        Result r = host().reportConsent(who, purpose, status, evidence);
        if (r.isOk()) host().count(status == "opted_out" ? "opt_outs" : "opt_ins");
        else host().warn("consent change not recorded: " + r.message());
        return r;
    }

    std::string authToken_;
    std::string channel_;
    twilio::MessagesClient client_;
};

constexpr sb_option kOptions[] = {
    switchboard::option("account_sid", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "The Twilio Account SID (AC...): the API user, and the account in the API path."),
    switchboard::option("auth_token", SB_OPT_STRING, SB_OPTION_REQUIRED | SB_OPTION_SECRET, nullptr,
                        "The account's Auth Token: the API password, and the key Twilio signs webhooks with "
                        "(X-Twilio-Signature). Secret: write ${env:NAME} or ${file:PATH}."),
    switchboard::option("from", SB_OPT_STRING, 0, nullptr,
                        "Our Twilio number (E.164) outbound messages come from. Set this or "
                        "messaging_service_sid, not both."),
    switchboard::option("messaging_service_sid", SB_OPT_STRING, 0, nullptr,
                        "A Messaging Service (MG...) that picks the sender. Set this or from, not both."),
    switchboard::option("status_callback_url", SB_OPT_STRING, 0, nullptr,
                        "Where Twilio posts delivery status for our messages: this instance's public webhook "
                        "URL + /status, e.g. https://sb.example.com/webhooks/sms-twilio/status. Unset: no "
                        "delivery receipts."),
    switchboard::option("api_base_url", SB_OPT_STRING, 0, "https://api.twilio.com",
                        "The REST API's base URL. Change it only for a regional edge or a test double."),
    switchboard::option("timeout", SB_OPT_DURATION, 0, "10s", "How long to wait for the REST API to answer."),
    switchboard::option("channel", SB_OPT_STRING, 0, "sms",
                        "The channel name of this instance's SMS messages (WhatsApp senders are 'whatsapp')."),
};

}  // namespace

SWITCHBOARD_PLUGIN(Twilio, "twilio", "1.0.0", "SMS through Twilio: signed webhooks in, the Messages API out.",
                   SB_KIND_SOURCE | SB_KIND_SINK, kOptions)
