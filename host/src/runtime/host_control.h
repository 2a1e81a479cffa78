// What the HTTP layer (and the CLI) may ask of the running host: the connector instances'
// status, their control, webhook dispatch and readiness. Implemented by ConnectorManager;
// tests substitute a fake.
#pragma once

#include "config/config.h"

#include <switchboard/plugin.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::host {

struct WebhookRequest {
    std::string method;
    std::string path;   // after /webhooks/{instance}: "" or "/..."
    std::string query;  // without "?"
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::string_view body;  // borrowed from the HTTP front's request buffer for the call
    std::string remoteAddr;
    std::string publicUrl;  // server.public_url (or http://host:port) + request URI
};

struct WebhookResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct ConnectorCounters {
    uint64_t received = 0;    // messages handed to emit
    uint64_t stored = 0;      // committed
    uint64_t duplicates = 0;  // already stored
    uint64_t rejected = 0;    // refused (bad input, forged signature, ...)
    uint64_t webhookRequests = 0;
    uint64_t failures = 0;    // start or call failures
    uint64_t restarts = 0;
};

struct ConnectorStatus {
    std::string name;
    std::string plugin;
    std::string pluginVersion;
    std::string pluginFile;
    std::string kind;   // "source", "sink", "source+sink"
    std::string state;  // "starting", "running", "paused", "failed", "backoff", "stopped"
    std::string lastError;          // empty when none; never contains a secret
    std::string lastErrorAt;        // ISO-8601 UTC, empty when none
    std::string nextRetryAt;        // in "backoff": when the next start is tried
    ConnectorCounters counters;
    // Options as configured, secrets replaced by "***".
    std::vector<std::pair<std::string, std::string>> options;
    // Sinks: the identity types the plugin declared it reaches ("phone", "external:crm");
    // empty when it declared none (the host then guesses from the channel).
    std::vector<std::string> reaches;
};

enum class ControlOutcome { Ok, NotFound, Conflict };

struct ControlResult {
    ControlOutcome outcome = ControlOutcome::Ok;
    std::string message;  // why, for NotFound/Conflict; what happened, for Ok
};

enum class WebhookOutcome {
    Handled,      // response filled by the plugin
    NotFound,     // no such instance, or it takes no webhooks
    Unavailable,  // instance not running (paused, failed, backoff): answer 503
};

// What happened when the outbox handed a message to a sink instance.
enum class SinkCall {
    Called,      // the plugin's send ran: see status
    NotFound,    // no instance of that name (removed from config?)
    NotASink,    // the instance's plugin cannot send
    NotRunning,  // paused, failed, backing off or starting: try later
};

struct SinkSendResult {
    SinkCall call = SinkCall::Called;
    sb_status status = SB_OK;
    std::string error;              // the plugin's reason (or the host's, when not called)
    std::string providerMessageId;  // with SB_OK, when the sink gave one
    uint32_t retryAfterMs = 0;      // with SB_RETRY: the sink's minimum delay
};

class HostControl {
public:
    virtual ~HostControl() = default;
    virtual std::vector<ConnectorStatus> connectors() const = 0;
    virtual std::optional<ConnectorStatus> connector(const std::string& name) const = 0;
    virtual ControlResult pause(const std::string& name) = 0;
    virtual ControlResult resume(const std::string& name) = 0;
    virtual ControlResult restart(const std::string& name) = 0;
    virtual WebhookOutcome dispatchWebhook(const std::string& instance, const WebhookRequest& request,
                                           WebhookResponse& response) = 0;
    // The webhook limits of an instance: its connectors[].webhooks over the server's
    // defaults. nullopt when no instance of that name takes webhooks: the HTTP front then
    // answers 404 without giving the name a queue of its own.
    virtual std::optional<config::WebhookLimits> webhookLimits(const std::string& instance,
                                                               const config::WebhookLimits& defaults) const {
        (void)instance;
        return defaults;
    }
    // Ready when the store can commit (its last commit did not fail, none is stalled, the
    // queue is under its high-water mark: CommitQueue::health) and every enabled instance
    // has been started once (running, or failed and reported). why explains a false answer.
    virtual bool ready(std::string& why) const = 0;
    // Sets the gauges that mirror current state (switchboard_connector_up) just before a
    // scrape renders them.
    virtual void publishMetrics() const {}
    // Hands one outbound message to a sink instance's send (the outbox's dispatcher calls it).
    // The message is borrowed for the call.
    virtual SinkSendResult sendMessage(const std::string& instance, const sb_message& message) {
        (void)message;
        return {SinkCall::NotFound, SB_UNSUPPORTED, "no connector instance named '" + instance + "'", {}, 0};
    }
};

}  // namespace switchboard::host
