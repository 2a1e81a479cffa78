// Drives a built connector through its C ABI the way the host does, without the host: the
// plugin's .so is dlopen'ed, an instance created and started with a fake sb_host_api, and
// handle_webhook/send called with host-owned buffers. The fake host records what the plugin
// emits, logs, counts and reports (delivery receipts, consent), so tests can assert on it.
#pragma once

#include <switchboard/plugin.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::test {

using PluginOptions = std::map<std::string, std::string>;
using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

// The descriptor of a bundled connector built in this tree ("webchat" loads
// switchboard-webchat.so), loaded once per process and kept loaded. Throws when it cannot be.
const sb_plugin_descriptor* bundledPlugin(const std::string& name);

// "10s" -> "10000": the host hands durations to plugins in milliseconds.
std::string durationMs(const std::string& text);
// The options the host would pass: every default the plugin declares (durations in ms),
// then the overrides.
PluginOptions withOptionDefaults(const sb_plugin_descriptor* plugin, const PluginOptions& overrides);

// The host side of one instance, passed to the plugin as its sb_host_instance pointer. Offers
// every service of this SDK. Safe to call from the plugin's threads; tests read the fields
// once the plugin is quiet (or under `mutex`).
struct FakeHost {
    // What emit answers: SB_OK stores with `outcome`; otherwise the call fails with that
    // status (on SB_FAIL_DATA every message is marked REJECTED, as the ABI says).
    sb_status emitStatus = SB_OK;
    sb_emit_outcome outcome = SB_EMIT_STORED;

    mutable std::mutex mutex;
    std::vector<switchboard::Message> emitted;
    std::vector<uint32_t> messageSizes;  // struct_size of each emitted sb_message
    std::vector<std::pair<sb_log_level, std::string>> logs;
    std::map<std::string, double> counters;
    std::vector<std::pair<std::string, sb_delivery_status>> receipts;  // provider id, status
    std::vector<std::string> consents;  // "type:value purpose status source"
    // request_poll calls (SDK 1.3). The fake host does not poll by itself: a test that
    // wants the host's answer calls PluginInstance::poll() (see waitForPollRequest).
    uint64_t pollRequests = 0;
    std::condition_variable pollRequested;  // notified (under mutex) on each request

    static const sb_host_api* api();

    std::string allLogs() const;
    bool loggedAt(sb_log_level level, const std::string& needle) const;
    double counter(const std::string& name) const;
    uint64_t pollRequestCount() const;
    // Waits until more than `seen` poll requests were made; false when none came in time.
    bool waitForPollRequest(uint64_t seen, std::chrono::milliseconds timeout);
};

// One webhook request as the host's HTTP server hands it to the plugin.
struct WebhookRequest {
    std::string method = "POST";
    std::string path;
    HeaderPairs headers;
    std::string body;
    std::string publicUrl;   // empty: not passed
    std::string remoteAddr;  // empty: not passed
};

// What handle_webhook returned and wrote.
struct WebhookReply {
    sb_status status = SB_OK;
    int http = 0;
    std::map<std::string, std::string> headers;  // lower-cased names
    std::string body;
    std::string pluginError;  // the error buffer, when status is not SB_OK

    nlohmann::json json() const { return nlohmann::json::parse(body); }
    std::string error() const { return json().value("error", ""); }
};

// What send returned, with the host-owned result buffers read back.
struct SendOutcome {
    sb_status status = SB_OK;
    std::string error;
    uint32_t retryAfterMs = 0;
    std::string providerId;
};

// One created and started instance with its own FakeHost; stopped and destroyed at the end.
// The options are passed exactly as given (see withOptionDefaults() for the host's view).
class PluginInstance {
public:
    PluginInstance(const sb_plugin_descriptor* plugin, const std::string& instanceName, const PluginOptions& options);
    ~PluginInstance();
    PluginInstance(const PluginInstance&) = delete;
    PluginInstance& operator=(const PluginInstance&) = delete;

    sb_status createStatus() const { return createStatus_; }
    const std::string& createError() const { return createError_; }
    FakeHost& host() { return host_; }

    WebhookReply handleWebhook(const WebhookRequest& request);
    SendOutcome send(const switchboard::Message& message);
    // Calls the plugin's poll as the host would (UNSUPPORTED when it has none);
    // nextPollMs receives its next_poll_ms, error its error text.
    sb_status poll(uint32_t* nextPollMs = nullptr, std::string* error = nullptr);

private:
    const sb_plugin_descriptor* plugin_;
    FakeHost host_;
    sb_plugin_instance_plugin_ptr self_ = nullptr;
    sb_status createStatus_ = SB_FAIL_FATAL;
    std::string createError_;
};

}  // namespace switchboard::test
