// Where each request runs, so that nothing that can block runs on the event loop and no
// connector instance can take another's workers:
//   /healthz and routing refusals  on the event loop (no lock, no I/O)
//   /readyz, /metrics              the probe workers
//   /api/...                        the API workers (server.threads)
//   /webhooks/{instance}            that instance's own lane: webhook_concurrency workers,
//                                   webhook_queue waiting, webhook_timeout each
// A full lane answers 503 for its own instance only; the probes and every other lane go on.
#pragma once

#include "config/config.h"
#include "http/http_types.h"
#include "http/route_match.h"
#include "http/router.h"
#include "http/work_queue.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace switchboard::host::http {

class RequestDispatcher {
public:
    RequestDispatcher(const Router& router, HostControl& control, Metrics& metrics, unsigned apiThreads,
                      config::WebhookLimits webhookDefaults);
    ~RequestDispatcher();  // stop()

    using Done = std::function<void(Reply)>;
    struct Started {
        std::optional<Reply> now;                   // answered at once: done is never called
        std::chrono::milliseconds deadline{0};      // else: how long to wait for done (0: no limit)
        std::string timeoutReason;                  // the 503's text when the deadline passes
        std::string instance;                       // a webhook's instance (for its metrics)
    };
    // Either answers at once, or queues the handler on a worker, which calls done (from
    // that worker's thread) with the reply. The request stays alive until done returns.
    Started dispatch(std::shared_ptr<const RequestContext> request, const RouteMatch& route, Done done);

    // Joins the workers once their current handler returns; queued requests are dropped.
    void stop();

private:
    Started onWorker(WorkQueue& queue, std::shared_ptr<const RequestContext> request, const RouteMatch& route,
                     Done done, std::chrono::milliseconds deadline, std::string timeoutReason);
    Started webhook(std::shared_ptr<const RequestContext> request, const RouteMatch& route, Done done);
    Reply handle(const RequestContext& request, const RouteMatch& route) const;

    const Router& router_;
    HostControl& control_;
    Metrics& metrics_;
    const config::WebhookLimits webhookDefaults_;
    WorkQueue probes_;
    WorkQueue api_;
    std::mutex lanesMutex_;
    std::map<std::string, std::unique_ptr<WorkQueue>> lanes_;  // one per webhook instance
};

}  // namespace switchboard::host::http
