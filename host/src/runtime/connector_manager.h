// All connector instances of the host, by name. Implements HostControl for the HTTP API,
// and applies a new plan on SIGHUP by starting, stopping or restarting only the instances
// that changed.
#pragma once

#include "runtime/connector_instance.h"
#include "runtime/host_control.h"

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace switchboard::host {

struct ApplySummary {
    std::vector<std::string> added, removed, restarted, unchanged;
};

class ConnectorManager : public HostControl {
public:
    ConnectorManager(Store& store, Metrics& metrics, BackoffPolicy backoff = {});
    ~ConnectorManager() override;

    ApplySummary apply(std::vector<InstanceSpec> specs);
    void shutdown();

    // HostControl
    std::vector<ConnectorStatus> connectors() const override;
    std::optional<ConnectorStatus> connector(const std::string& name) const override;
    ControlResult pause(const std::string& name) override;
    ControlResult resume(const std::string& name) override;
    ControlResult restart(const std::string& name) override;
    WebhookOutcome dispatchWebhook(const std::string& instance, const WebhookRequest& request,
                                   WebhookResponse& response) override;
    std::optional<config::WebhookLimits> webhookLimits(const std::string& instance,
                                                       const config::WebhookLimits& defaults) const override;
    bool ready(std::string& why) const override;
    void publishMetrics() const override;
    SinkSendResult sendMessage(const std::string& instance, const sb_message& message) override;

private:
    std::shared_ptr<ConnectorInstance> find(const std::string& name) const;
    void publishStates() const;

    Store& store_;
    Metrics& metrics_;
    BackoffPolicy backoff_;
    mutable std::shared_mutex mutex_;
    std::map<std::string, std::shared_ptr<ConnectorInstance>> instances_;
};

}  // namespace switchboard::host
