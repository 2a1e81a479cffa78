// The durable outbox: every outbound message (POST /api/v1/messages, routing replies) is
// first written, in the caller's transaction, as an outbound interaction in `messages` plus
// an `outbox` row; a dispatcher thread then hands due rows to their sink instance's send,
// retrying transient failures with exponential backoff and full jitter (outbox/backoff.h)
// until the retry budget (max_attempts, max_age) is spent, and then dead-letters them. Dead
// letters can be listed, replayed and deleted (the admin API). A sink instance that is not
// running, or whose send answered FAIL_FATAL (the instance is broken, not the message), holds
// its messages pending without spending attempts until it runs again.
//
// Delivery is at least once: a row is claimed with a lease before its send, and a crash
// between the sink accepting a message and the commit of "sent" sends it again after the
// lease. Each send carries the attribute `outbox.idempotency_key` so a sink that supports
// it can drop the repeat.
#pragma once

#include "config/outbox_config.h"
#include "customer/resolver.h"
#include "metrics/metrics.h"
#include "outbox/outbound_request.h"
#include "runtime/host_control.h"
#include "store/store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace switchboard::host::outbox {

class Dispatcher;

// An answer for the admin API: HTTP status and JSON body.
struct AdminReply {
    int status = 200;
    nlohmann::json body;
};

class Outbox {
public:
    // sinks finds instances (their kind and options) and calls their send; the resolver's
    // normalizer gives the match keys consent is kept under. All must outlive the Outbox.
    Outbox(Store& store, HostControl& sinks, Metrics& metrics, std::shared_ptr<customer::IdentityResolver> resolver,
           config::OutboxConfig config);
    ~Outbox();  // stops the dispatcher
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Validates, resolves the live customer (merged ids redirect), chooses the sink and the
    // recipients (outbox/channel_choice.h), checks consent, and writes the outbound
    // interaction and its outbox row, all in the caller's open transaction on s. The same
    // idempotencyKey enqueues once: a repeat returns the first enqueue's ids. Refusals come
    // back as accepted=false with httpStatus and error; nothing is written then.
    // Call wake() after the transaction commits to send without waiting for the next poll.
    EnqueueResult enqueue(Sql& s, const OutboundRequest& request);
    // enqueue in a transaction of its own, then wake() (what the HTTP API uses).
    EnqueueResult submit(const OutboundRequest& request);

    // The dispatcher thread: started once the connectors are running, stopped before they stop.
    void start();
    void stop();
    void wake();
    // One dispatcher pass over the rows due now, on the calling thread; returns how many
    // rows it handed to a sink or settled. For tests and for start-up.
    int dispatchDue();

    // GET /api/v1/outbox?state= (pending|sent|dead, "" for all), newest first; beforeId is
    // the keyset cursor (INT64_MAX for the first page).
    AdminReply list(const std::string& state, int limit, int64_t beforeId);
    // POST /api/v1/deadletters/{id}/replay: back to pending with a fresh retry budget.
    AdminReply replay(int64_t id);
    // DELETE /api/v1/deadletters/{id}: forget a dead letter (its interaction stays, failed).
    AdminReply remove(int64_t id);

    const config::OutboxConfig& config() const { return config_; }

private:
    Store& store_;
    HostControl& sinks_;
    Metrics& metrics_;
    std::shared_ptr<customer::IdentityResolver> resolver_;
    config::OutboxConfig config_;
    std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace switchboard::host::outbox
