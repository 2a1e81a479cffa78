// /api/v1/customers... and /api/v1/match-decisions: the customer record API (docs/api.md),
// a thin HTTP shell over customer::CustomerDirectory.
#pragma once

#include "http/http_types.h"
#include "http/route_match.h"

namespace switchboard::host::customer {
class CustomerDirectory;
}

namespace switchboard::host::http {

class CustomerApi {
public:
    explicit CustomerApi(customer::CustomerDirectory* directory) : directory_(directory) {}
    Reply handle(const RequestContext& request, const RouteMatch& route) const;
    Reply matchDecisions(const RequestContext& request) const;
    Reply matchPreview(const RequestContext& request) const;

private:
    customer::CustomerDirectory* directory_;
};

}  // namespace switchboard::host::http
