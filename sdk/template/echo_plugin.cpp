// echo: a small source connector to copy when writing your own.
//
// POST /webhooks/<instance> with a text/plain UTF-8 body. The connector turns the request
// into one normalized message on channel "echo", commits it through the host, and answers
// 200 with {"greeting": <option greeting>, "source_id": ..., "outcome": "stored"|"duplicate"}.
// Anything else gets a 4xx with a reason: never trust webhook input.
//
//   x-message-id  the provider's id of the message (the idempotency key); when absent the
//                 id is a hash of the body, so sending the same body twice stores it once
//   x-sender      who sent it; becomes the sender identity "echo:<x-sender>"
//
// It uses only the SDK and the standard library. A connector that reads JSON uses
// nlohmann/json, and one that checks signatures or calls an HTTP API uses the SDK's optional
// helpers (crypto.hpp, http_client.hpp): see the README.
#include <switchboard/plugin.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using switchboard::Result;

// Text as a JSON string literal: echo writes one small answer, so it needs no JSON library.
std::string jsonString(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += esc;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// A stable id for a body (64-bit FNV-1a): the same body always gets the same id, so the
// host's dedupe recognises a resend. std::hash would differ between standard libraries.
std::string bodyId(std::string_view body) {
    uint64_t h = 14695981039346656037ull;
    for (char c : body) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    char hex[24];
    std::snprintf(hex, sizeof hex, "body-%016llx", static_cast<unsigned long long>(h));
    return hex;
}

// True when text is UTF-8 by structure (lead byte, then the right number of continuation
// bytes): message text crossing the ABI must be UTF-8.
bool isUtf8(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const size_t length = lead < 0x80           ? 1
                              : (lead >> 5) == 0x6  ? 2
                              : (lead >> 4) == 0xe  ? 3
                              : (lead >> 3) == 0x1e ? 4
                                                    : 0;
        if (length == 0 || i + length > text.size()) return false;
        for (size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
        i += length;
    }
    return true;
}

class Echo : public switchboard::Plugin {
public:
    // The host validated the config against kOptions below and filled defaults, so
    // "greeting" is always present. Copy what you keep: the Config is gone after create.
    Echo(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host), greeting_(config.getString("greeting")) {
        // Cross-field or semantic checks go here; a ConfigError is reported against the
        // instance's config and the host keeps running.
        if (greeting_.empty()) throw switchboard::ConfigError("option 'greeting' must not be empty");
    }

    // switchboard::Plugin
    // May run on several host threads at once: this method only reads immutable members.
    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        if (req.method() != "POST") {
            resp.setHeader("allow", "POST");
            resp.json(405, R"({"error":"use POST"})");
            return Result::ok();
        }
        // Validate before anything is stored: a 4xx tells the sender what to fix.
        const std::string_view type = req.header("content-type").value_or("text/plain");
        if (type.substr(0, 10) != "text/plain") {
            resp.json(415, R"({"error":"send the message as text/plain"})");
            return Result::ok();
        }
        if (req.body().empty() || !isUtf8(req.body())) {
            resp.json(400, R"({"error":"the body must be non-empty UTF-8 text"})");
            return Result::ok();
        }
        switchboard::Message m;
        m.channel = "echo";
        m.direction = SB_DIRECTION_INBOUND;
        auto id = req.header("x-message-id");
        m.sourceId = id ? std::string(*id) : bodyId(req.body());
        m.sender.push_back(
            {"external", "echo:" + std::string(req.header("x-sender").value_or("anonymous")), ""});
        m.text = std::string(req.body());
        m.rawContentType = std::string(type);
        m.raw = std::string(req.body());

        // emit() returns once the message is durably committed (or says why not).
        sb_emit_outcome outcome = SB_EMIT_STORED;
        Result emitted = host().emit(m, &outcome);
        if (emitted.status() == SB_RETRY) {
            // The store is busy: tell the caller to retry. Never sleep and retry here.
            resp.json(503, R"({"error":"busy, retry later"})");
            return Result::ok();
        }
        if (!emitted.isOk()) return emitted;  // the host logs the reason for this instance
        if (outcome == SB_EMIT_REJECTED) {
            resp.json(400, R"({"error":"message rejected"})");
            return Result::ok();
        }
        host().count("echoed");
        resp.json(200, "{\"greeting\":" + jsonString(greeting_) + ",\"source_id\":" + jsonString(m.sourceId) +
                           ",\"outcome\":\"" + (outcome == SB_EMIT_DUPLICATE ? "duplicate" : "stored") +
                           "\"}");
        return Result::ok();
    }

private:
    const std::string greeting_;
};

// The option schema, declared once: the host validates config against it, fills defaults
// and generates `switchboard plugins describe echo` from it.
constexpr sb_option kOptions[] = {
    switchboard::option("greeting", SB_OPT_STRING, 0, "hello",
                        "What the connector answers each webhook with."),
};

}  // namespace

// Exports the one entry symbol. The name is what switchboard.yaml refers to as `plugin: echo`.
SWITCHBOARD_PLUGIN(Echo, "echo", "1.0.0", "Echoes webhook bodies into messages and greets the caller.",
                   SB_KIND_SOURCE, kOptions)
