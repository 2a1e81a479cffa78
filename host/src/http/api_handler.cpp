#include "http/api_handler.h"

#include "http/connector_json.h"

#include <Poco/URI.h>
#include <nlohmann/json.hpp>

namespace switchboard::host::http {

namespace {

Reply unauthorized(const std::string& reason) {
    Reply r = errorReply(401, reason);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"switchboard\"");
    return r;
}

Reply noSuchConnector(const std::string& name) {
    return errorReply(404, "no connector instance named '" + name + "'");
}

}  // namespace

std::map<std::string, std::string> queryParams(const std::string& query) {
    std::map<std::string, std::string> out;
    Poco::URI uri("/?" + query);
    for (auto& [k, v] : uri.getQueryParameters()) out.emplace(k, v);  // first value wins
    return out;
}

Reply methodNotAllowed(const std::string& method, const std::string& allow) {
    Reply r = errorReply(405, "method " + method + " is not allowed here; allowed: " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
}

ApiHandler::ApiHandler(HostControl& control, const ApiToken& token, customer::CustomerDirectory* customers,
                       outbox::Outbox* outbox)
    : control_(control), token_(token), customers_(customers), outbound_(outbox) {}

Reply ApiHandler::handle(const RequestContext& request, const RouteMatch& route) const {
    switch (token_.check(request.header("authorization"))) {
        case ApiToken::Check::Ok: break;
        case ApiToken::Check::Disabled: return errorReply(403, "the API is disabled: set server.api_token");
        case ApiToken::Check::Missing: return unauthorized("missing bearer token");
        case ApiToken::Check::Wrong: return unauthorized("invalid bearer token");
    }
    switch (route.kind) {
        case RouteKind::ApiList: return list(request);
        case RouteKind::ApiOne: return one(request, route);
        case RouteKind::ApiAction: return action(request, route);
        case RouteKind::ApiCustomers: return customers_.handle(request, route);
        case RouteKind::ApiMatchDecisions: return customers_.matchDecisions(request);
        case RouteKind::ApiMatchPreview: return customers_.matchPreview(request);
        case RouteKind::ApiOutbound: return outbound_.handle(request, route);
        default: return errorReply(404, "no such API endpoint");
    }
}

Reply ApiHandler::list(const RequestContext& request) const {
    if (request.method != "GET") return methodNotAllowed(request.method, "GET");
    nlohmann::json all = nlohmann::json::array();
    for (const auto& c : control_.connectors()) all.push_back(connectorToJson(c));
    return jsonReply(200, {{"connectors", std::move(all)}});
}

Reply ApiHandler::one(const RequestContext& request, const RouteMatch& route) const {
    if (request.method != "GET") return methodNotAllowed(request.method, "GET");
    auto name = decodeInstanceName(route.name);
    if (!name) return errorReply(404, "invalid connector instance name: expected [a-z0-9][a-z0-9_-]*");
    auto status = control_.connector(*name);
    if (!status) return noSuchConnector(*name);
    return jsonReply(200, connectorToJson(*status));
}

Reply ApiHandler::action(const RequestContext& request, const RouteMatch& route) const {
    const std::string& verb = route.action;
    if (verb != "pause" && verb != "resume" && verb != "restart")
        return errorReply(404, "no such action: use pause, resume or restart");
    if (request.method != "POST") return methodNotAllowed(request.method, "POST");
    auto name = decodeInstanceName(route.name);
    if (!name) return errorReply(404, "invalid connector instance name: expected [a-z0-9][a-z0-9_-]*");

    ControlResult result = verb == "pause"    ? control_.pause(*name)
                           : verb == "resume" ? control_.resume(*name)
                                              : control_.restart(*name);
    switch (result.outcome) {
        case ControlOutcome::Ok: return jsonReply(200, {{"status", "ok"}, {"message", result.message}});
        case ControlOutcome::NotFound:
            return result.message.empty() ? noSuchConnector(*name) : errorReply(404, result.message);
        case ControlOutcome::Conflict:
            return errorReply(409, result.message.empty() ? "cannot " + verb + " '" + *name + "' now" : result.message);
    }
    throw std::logic_error("unknown control outcome");
}

}  // namespace switchboard::host::http
