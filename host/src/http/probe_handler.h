// Liveness, readiness and the Prometheus scrape: unauthenticated, GET only.
#pragma once

#include "http/http_types.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"

namespace switchboard::host::http {

Reply healthzReply();
Reply readyzReply(const HostControl& control);
Reply metricsReply(const Metrics& metrics);

}  // namespace switchboard::host::http
