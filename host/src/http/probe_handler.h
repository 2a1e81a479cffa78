// Liveness, readiness and the Prometheus scrape: unauthenticated, GET only.
#pragma once

#include "http/http_types.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"

namespace switchboard::host::http {

Reply healthzReply();
Reply readyzReply(const HostControl& control);
// Refreshes the state gauges through control first, so a scrape sees current states.
Reply metricsReply(const Metrics& metrics, const HostControl& control);

}  // namespace switchboard::host::http
