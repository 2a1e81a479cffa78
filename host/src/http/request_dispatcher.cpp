#include "http/request_dispatcher.h"

#include "log/log.h"

namespace switchboard::host::http {

namespace {

constexpr unsigned kProbeThreads = 2;
constexpr size_t kProbeQueue = 64;
constexpr size_t kApiQueue = 256;
// A probe that cannot answer in this time is as good as a failed one, and saying so lets a
// load balancer act.
constexpr std::chrono::seconds kProbeDeadline{10};

Reply busy(std::string reason) {
    Reply r = errorReply(503, reason);
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

}  // namespace

RequestDispatcher::RequestDispatcher(const Router& router, HostControl& control, Metrics& metrics,
                                     unsigned apiThreads, config::WebhookLimits webhookDefaults)
    : router_(router),
      control_(control),
      metrics_(metrics),
      webhookDefaults_(webhookDefaults),
      probes_("probes", kProbeThreads, kProbeQueue),
      api_("api", apiThreads, kApiQueue) {
    metrics_.describe("switchboard_webhook_refused_total", "counter",
                      "Webhook requests the HTTP front answered 503 for an instance without its plugin's "
                      "answer: busy (its workers and queue full) or timeout (past webhook_timeout).");
}

RequestDispatcher::~RequestDispatcher() { stop(); }

void RequestDispatcher::stop() {
    probes_.stop();
    api_.stop();
    std::map<std::string, std::unique_ptr<WorkQueue>> lanes;
    {
        std::lock_guard lock(lanesMutex_);
        lanes.swap(lanes_);
    }
    for (auto& [name, lane] : lanes) {
        if (lane->running() > 0)
            logWarn("http: waiting for webhook handlers still running in a connector",
                    {{"instance", name}, {"running", std::to_string(lane->running())}});
        lane->stop();
    }
}

Reply RequestDispatcher::handle(const RequestContext& request, const RouteMatch& route) const {
    try {
        return router_.handle(request, route);
    } catch (const HttpError& e) {
        Reply r = errorReply(e.status(), e.what());
        r.close = e.close();
        return r;
    } catch (const std::exception& e) {
        logError("http handler failed", {{"method", request.method}, {"route", route.label}, {"error", e.what()}});
    } catch (...) {
        logError("http handler failed",
                 {{"method", request.method}, {"route", route.label}, {"error", "unknown exception"}});
    }
    return errorReply(500, "internal error");
}

RequestDispatcher::Started RequestDispatcher::onWorker(WorkQueue& queue, std::shared_ptr<const RequestContext> request,
                                                       const RouteMatch& route, Done done,
                                                       std::chrono::milliseconds deadline, std::string timeoutReason) {
    bool queued = queue.trySubmit([this, request, route, done = std::move(done)] { done(handle(*request, route)); });
    if (!queued) return {busy("the server is busy; retry later"), {}, {}, {}};
    return {std::nullopt, deadline, std::move(timeoutReason), {}};
}

RequestDispatcher::Started RequestDispatcher::webhook(std::shared_ptr<const RequestContext> request,
                                                      const RouteMatch& route, Done done) {
    auto name = decodeInstanceName(route.name);
    if (!name) return {errorReply(404, "invalid connector instance name: expected [a-z0-9][a-z0-9_-]*"), {}, {}, {}};
    auto limits = control_.webhookLimits(*name, webhookDefaults_);
    if (!limits) return {errorReply(404, "no connector instance named '" + *name + "'"), {}, {}, {}};

    WorkQueue* lane = nullptr;
    {
        std::lock_guard lock(lanesMutex_);
        auto& slot = lanes_[*name];
        if (!slot) slot = std::make_unique<WorkQueue>("webhooks:" + *name, limits->concurrency, limits->queue);
        else if (slot->maxThreads() != limits->concurrency || slot->maxQueued() != limits->queue)
            slot->setLimits(limits->concurrency, limits->queue);
        lane = slot.get();
    }
    bool queued = lane->trySubmit([this, request, route, done = std::move(done)] { done(handle(*request, route)); });
    if (!queued) {
        metrics_.add("switchboard_webhook_refused_total", {{"instance", *name}, {"reason", "busy"}});
        return {busy("connector instance '" + *name + "' is busy: " + std::to_string(limits->concurrency) +
                     " requests running and " + std::to_string(limits->queue) + " waiting; retry later"),
                {},
                {},
                {}};
    }
    std::string timeout = "connector instance '" + *name + "' did not answer within " +
                          std::to_string(limits->timeoutMs) + " ms; retry later";
    return {std::nullopt, std::chrono::milliseconds(limits->timeoutMs), std::move(timeout), *name};
}

RequestDispatcher::Started RequestDispatcher::dispatch(std::shared_ptr<const RequestContext> request,
                                                       const RouteMatch& route, Done done) {
    switch (route.kind) {
        case RouteKind::Healthz:
        case RouteKind::Unknown: return {handle(*request, route), {}, {}, {}};
        case RouteKind::Readyz:
        case RouteKind::Metrics:
            return onWorker(probes_, std::move(request), route, std::move(done), kProbeDeadline,
                            route.label + " did not answer within 10 s");
        case RouteKind::Webhook: return webhook(std::move(request), route, std::move(done));
        default: return onWorker(api_, std::move(request), route, std::move(done), {}, {});
    }
}

}  // namespace switchboard::host::http
