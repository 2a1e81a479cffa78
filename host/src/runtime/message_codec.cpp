#include "runtime/message_codec.h"

#include "runtime/abi_text.h"

#include <nlohmann/json.hpp>

namespace switchboard::host {

namespace {

constexpr size_t kMaxSourceId = 512;

struct Checker {
    std::string error;
    // Checks one span is UTF-8 and copies it; records the first error with its field name.
    std::string text(sb_str s, const std::string& field) {
        if (s.data == nullptr && s.size != 0) {
            fail(field, "NULL data with non-zero size");
            return {};
        }
        std::string_view v = view(s);
        if (!isValidUtf8(v)) fail(field, "is not valid UTF-8");
        return std::string(v);
    }
    void fail(const std::string& field, const std::string& why) {
        if (error.empty()) error = field + ": " + why;
    }
};

nlohmann::json identities(Checker& c, const sb_identity* ids, size_t n, const std::string& field) {
    nlohmann::json out = nlohmann::json::array();
    if (n > 0 && ids == nullptr) {
        c.fail(field, "count is " + std::to_string(n) + " but the array is NULL");
        return out;
    }
    for (size_t i = 0; i < n; ++i) {
        const std::string f = field + "[" + std::to_string(i) + "]";
        const sb_identity& id = *SB_ARRAY_AT(sb_identity, ids, i);
        if (i == 0 && id.struct_size < offsetof(sb_identity, scope) + sizeof(sb_str)) {
            c.fail(f, "struct_size " + std::to_string(id.struct_size) + " is smaller than the 1.0 sb_identity");
            return out;
        }
        std::string type = c.text(id.type, f + ".type");
        std::string value = c.text(id.value, f + ".value");
        std::string scope = c.text(id.scope, f + ".scope");
        if (type != "email" && type != "phone" && type != "external")
            c.fail(f + ".type", "is '" + type + "'; expected email, phone or external");
        if (value.empty()) c.fail(f + ".value", "is empty");
        if (type == "external" && value.find(':') == std::string::npos)
            c.fail(f + ".value", "an external id must be 'system:id', found '" + value + "'");
        out.push_back({{"type", type}, {"value", value}, {"scope", scope}});
    }
    return out;
}

}  // namespace

bool isValidUtf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (size_t k = 1; k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 0x2) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

std::string decodeMessage(const sb_message& m, const std::string& connector, int64_t receivedAtMs,
                          MessageRecord& out) {
    Checker c;
    if (m.struct_size < offsetof(sb_message, raw) + sizeof(m.raw))
        return "struct_size " + std::to_string(m.struct_size) + " is smaller than the 1.0 sb_message";
    out.connector = connector;
    out.channel = c.text(m.channel, "channel");
    if (out.channel.empty()) c.fail("channel", "is empty");
    if (m.direction != SB_DIRECTION_INBOUND && m.direction != SB_DIRECTION_OUTBOUND)
        c.fail("direction", "is " + std::to_string(static_cast<int>(m.direction)));
    out.direction = m.direction == SB_DIRECTION_OUTBOUND ? "outbound" : "inbound";
    out.sourceId = c.text(m.source_id, "source_id");
    if (out.sourceId.empty()) c.fail("source_id", "is empty; every message needs the provider's id");
    if (out.sourceId.size() > kMaxSourceId)
        c.fail("source_id", "is " + std::to_string(out.sourceId.size()) + " bytes; at most " +
                                std::to_string(kMaxSourceId));
    out.conversationId = c.text(m.conversation_id, "conversation_id");
    out.subject = c.text(m.subject, "subject");
    out.text = c.text(m.text, "text");
    out.occurredAtMs = m.occurred_at_ms;
    out.receivedAtMs = receivedAtMs;
    out.rawContentType = c.text(m.raw_content_type, "raw_content_type");
    out.raw = std::string(view(m.raw));  // raw bytes are kept as given, any encoding

    nlohmann::json j;
    j["channel"] = out.channel;
    j["direction"] = out.direction;
    j["source_id"] = out.sourceId;
    j["conversation_id"] = out.conversationId;
    j["in_reply_to"] = c.text(m.in_reply_to, "in_reply_to");
    nlohmann::json refs = nlohmann::json::array();
    if (m.reference_count > 0 && m.references == nullptr) c.fail("references", "count set but array is NULL");
    for (size_t i = 0; m.references && i < m.reference_count; ++i)
        refs.push_back(c.text(m.references[i], "references[" + std::to_string(i) + "]"));
    j["references"] = refs;
    j["sender_name"] = c.text(m.sender_name, "sender_name");
    j["sender"] = identities(c, m.sender, m.sender_count, "sender");
    out.senderName = j["sender_name"];
    out.inReplyTo = j["in_reply_to"];
    for (const auto& r : j["references"]) out.references.push_back(r);
    for (const auto& id : j["sender"]) out.sender.push_back({id["type"], id["value"], id["scope"]});
    j["recipients"] = identities(c, m.recipients, m.recipient_count, "recipients");
    j["subject"] = out.subject;
    j["text"] = out.text;
    j["html"] = c.text(m.html, "html");
    nlohmann::json atts = nlohmann::json::array();
    if (m.attachment_count > 0 && m.attachments == nullptr) c.fail("attachments", "count set but array is NULL");
    for (size_t i = 0; m.attachments && i < m.attachment_count; ++i) {
        const sb_attachment& a = *SB_ARRAY_AT(sb_attachment, m.attachments, i);
        const std::string f = "attachments[" + std::to_string(i) + "]";
        atts.push_back({{"name", c.text(a.name, f + ".name")},
                        {"content_type", c.text(a.content_type, f + ".content_type")},
                        {"size_bytes", a.size_bytes},
                        {"content_id", c.text(a.content_id, f + ".content_id")},
                        {"reference", c.text(a.reference, f + ".reference")}});
    }
    j["attachments"] = atts;
    j["occurred_at_ms"] = m.occurred_at_ms;
    nlohmann::json attrs = nlohmann::json::object();
    if (m.attribute_count > 0 && m.attributes == nullptr) c.fail("attributes", "count set but array is NULL");
    for (size_t i = 0; m.attributes && i < m.attribute_count; ++i) {
        const std::string f = "attributes[" + std::to_string(i) + "]";
        std::string key = c.text(m.attributes[i].key, f + ".key");
        if (key.empty()) c.fail(f + ".key", "is empty");
        attrs[key] = c.text(m.attributes[i].value, f + ".value");
        // "customer.<name>" attributes describe the person, not the message (see plugin.h).
        if (key.rfind("customer.", 0) == 0 && key.size() > 9)
            out.customerAttributes.emplace_back(key.substr(9), attrs[key].get<std::string>());
    }
    j["attributes"] = attrs;
    if (!c.error.empty()) return c.error;
    out.normalizedJson = j.dump();
    return "";
}

}  // namespace switchboard::host
