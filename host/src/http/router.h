// Sends a parsed request to its handler: probes, webhooks or the API.
#pragma once

#include "http/api_handler.h"
#include "http/http_types.h"
#include "http/route_match.h"
#include "http/webhook_handler.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"

namespace switchboard::host::http {

class Router {
public:
    Router(HostControl& control, Metrics& metrics, const ApiToken& token, std::string webhookBaseUrl,
           customer::CustomerDirectory* customers = nullptr, outbox::Outbox* outbox = nullptr);

    // May throw: the caller answers 500.
    Reply handle(const RequestContext& request, const RouteMatch& route) const;

private:
    HostControl& control_;
    Metrics& metrics_;
    WebhookHandler webhooks_;
    ApiHandler api_;
};

}  // namespace switchboard::host::http
