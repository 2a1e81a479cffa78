// The routing step of the pipeline, run by the store's inbound hook inside the commit
// transaction: after a message is stored, linked to a customer and threaded, the rules are
// evaluated against it and the customer's surviving attributes, each action is handed to
// the outbox (enqueue, same transaction: a crash loses neither or both), and the outcome
// is written to messages.routing_json, where the timeline shows it.
#pragma once

#include "config/routing_config.h"
#include "metrics/metrics.h"
#include "outbox/outbound_request.h"
#include "routing/router.h"
#include "store/store.h"

#include <functional>
#include <string>
#include <vector>

namespace switchboard::host::routing {

class RoutingStage {
public:
    // attributeSourcePriority: identity.source_priority, so rules see the values the
    // customer API shows. Throws std::invalid_argument on a config the loader would refuse.
    RoutingStage(const config::RoutingConfig& config, Metrics& metrics,
                 std::vector<std::string> attributeSourcePriority = {});

    // Enqueues one request in the caller's transaction; a refusal (no consent, no address,
    // unknown connector) comes back as accepted=false with the reason, never as a throw.
    using Enqueue = std::function<outbox::EnqueueResult(Sql&, const outbox::OutboundRequest&)>;

    // No rules: returns at once. Otherwise evaluates, enqueues every action, stores the
    // outcome on in.messageId and counts switchboard_routed_total{instance,rule}. SQL errors
    // propagate (the transaction is rolled back and the batch retried).
    void process(Sql& sql, const StoredInbound& in, const Enqueue& enqueue) const;

    const RoutingEngine& engine() const { return engine_; }

private:
    RoutingInput inputFor(Sql& sql, const StoredInbound& in) const;
    RoutingEngine engine_;
    Metrics& metrics_;
    std::vector<std::string> sourcePriority_;
};

}  // namespace switchboard::host::routing
