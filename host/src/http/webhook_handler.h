// /webhooks/{instance}[/...]: hands the request to the connector instance and relays
// its answer.
#pragma once

#include "http/http_types.h"
#include "http/route_match.h"
#include "runtime/host_control.h"

#include <string>

namespace switchboard::host::http {

class WebhookHandler {
public:
    // baseUrl: server.public_url, or http://HOST:PORT; the request target is appended.
    WebhookHandler(HostControl& control, std::string baseUrl);

    Reply handle(const RequestContext& request, const RouteMatch& route) const;

private:
    HostControl& control_;
    std::string baseUrl_;
};

// Drops headers the server owns (framing, connection) and any that could split the
// response (CR, LF or NUL, or a name that is not an HTTP token).
HeaderList safeResponseHeaders(const HeaderList& headers);

}  // namespace switchboard::host::http
