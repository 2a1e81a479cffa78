// /api/v1/messages, /api/v1/outbox and /api/v1/deadletters: sending to a customer through
// the durable outbox and managing its dead-letter queue (docs/api.md), a thin HTTP shell over
// outbox::Outbox.
#pragma once

#include "http/http_types.h"
#include "http/route_match.h"

namespace switchboard::host::outbox {
class Outbox;
}

namespace switchboard::host::http {

class OutboundApi {
public:
    explicit OutboundApi(outbox::Outbox* outbox) : outbox_(outbox) {}
    Reply handle(const RequestContext& request, const RouteMatch& route) const;

private:
    Reply sendMessage(const RequestContext& request) const;
    Reply list(const RequestContext& request, const std::string& fixedState) const;
    Reply deadLetter(const RequestContext& request, const RouteMatch& route) const;

    outbox::Outbox* outbox_;
};

}  // namespace switchboard::host::http
