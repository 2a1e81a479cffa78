#include "http/customer_api.h"

#include "customer/customer_directory.h"
#include "http/api_handler.h"

#include <Poco/URI.h>

#include <map>

namespace switchboard::host::http {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

// limit: 1..kMaxLimit, default kDefaultLimit; an invalid one is refused, not clamped silently.
std::optional<int> parseLimit(const std::map<std::string, std::string>& q, std::string& error) {
    auto it = q.find("limit");
    if (it == q.end()) return kDefaultLimit;
    try {
        size_t used = 0;
        int v = std::stoi(it->second, &used);
        if (used == it->second.size() && v >= 1 && v <= kMaxLimit) return v;
    } catch (const std::exception&) {
    }
    error = "limit must be an integer from 1 to " + std::to_string(kMaxLimit) + ", got '" + it->second + "'";
    return std::nullopt;
}

Reply toReply(const customer::DirectoryReply& r) {
    Reply reply = jsonReply(r.status, r.body);
    if (!r.location.empty()) reply.headers.emplace_back("Location", r.location);
    return reply;
}

std::optional<std::string> decodedId(const std::string& raw) {
    std::string out;
    try {
        Poco::URI::decode(raw, out);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (out.empty() || out.size() > 64) return std::nullopt;
    for (char c : out)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return std::nullopt;
    return out;
}

}  // namespace

Reply CustomerApi::handle(const RequestContext& request, const RouteMatch& route) const {
    if (!directory_) return errorReply(503, "the customer store is not available");
    auto q = queryParams(request.query);
    std::string error;
    if (route.name.empty()) {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        auto limit = parseLimit(q, error);
        if (!limit) return errorReply(400, error);
        if (q.count("identity")) return toReply(directory_->findByIdentity(q["identity"]));
        if (q.count("q")) return toReply(directory_->search(q["q"], *limit));
        return errorReply(400, "give ?identity=TYPE:VALUE (e.g. email:ana@example.com) or ?q=PREFIX");
    }
    auto id = decodedId(route.name);
    if (!id) return errorReply(404, "invalid customer id");
    const std::string& action = route.action;
    if (action.empty()) {
        if (request.method == "DELETE") return toReply(directory_->erase(*id));
        if (request.method != "GET") return methodNotAllowed(request.method, "GET, DELETE");
        return toReply(directory_->get(*id));
    }
    if (action == "consent" || action == "attributes") {
        if (request.method != "PUT" && request.method != "POST") return methodNotAllowed(request.method, "PUT");
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (body.is_discarded()) return errorReply(400, "body is not valid JSON");
        return toReply(action == "consent" ? directory_->setConsent(*id, body) : directory_->setAttribute(*id, body));
    }
    if (action == "export") {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        return toReply(directory_->exportCustomer(*id));
    }
    if (action == "timeline") {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        auto limit = parseLimit(q, error);
        if (!limit) return errorReply(400, error);
        return toReply(directory_->timeline(*id, *limit, q["cursor"], q["channel"]));
    }
    if (action == "merges") {
        if (request.method != "GET") return methodNotAllowed(request.method, "GET");
        return toReply(directory_->merges(*id));
    }
    if (action == "merge" || action == "unmerge") {
        if (request.method != "POST") return methodNotAllowed(request.method, "POST");
        auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object()) return errorReply(400, "body must be a JSON object");
        if (action == "merge") {
            if (!body.contains("other_id") || !body["other_id"].is_string())
                return errorReply(400, "body must be {\"other_id\": \"<customer id to merge into this one>\"}");
            auto other = decodedId(body["other_id"].get<std::string>());
            if (!other) return errorReply(400, "other_id is not a valid customer id");
            return toReply(directory_->merge(*id, *other));
        }
        if (!body.contains("merge_id") || !body["merge_id"].is_number_integer())
            return errorReply(400, "body must be {\"merge_id\": <id from GET .../merges>}");
        return toReply(directory_->unmerge(*id, body["merge_id"].get<int64_t>()));
    }
    return errorReply(404,
                      "no such customer endpoint: use timeline, merges, merge, unmerge, consent, attributes or export");
}

Reply CustomerApi::matchPreview(const RequestContext& request) const {
    if (!directory_) return errorReply(503, "the customer store is not available");
    if (request.method != "POST") return methodNotAllowed(request.method, "POST");
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return errorReply(400, "body is not valid JSON");
    return toReply(directory_->matchPreview(body));
}

Reply CustomerApi::matchDecisions(const RequestContext& request) const {
    if (!directory_) return errorReply(503, "the customer store is not available");
    if (request.method != "GET") return methodNotAllowed(request.method, "GET");
    auto q = queryParams(request.query);
    std::string error;
    auto limit = parseLimit(q, error);
    if (!limit) return errorReply(400, error);
    int64_t before = INT64_MAX;
    if (q.count("cursor")) {
        try {
            before = std::stoll(q["cursor"]);
        } catch (const std::exception&) {
            return errorReply(400, "cursor '" + q["cursor"] + "' is not one this API returned");
        }
    }
    return toReply(directory_->matchDecisions(*limit, before));
}

}  // namespace switchboard::host::http
