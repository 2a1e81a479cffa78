#include "runtime/connector_manager.h"

#include "log/log.h"
#include "store/commit_queue.h"

namespace switchboard::host {

ConnectorManager::ConnectorManager(Store& store, Metrics& metrics, BackoffPolicy backoff)
    : store_(store), metrics_(metrics), backoff_(backoff) {
    metrics_.describe("switchboard_connector_up", "gauge", "1 when the connector instance is running");
    metrics_.describe("switchboard_connector_failures_total", "counter", "Failed starts and calls that answered FAIL_FATAL");
    metrics_.describe("switchboard_messages_received_total", "counter", "Messages handed to the host by a connector");
    metrics_.describe("switchboard_messages_stored_total", "counter", "Messages durably committed");
    metrics_.describe("switchboard_messages_duplicate_total", "counter", "Messages already stored (same source id)");
    metrics_.describe("switchboard_messages_rejected_total", "counter", "Messages or requests refused, by reason");
}

ConnectorManager::~ConnectorManager() { shutdown(); }

ApplySummary ConnectorManager::apply(std::vector<InstanceSpec> specs) {
    ApplySummary summary;
    std::vector<std::shared_ptr<ConnectorInstance>> toStop, toLaunch;
    {
        std::unique_lock lock(mutex_);
        std::map<std::string, std::shared_ptr<ConnectorInstance>> next;
        for (auto& spec : specs) {
            auto it = instances_.find(spec.name());
            if (it != instances_.end() && it->second->spec().sameAs(spec)) {
                summary.unchanged.push_back(spec.name());
                next.emplace(spec.name(), it->second);
                continue;
            }
            if (it != instances_.end()) {
                summary.restarted.push_back(spec.name());
                toStop.push_back(it->second);
            } else {
                summary.added.push_back(spec.name());
            }
            auto instance = std::make_shared<ConnectorInstance>(std::move(spec), store_, metrics_, backoff_);
            toLaunch.push_back(instance);
            next.emplace(instance->name(), instance);
        }
        for (auto& [name, instance] : instances_) {
            if (!next.count(name)) {
                summary.removed.push_back(name);
                toStop.push_back(instance);
            }
        }
        instances_ = std::move(next);
    }
    // Old instances stop before their replacements start: one instance name never runs twice.
    for (auto& instance : toStop) instance->shutdown();
    for (auto& instance : toLaunch) instance->launch();
    return summary;
}

void ConnectorManager::shutdown() {
    std::map<std::string, std::shared_ptr<ConnectorInstance>> all;
    {
        std::unique_lock lock(mutex_);
        all.swap(instances_);
    }
    for (auto& [name, instance] : all) instance->shutdown();
}

std::shared_ptr<ConnectorInstance> ConnectorManager::find(const std::string& name) const {
    std::shared_lock lock(mutex_);
    auto it = instances_.find(name);
    return it == instances_.end() ? nullptr : it->second;
}

void ConnectorManager::publishStates() const {
    for (const auto& [name, instance] : instances_)
        metrics_.set("switchboard_connector_up", {{"instance", name}},
                     instance->state() == InstanceState::Running ? 1 : 0);
}

void ConnectorManager::publishMetrics() const {
    store_.commitQueue().health();  // sets switchboard_store_healthy
    std::shared_lock lock(mutex_);
    publishStates();
}

std::vector<ConnectorStatus> ConnectorManager::connectors() const {
    std::shared_lock lock(mutex_);
    publishStates();
    std::vector<ConnectorStatus> out;
    for (const auto& [name, instance] : instances_) out.push_back(instance->status());
    return out;
}

std::optional<ConnectorStatus> ConnectorManager::connector(const std::string& name) const {
    auto instance = find(name);
    if (!instance) return std::nullopt;
    return instance->status();
}

namespace {
ControlResult notFound(const std::string& name) {
    return {ControlOutcome::NotFound, "no connector instance named '" + name + "'"};
}
}  // namespace

ControlResult ConnectorManager::pause(const std::string& name) {
    auto instance = find(name);
    return instance ? instance->pause() : notFound(name);
}

ControlResult ConnectorManager::resume(const std::string& name) {
    auto instance = find(name);
    return instance ? instance->resume() : notFound(name);
}

ControlResult ConnectorManager::restart(const std::string& name) {
    auto instance = find(name);
    return instance ? instance->restart() : notFound(name);
}

WebhookOutcome ConnectorManager::dispatchWebhook(const std::string& name, const WebhookRequest& request,
                                                 WebhookResponse& response) {
    auto instance = find(name);
    if (!instance) return WebhookOutcome::NotFound;
    return instance->handleWebhook(request, response);
}

std::optional<config::WebhookLimits> ConnectorManager::webhookLimits(const std::string& name,
                                                                    const config::WebhookLimits& defaults) const {
    auto instance = find(name);
    if (!instance || !instance->spec().plugin->hasWebhooks()) return std::nullopt;
    return instance->spec().config.webhooks.applyTo(defaults);
}

SinkSendResult ConnectorManager::sendMessage(const std::string& name, const sb_message& message) {
    auto instance = find(name);
    if (!instance) return {SinkCall::NotFound, SB_UNSUPPORTED, "no connector instance named '" + name + "'", {}, 0};
    return instance->send(message);
}

bool ConnectorManager::ready(std::string& why) const {
    // The store first: no instance can acknowledge anything while it cannot commit.
    const StoreHealth store = store_.commitQueue().health();
    if (!store.healthy) {
        why = store.reason;
        return false;
    }
    std::shared_lock lock(mutex_);
    publishStates();
    for (const auto& [name, instance] : instances_) {
        if (!instance->settled()) {
            why = "connector '" + name + "' is still starting";
            return false;
        }
    }
    return true;
}

}  // namespace switchboard::host
