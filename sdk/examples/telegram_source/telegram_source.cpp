// A Telegram-style webhook source in the template's style. Telegram calls the URL given to
// setWebhook with one Update per POST and, when setWebhook had a secret_token, sends it back in
// X-Telegram-Bot-Api-Secret-Token (https://core.telegram.org/bots/api#setwebhook). A message
// (https://core.telegram.org/bots/api#message) becomes one stored message; a contact the user
// shares of themselves adds their phone, so a later SMS from that number is the same customer.
#include <switchboard/crypto.hpp>
#include <switchboard/plugin.hpp>

#include <nlohmann/json.hpp>
#include <string>

namespace {

using nlohmann::json;
using switchboard::Result;

class TelegramSource : public switchboard::Plugin {
public:
    static constexpr sb_webhook_route kWebhookRoutes[] = {
        switchboard::route("POST", "", "Bot API updates (setWebhook with a secret_token)."),
    };
    static constexpr sb_metric kMetrics[] = {
        switchboard::metric("updates_skipped", "counter", "Updates without a message (edits, polls, joins)."),
    };
    TelegramSource(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host), secret_(config.getString("secret_token")) {}

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        const auto given = req.header("x-telegram-bot-api-secret-token").value_or("");
        if (!switchboard::crypto::constantTimeEquals(given, secret_))
            return refuse(resp, 401, "bad_secret", "missing or wrong X-Telegram-Bot-Api-Secret-Token");
        const json update = json::parse(req.body(), nullptr, false);
        if (!update.is_object() || !update.contains("update_id") || !update["update_id"].is_number_integer())
            return refuse(resp, 400, "bad_payload", "expected a JSON Update with an integer update_id");
        if (!update.contains("message") || !update["message"].is_object()) {
            host().count("updates_skipped");  // answered 200: Telegram would resend anything else
            resp.json(200, R"({"outcome":"skipped"})");
            return Result::ok();
        }
        switchboard::Message m;
        try {
            m = toMessage(update["message"]);
        } catch (const json::exception&) {  // a field of the wrong type
            return refuse(resp, 400, "bad_payload", "the message has a field of an unexpected type");
        }
        m.raw = std::string(req.body());
        sb_emit_outcome outcome = SB_EMIT_STORED;
        Result emitted = host().emit(m, &outcome);
        if (emitted.status() == SB_RETRY) {
            resp.json(503, R"({"error":"busy, retry later"})");
            return Result::ok();
        }
        if (!emitted.isOk()) return emitted;
        resp.json(200, outcome == SB_EMIT_DUPLICATE ? R"({"outcome":"duplicate"})" : R"({"outcome":"stored"})");
        return Result::ok();
    }

private:
    static switchboard::Message toMessage(const json& msg) {
        const std::string chat = std::to_string(msg.at("chat").at("id").get<long long>());
        const json from = msg.value("from", json::object());
        switchboard::Message m;
        m.channel = "telegram";
        m.direction = SB_DIRECTION_INBOUND;
        // message_id is unique within its chat only.
        m.sourceId = "tg:" + chat + ":" + std::to_string(msg.at("message_id").get<long long>());
        m.conversationId = "tg-chat:" + chat;
        m.occurredAtMs = msg.value("date", 0LL) * 1000;
        m.text = msg.value("text", msg.value("caption", std::string()));
        if (from.contains("id")) {
            m.sender.push_back({"external", "telegram:" + std::to_string(from["id"].get<long long>()), ""});
            m.senderName = from.value("first_name", std::string());
            if (from.contains("last_name")) m.senderName += " " + from["last_name"].get<std::string>();
        }
        // Only the sender's own contact is their phone; a shared contact of someone else is not.
        const json contact = msg.value("contact", json::object());
        if (contact.contains("phone_number") && contact.contains("user_id") && from.contains("id") &&
            contact["user_id"] == from["id"]) {
            const std::string phone = contact["phone_number"].get<std::string>();  // digits, "+" optional
            if (!phone.empty()) m.sender.push_back({"phone", phone[0] == '+' ? phone : "+" + phone, ""});
        }
        m.rawContentType = "application/json";
        return m;
    }

    const std::string secret_;
};

constexpr sb_option kOptions[] = {
    switchboard::Option("secret_token", SB_OPT_STRING, "The secret_token given to setWebhook.")
        .required().secret().pattern("[A-Za-z0-9_-]{1,256}"),  // what Telegram allows
};

}  // namespace

SWITCHBOARD_PLUGIN(TelegramSource, "telegram-example", "1.0.0", "Telegram Bot API webhook updates.",
                   SB_KIND_SOURCE, kOptions)
