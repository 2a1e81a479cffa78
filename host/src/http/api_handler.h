// /api/v1/...: the connector status and control API, behind a bearer token.
#pragma once

#include "http/api_token.h"
#include "http/http_types.h"
#include "http/route_match.h"
#include "http/customer_api.h"
#include "http/outbound_api.h"
#include "runtime/host_control.h"

#include <map>

namespace switchboard::host::http {

class ApiHandler {
public:
    // customers may be null (no customer store): its routes then answer 503.
    // outbox may be null too: /api/v1/messages, /outbox and /deadletters then answer 503.
    ApiHandler(HostControl& control, const ApiToken& token, customer::CustomerDirectory* customers = nullptr,
               outbox::Outbox* outbox = nullptr);

    // Authenticates first, so nothing about the API leaks to an anonymous caller.
    Reply handle(const RequestContext& request, const RouteMatch& route) const;

private:
    Reply list(const RequestContext& request) const;
    Reply one(const RequestContext& request, const RouteMatch& route) const;
    Reply action(const RequestContext& request, const RouteMatch& route) const;

    HostControl& control_;
    const ApiToken& token_;
    CustomerApi customers_;
    OutboundApi outbound_;
};

// 405 with the Allow header.
Reply methodNotAllowed(const std::string& method, const std::string& allow);
// The query string's parameters, decoded; the first of a repeated name wins.
std::map<std::string, std::string> queryParams(const std::string& query);

}  // namespace switchboard::host::http
