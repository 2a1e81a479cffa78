#include "http/router.h"

#include "http/probe_handler.h"

namespace switchboard::host::http {

Router::Router(HostControl& control, Metrics& metrics, const ApiToken& token, std::string webhookBaseUrl,
               customer::CustomerDirectory* customers, outbox::Outbox* outbox)
    : control_(control),
      metrics_(metrics),
      webhooks_(control, std::move(webhookBaseUrl)),
      api_(control, token, customers, outbox) {}

Reply Router::handle(const RequestContext& request, const RouteMatch& route) const {
    bool get = request.method == "GET";
    switch (route.kind) {
        case RouteKind::Healthz: return get ? healthzReply() : methodNotAllowed(request.method, "GET");
        case RouteKind::Readyz: return get ? readyzReply(control_) : methodNotAllowed(request.method, "GET");
        case RouteKind::Metrics: return get ? metricsReply(metrics_, control_) : methodNotAllowed(request.method, "GET");
        case RouteKind::Webhook: return webhooks_.handle(request, route);
        case RouteKind::Unknown: return errorReply(404, "not found");
        default: return api_.handle(request, route);
    }
}

}  // namespace switchboard::host::http
