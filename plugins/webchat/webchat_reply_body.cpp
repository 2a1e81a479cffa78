#include "webchat_reply_body.h"

#include <switchboard/crypto.hpp>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string_view>

namespace webchat {
namespace {

using nlohmann::json;

void putIfSet(json& object, const char* key, const std::string& value) {
    if (!value.empty()) object[key] = value;
}

// The recipients in the shape of an inbound "from": the first email, the first phone, and
// one entry per external system ("visitor:cookie-3f2a" -> {"visitor": "cookie-3f2a"}).
json recipientsJson(const std::vector<switchboard::Identity>& recipients) {
    json to = json::object();
    json external = json::object();
    for (const auto& r : recipients) {
        if (r.value.empty()) continue;
        if (r.type == "email" && !to.contains("email")) {
            to["email"] = r.value;
        } else if (r.type == "phone" && !to.contains("phone")) {
            to["phone"] = r.value;
        } else if (r.type == "external") {
            const size_t colon = r.value.find(':');
            if (colon == std::string::npos || colon == 0) continue;  // not "system:id"
            const std::string system = r.value.substr(0, colon);
            if (!external.contains(system)) external[system] = r.value.substr(colon + 1);
        }
    }
    if (!external.empty()) to["external_ids"] = external;
    return to;
}

json attachmentsJson(const std::vector<switchboard::Attachment>& attachments) {
    json out = json::array();
    for (const auto& a : attachments) {
        json item{{"url", a.reference}};
        putIfSet(item, "name", a.name);
        putIfSet(item, "content_type", a.contentType);
        if (a.sizeBytes > 0) item["size"] = a.sizeBytes;
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace

std::string replyId(const switchboard::Message& message) {
    for (const auto& [key, value] : message.attributes)
        if (key == kIdempotencyAttribute && !value.empty()) return value;
    if (!message.sourceId.empty()) return message.sourceId;
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a reply id");
    return "wc-" + switchboard::crypto::toHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string formatRfc3339Ms(int64_t unixMs) {
    const std::time_t seconds = static_cast<std::time_t>(unixMs / 1000);
    std::tm utc{};
    if (gmtime_r(&seconds, &utc) == nullptr) throw std::runtime_error("time out of range");
    char buf[96];  // room for any int fields, so the format can never truncate
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unixMs % 1000));
    return buf;
}

std::string replyBody(const switchboard::Message& message, const std::string& id, int64_t sentAtMs) {
    json body{{"id", id}};
    putIfSet(body, "conversation_id", message.conversationId);
    putIfSet(body, "in_reply_to", message.inReplyTo);
    body["to"] = recipientsJson(message.recipients);
    putIfSet(body, "subject", message.subject);
    body["text"] = message.text;
    putIfSet(body, "html", message.html);
    if (!message.attachments.empty()) body["attachments"] = attachmentsJson(message.attachments);
    json attributes = json::object();
    const std::string_view hostPrefix = kHostAttributePrefix;
    for (const auto& [key, value] : message.attributes)
        if (std::string_view(key).substr(0, hostPrefix.size()) != hostPrefix) attributes[key] = value;
    if (!attributes.empty()) body["attributes"] = attributes;
    body["sent_at"] = formatRfc3339Ms(sentAtMs);
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace webchat
