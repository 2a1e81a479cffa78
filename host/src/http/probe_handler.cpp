#include "http/probe_handler.h"

#include <nlohmann/json.hpp>

namespace switchboard::host::http {

Reply healthzReply() { return jsonReply(200, {{"status", "ok"}}); }

Reply readyzReply(const HostControl& control) {
    std::string why;
    if (control.ready(why)) return jsonReply(200, {{"status", "ready"}});
    return jsonReply(503, {{"status", "not ready"}, {"reason", why}});
}

Reply metricsReply(const Metrics& metrics, const HostControl& control) {
    control.publishMetrics();
    Reply r;
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.renderPrometheus();
    return r;
}

}  // namespace switchboard::host::http
