// One running connector instance: its plugin handle, its lifecycle (start, pause, resume,
// restart, retry with backoff after a failure) driven by its own supervisor thread, its
// webhook dispatch and its counters. A failing instance is reported and retried; it never
// takes the host down.
#pragma once

#include "metrics/metrics.h"
#include "runtime/host_control.h"
#include "runtime/instance_spec.h"
#include "store/store.h"

#include <switchboard/plugin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

namespace switchboard::host {
class ConnectorInstance;
}

// The host side of an sb_host_instance_host_ptr: what host services need to find the instance.
struct sb_host_instance {
    switchboard::host::ConnectorInstance* owner;
};

namespace switchboard::host {

enum class InstanceState { Disabled, Starting, Running, Paused, Backoff, Failed, Stopped };
const char* instanceStateName(InstanceState state);

// Updated from webhook threads concurrently, hence atomics; snapshot into ConnectorCounters.
struct InstanceCounters {
    std::atomic<uint64_t> received{0}, stored{0}, duplicates{0}, rejected{0}, webhookRequests{0}, failures{0},
        restarts{0};
};

struct BackoffPolicy {
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds max{60000};
};

class ConnectorInstance {
public:
    ConnectorInstance(InstanceSpec spec, Store& store, Metrics& metrics, BackoffPolicy backoff = {});
    ~ConnectorInstance();  // shuts down
    ConnectorInstance(const ConnectorInstance&) = delete;
    ConnectorInstance& operator=(const ConnectorInstance&) = delete;

    // Starts the supervisor thread, which creates and starts the plugin instance.
    void launch();
    // Stops and destroys the plugin instance and ends the supervisor thread. Idempotent.
    void shutdown();

    ControlResult pause();
    ControlResult resume();
    ControlResult restart();

    // A handler's FAIL_FATAL fails the instance (reportFatal).
    WebhookOutcome handleWebhook(const WebhookRequest& request, WebhookResponse& response);
    // Calls the plugin's send (concurrently with webhooks, as plugin.h allows). NotRunning
    // unless the instance is running. FAIL_FATAL fails the instance (reportFatal) before
    // send returns, so every later send answers NotRunning until it runs again.
    SinkSendResult send(const sb_message& message);

    ConnectorStatus status() const;
    InstanceState state() const { return state_.load(); }
    // True once a start has been attempted (for /readyz).
    bool settled() const { return settled_.load(); }
    const std::string& name() const { return spec_.name(); }
    const InstanceSpec& spec() const { return spec_; }
    const LoadedPlugin& plugin() const { return *spec_.plugin; }

    // --- used by host services (host_services.cpp) ---
    const std::string& logScope() const { return scope_; }
    Store& store() { return store_; }
    Metrics& metrics() { return metrics_; }
    InstanceCounters& counters() { return counters_; }
    void countRejected(const std::string& reason);
    // request_poll (SDK 1.3): poll as soon as allowed. Coalesced; ignored unless the instance
    // is running and polls. Takes mutex_ only briefly and never waits for the poll, so the
    // plugin may call it from any thread, from inside its own poll or webhook included.
    void requestPoll();
    // The handle host services resolve to this instance (also used by switchboard-plugin-check).
    sb_host_instance* hostHandle() { return &hostHandle_; }

private:
    enum class Desired { Run, Pause, Quit };

    void supervise();
    // Plugin calls; each returns true on success and records a failure otherwise.
    bool createAndStart();
    void stopAndDestroy(bool destroy);
    void doPoll();
    // When the next poll may run: the schedule, or sooner when one was requested (but never
    // before the store-busy delay is over). Call with mutex_ held.
    std::chrono::steady_clock::time_point pollDueAt() const;
    // Records a failure (last_error, counters, metric) and moves to Backoff (Failed for
    // FAIL_CONFIG). failLocked: with mutex_ held.
    void fail(sb_status status, const std::string& stage, const std::string& message);
    void failLocked(sb_status status, const std::string& stage, const std::string& message);
    // A call into the running plugin (send, webhook, poll) answered FAIL_FATAL: the instance
    // is broken. It leaves Running at once (webhooks get 503, sends NotRunning), goes to
    // Backoff with the reason as last_error, and the supervisor stops and destroys the plugin
    // instance and creates it again when the backoff is over (or on resume/restart). Every
    // caller reports here: one way for every path. Safe from any thread; never blocks on a call.
    void reportFatal(const std::string& stage, const std::string& message);
    // Replaces the values of secret options in a plugin's text by "***".
    std::string withoutSecrets(std::string text) const;
    // Runs a control command on the supervisor thread and waits for it (bounded).
    ControlResult command(Desired desired, bool restart, const std::string& done);

    InstanceSpec spec_;
    Store& store_;
    Metrics& metrics_;
    BackoffPolicy backoffPolicy_;
    std::string scope_;
    sb_host_instance hostHandle_{this};
    sb_plugin_instance_plugin_ptr plugin_ = nullptr;

    std::atomic<InstanceState> state_{InstanceState::Starting};
    std::atomic<bool> settled_{false};
    // Webhook and poll calls hold it shared; start/stop/destroy hold it exclusively, so the
    // plugin is never stopped or freed under a call in flight.
    mutable std::shared_mutex callMutex_;

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable wake_;
    std::condition_variable done_;
    Desired desired_ = Desired::Run;
    bool restartRequested_ = false;
    uint64_t requested_ = 0;
    uint64_t completed_ = 0;
    std::chrono::steady_clock::time_point nextRetry_{};
    std::chrono::steady_clock::time_point nextPoll_{};
    // Grows from backoffPolicy_.initial while failures follow each other; starts over after
    // the instance has run for backoffPolicy_.max without one (or on restart).
    std::chrono::milliseconds currentBackoff_{0};
    std::chrono::steady_clock::time_point runningSince_{};
    // Set by reportFatal: the supervisor stops and destroys the plugin instance.
    bool discardPlugin_ = false;
    std::chrono::milliseconds pollBackoff_{0};  // while the store is busy (doPoll)
    // Earliest time a requested poll may run: the end of the last poll plus pollBackoff_.
    std::chrono::steady_clock::time_point pollNotBefore_{};
    // Set by requestPoll, cleared when a poll starts: a request made during a poll survives
    // it (and doPoll's new schedule) and gets one more poll.
    bool pollRequested_ = false;
    uint64_t pollRequests_ = 0;  // wakes the supervisor
    bool polling_ = false;
    std::string lastError_;
    std::string lastErrorAt_;
    std::string nextRetryAt_;
    InstanceCounters counters_;
    std::thread thread_;
};

}  // namespace switchboard::host
