#include "http/outbound_api.h"

#include "http/api_handler.h"
#include "outbox/outbox.h"

#include <nlohmann/json.hpp>

#include <map>

using nlohmann::json;

namespace switchboard::host::http {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

std::optional<int64_t> parsePositive(const std::string& text) {
    try {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size() && v > 0) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

// An optional string field: absent or null is "", any other non-string is an error.
bool stringField(const json& body, const char* name, std::string& out, std::string& error) {
    if (!body.contains(name) || body[name].is_null()) return true;
    if (!body[name].is_string()) {
        error = std::string(name) + " must be a string";
        return false;
    }
    out = body[name].get<std::string>();
    return true;
}

}  // namespace

Reply OutboundApi::handle(const RequestContext& request, const RouteMatch& route) const {
    if (!outbox_) return errorReply(503, "the outbox is not available");
    if (route.label == "/api/v1/messages") {
        if (request.method != "POST") return methodNotAllowed(request.method, "POST");
        return sendMessage(request);
    }
    if (route.label == "/api/v1/outbox") {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        return list(request, "");
    }
    if (route.label == "/api/v1/deadletters") {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        return list(request, "dead");
    }
    return deadLetter(request, route);
}

Reply OutboundApi::sendMessage(const RequestContext& request) const {
    auto body = json::parse(request.body, nullptr, false);
    if (!body.is_object())
        return errorReply(400, "body must be a JSON object: {\"customer_id\": \"cus_...\", \"text\": \"...\", "
                               "\"connector\"|\"channel\"|\"follow_preference\": ...}");
    outbox::OutboundRequest r;
    r.origin = "api";
    std::string error;
    if (!stringField(body, "customer_id", r.customerId, error) || !stringField(body, "connector", r.connector, error) ||
        !stringField(body, "channel", r.channel, error) || !stringField(body, "subject", r.subject, error) ||
        !stringField(body, "text", r.text, error) || !stringField(body, "html", r.html, error) ||
        !stringField(body, "idempotency_key", r.idempotencyKey, error))
        return errorReply(400, error);
    std::string purpose;
    if (!stringField(body, "purpose", purpose, error)) return errorReply(400, error);
    if (!purpose.empty()) r.purpose = purpose;
    if (body.contains("follow_preference")) {
        if (!body["follow_preference"].is_boolean()) return errorReply(400, "follow_preference must be true or false");
        r.followPreference = body["follow_preference"].get<bool>();
    }
    if (body.contains("reply_to_message_id") && !body["reply_to_message_id"].is_null()) {
        if (!body["reply_to_message_id"].is_number_integer())
            return errorReply(400, "reply_to_message_id must be an interaction id (an integer from the timeline)");
        r.replyToMessageId = body["reply_to_message_id"].get<int64_t>();
    }
    if (!r.connector.empty() && (!r.channel.empty() || r.followPreference))
        return errorReply(400, "give either connector, or channel / follow_preference, not both");
    if (r.customerId.empty()) return errorReply(400, "customer_id is required");

    outbox::EnqueueResult result = outbox_->submit(r);
    if (!result.accepted) return errorReply(result.httpStatus ? result.httpStatus : 400, result.error);
    return jsonReply(202, {{"id", result.outboxId},
                           {"message_id", result.messageId},
                           {"connector", result.connector},
                           {"channel", result.channel},
                           {"status", "queued"}});
}

Reply OutboundApi::list(const RequestContext& request, const std::string& fixedState) const {
    auto q = queryParams(request.query);
    int limit = kDefaultLimit;
    if (q.count("limit")) {
        auto v = parsePositive(q["limit"]);
        if (!v || *v > kMaxLimit)
            return errorReply(400, "limit must be an integer from 1 to " + std::to_string(kMaxLimit) + ", got '" +
                                       q["limit"] + "'");
        limit = static_cast<int>(*v);
    }
    int64_t before = INT64_MAX;
    if (q.count("cursor")) {
        auto v = parsePositive(q["cursor"]);
        if (!v) return errorReply(400, "cursor '" + q["cursor"] + "' is not one this API returned");
        before = *v;
    }
    outbox::AdminReply r = outbox_->list(fixedState.empty() ? q["state"] : fixedState, limit, before);
    if (r.status == 200 && !fixedState.empty()) {
        json items = r.body["items"];
        r.body.erase("items");
        r.body["deadletters"] = std::move(items);
    }
    return jsonReply(r.status, r.body);
}

Reply OutboundApi::deadLetter(const RequestContext& request, const RouteMatch& route) const {
    auto id = parsePositive(route.name);
    if (!id) return errorReply(404, "invalid dead letter id: expected a positive integer");
    if (route.action.empty()) {
        if (request.method != "DELETE") return methodNotAllowed(request.method, "DELETE");
        outbox::AdminReply r = outbox_->remove(*id);
        return jsonReply(r.status, r.body);
    }
    if (route.action != "replay") return errorReply(404, "no such dead letter action: use replay");
    if (request.method != "POST") return methodNotAllowed(request.method, "POST");
    outbox::AdminReply r = outbox_->replay(*id);
    return jsonReply(r.status, r.body);
}

}  // namespace switchboard::host::http
