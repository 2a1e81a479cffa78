#include "runtime/connector_instance.h"

#include "log/log.h"
#include "runtime/abi_text.h"
#include "runtime/host_services.h"
#include "runtime/time_format.h"
#include "store/commit_queue.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

namespace switchboard::host {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDefaultPollInterval = std::chrono::seconds(10);
constexpr auto kCommandTimeout = std::chrono::seconds(30);
constexpr std::chrono::milliseconds kMinBusyPollDelay{1000};
constexpr std::chrono::milliseconds kMaxBusyPollDelay{30000};


// An error buffer the plugin writes into; always NUL-terminated.
struct ErrBuf {
    char data[SB_ERRBUF_MIN_CAPACITY * 4] = {0};
    sb_errbuf abi() { return sb_errbuf{data, sizeof data}; }
    std::string text(const char* fallback) const { return data[0] ? std::string(data) : std::string(fallback); }
};

}  // namespace

const char* instanceStateName(InstanceState state) {
    switch (state) {
        case InstanceState::Disabled: return "disabled";
        case InstanceState::Starting: return "starting";
        case InstanceState::Running: return "running";
        case InstanceState::Paused: return "paused";
        case InstanceState::Backoff: return "backoff";
        case InstanceState::Failed: return "failed";
        case InstanceState::Stopped: return "stopped";
    }
    return "unknown";
}

ConnectorInstance::ConnectorInstance(InstanceSpec spec, Store& store, Metrics& metrics, BackoffPolicy backoff)
    : spec_(std::move(spec)), store_(store), metrics_(metrics), backoffPolicy_(backoff) {
    scope_ = spec_.plugin->kindName() + ":" + spec_.plugin->name() + ":" + spec_.name();
    if (!spec_.config.enabled) state_ = InstanceState::Disabled;
    for (const auto& m : spec_.plugin->metrics())
        metrics_.describe(spec_.plugin->metricName(m.name), m.type, m.help);
}

ConnectorInstance::~ConnectorInstance() { shutdown(); }

void ConnectorInstance::launch() {
    if (state_ == InstanceState::Disabled) {
        settled_ = true;
        return;
    }
    thread_ = std::thread([this] { supervise(); });
}

void ConnectorInstance::shutdown() {
    {
        std::lock_guard lock(mutex_);
        desired_ = Desired::Quit;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ConnectorInstance::countRejected(const std::string& reason) {
    counters_.rejected++;
    metrics_.add("switchboard_messages_rejected_total", {{"instance", name()}, {"reason", reason}});
}

void ConnectorInstance::fail(sb_status status, const std::string& stage, const std::string& message) {
    std::lock_guard lock(mutex_);
    failLocked(status, stage, message);
}

void ConnectorInstance::failLocked(sb_status status, const std::string& stage, const std::string& message) {
    counters_.failures++;
    metrics_.add("switchboard_connector_failures_total", {{"instance", name()}});
    const std::string text = stage + " failed (" + statusName(status) + "): " + withoutSecrets(message);
    lastError_ = text;
    lastErrorAt_ = formatUtc(std::chrono::system_clock::now());
    if (status == SB_FAIL_CONFIG) {
        // A configuration problem does not heal by waiting: wait for a restart or a reload.
        state_ = InstanceState::Failed;
        nextRetryAt_.clear();
        Logger::instance().write(LogLevel::Error, scope_, text + "; fix the config and reload (SIGHUP) or restart");
        return;
    }
    // An instance that ran for a while before failing starts its backoff over; one that fails
    // again soon after each start (credentials still revoked) waits longer each time.
    if (state_ == InstanceState::Running && Clock::now() - runningSince_ >= backoffPolicy_.max)
        currentBackoff_ = std::chrono::milliseconds(0);
    currentBackoff_ = currentBackoff_.count() == 0 ? backoffPolicy_.initial
                                                   : std::min(currentBackoff_ * 2, backoffPolicy_.max);
    // ±20% jitter so instances failing together do not retry in lockstep.
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(currentBackoff_.count() * jitter(rng)));
    nextRetry_ = Clock::now() + delay;
    nextRetryAt_ = formatUtc(std::chrono::system_clock::now() + delay);
    state_ = InstanceState::Backoff;
    Logger::instance().write(LogLevel::Error, scope_,
                             text + "; retrying in " + std::to_string(delay.count()) + " ms");
}

void ConnectorInstance::reportFatal(const std::string& stage, const std::string& message) {
    {
        std::lock_guard lock(mutex_);
        // Whatever the state, this plugin instance is not used again: a resume creates a new one.
        discardPlugin_ = true;
        if (state_ == InstanceState::Running) {
            failLocked(SB_FAIL_FATAL, stage, message);
        } else {
            // Another call reported first, or the instance is pausing or stopping: record it
            // without starting a second backoff.
            counters_.failures++;
            metrics_.add("switchboard_connector_failures_total", {{"instance", name()}});
            lastError_ = stage + " failed (FAIL_FATAL): " + withoutSecrets(message);
            lastErrorAt_ = formatUtc(std::chrono::system_clock::now());
            Logger::instance().write(LogLevel::Error, scope_, lastError_ + " (instance already " +
                                                                  instanceStateName(state_) + ")");
        }
    }
    wake_.notify_all();
}

std::string ConnectorInstance::withoutSecrets(std::string text) const {
    for (const auto& [key, value] : spec_.options.entries) {
        if (value.size() < 4) continue;  // too short to tell from ordinary text
        bool secret = false;
        for (const auto& option : spec_.plugin->schema())
            if (option.name == key) secret = option.secret;
        if (!secret) continue;
        for (size_t at = text.find(value); at != std::string::npos; at = text.find(value, at + 3))
            text.replace(at, value.size(), "***");
    }
    return text;
}

bool ConnectorInstance::createAndStart() {
    std::unique_lock calls(callMutex_);
    const auto& d = spec_.plugin->descriptor();
    if (plugin_ == nullptr) {
        std::vector<sb_kv> entries;
        for (const auto& [k, v] : spec_.options.entries) entries.push_back(sb_kv{span(k), span(v)});
        sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries.data(), entries.size(), span(name())};
        ErrBuf err;
        sb_plugin_instance_plugin_ptr created = nullptr;
        sb_status s = d.create(&hostServices(), &hostHandle_, &cfg, &created, err.abi());
        if (s != SB_OK || created == nullptr) {
            calls.unlock();
            fail(s == SB_OK ? SB_FAIL_FATAL : s, "create",
                 err.text(s == SB_OK ? "create returned OK without an instance" : "the plugin gave no reason"));
            return false;
        }
        plugin_ = created;
    }
    ErrBuf err;
    sb_status s = d.start(plugin_, err.abi());
    if (s != SB_OK) {
        // A half-started instance is thrown away so the retry starts clean.
        ErrBuf ignored;
        d.stop(plugin_, ignored.abi());
        d.destroy(plugin_);
        plugin_ = nullptr;
        calls.unlock();
        fail(s, "start", err.text("the plugin gave no reason"));
        return false;
    }
    calls.unlock();
    std::lock_guard lock(mutex_);
    state_ = InstanceState::Running;
    runningSince_ = Clock::now();
    discardPlugin_ = false;  // a fatal error reported meanwhile was about the instance just replaced
    nextRetryAt_.clear();
    polling_ = spec_.plugin->canPoll();
    nextPoll_ = Clock::now();
    pollRequested_ = false;  // the first poll runs now anyway
    Logger::instance().write(LogLevel::Info, scope_, "started");
    return true;
}

void ConnectorInstance::stopAndDestroy(bool destroy) {
    std::unique_lock calls(callMutex_);
    if (plugin_ == nullptr) return;
    const auto& d = spec_.plugin->descriptor();
    ErrBuf err;
    sb_status s = d.stop(plugin_, err.abi());
    if (s != SB_OK)
        Logger::instance().write(LogLevel::Warn, scope_, std::string("stop returned ") + statusName(s) + ": " +
                                                             withoutSecrets(err.text("no reason given")));
    if (destroy) {
        d.destroy(plugin_);
        plugin_ = nullptr;
    }
}

void ConnectorInstance::doPoll() {
    sb_status s;
    ErrBuf err;
    sb_poll_result result{static_cast<uint32_t>(sizeof(sb_poll_result)), 0};
    {
        std::shared_lock calls(callMutex_);
        if (plugin_ == nullptr || state_ != InstanceState::Running) return;
        s = spec_.plugin->descriptor().poll(plugin_, &result, err.abi());
    }
    std::chrono::milliseconds next = result.next_poll_ms ? std::chrono::milliseconds(result.next_poll_ms)
                                                         : std::chrono::milliseconds(kDefaultPollInterval);
    if (s == SB_UNSUPPORTED) {
        std::lock_guard lock(mutex_);
        polling_ = false;
        return;
    }
    if (s == SB_FAIL_FATAL) {
        reportFatal("poll", err.text("the plugin gave no reason"));
        return;
    }
    if (s != SB_OK) {
        Logger::instance().write(LogLevel::Warn, scope_, std::string("poll returned ") + statusName(s) + ": " +
                                                             withoutSecrets(err.text("no reason given")));
        counters_.failures++;
    }
    std::lock_guard lock(mutex_);
    // A busy store (emit answered RETRY, or the commit queue is over its mark): poll less
    // often, doubling from 1 s to 30 s while it lasts, instead of refetching in a tight loop.
    if (s == SB_RETRY || store_.commitQueue().behind()) {
        pollBackoff_ = std::clamp(pollBackoff_ * 2, kMinBusyPollDelay, kMaxBusyPollDelay);
        next = std::max(next, pollBackoff_);
    } else {
        pollBackoff_ = std::chrono::milliseconds(0);
    }
    nextPoll_ = Clock::now() + next;
    pollNotBefore_ = Clock::now() + pollBackoff_;
}

Clock::time_point ConnectorInstance::pollDueAt() const {
    return pollRequested_ ? std::min(nextPoll_, pollNotBefore_) : nextPoll_;
}

void ConnectorInstance::requestPoll() {
    {
        std::lock_guard lock(mutex_);
        if (desired_ != Desired::Run || state_ != InstanceState::Running || !polling_) return;
        pollRequested_ = true;
        ++pollRequests_;
    }
    wake_.notify_all();
}

void ConnectorInstance::supervise() {
    std::unique_lock lock(mutex_);
    while (true) {
        if (desired_ == Desired::Quit) break;
        // The commands this pass acts on; one arriving while the lock is dropped below is
        // left for the next pass, and its caller keeps waiting until then.
        const uint64_t ticket = requested_;
        if (restartRequested_) {
            restartRequested_ = false;
            lock.unlock();
            stopAndDestroy(true);
            lock.lock();
            counters_.restarts++;
            currentBackoff_ = std::chrono::milliseconds(0);
            discardPlugin_ = false;
            state_ = desired_ == Desired::Pause ? InstanceState::Paused : InstanceState::Starting;
        }
        if (discardPlugin_) {
            // A call answered FAIL_FATAL (reportFatal): the state already says so; throw the
            // broken plugin instance away now, and start a new one when the backoff is over.
            discardPlugin_ = false;
            lock.unlock();
            stopAndDestroy(true);
            lock.lock();
        }
        InstanceState st = state_;
        if (desired_ == Desired::Pause && st == InstanceState::Running) {
            state_ = InstanceState::Paused;  // first, so new webhooks get 503 at once
            lock.unlock();
            stopAndDestroy(false);
            lock.lock();
            Logger::instance().write(LogLevel::Info, scope_, "paused");
        } else if (desired_ == Desired::Pause && st == InstanceState::Backoff) {
            state_ = InstanceState::Paused;
        } else if (desired_ == Desired::Run &&
                   (st == InstanceState::Starting || st == InstanceState::Paused ||
                    (st == InstanceState::Backoff && Clock::now() >= nextRetry_))) {
            if (st == InstanceState::Backoff) counters_.restarts++;  // a restart by backoff
            state_ = InstanceState::Starting;
            lock.unlock();
            createAndStart();
            lock.lock();
            settled_ = true;
        }
        if (state_ == InstanceState::Running && desired_ == Desired::Run && polling_ && Clock::now() >= pollDueAt()) {
            pollRequested_ = false;  // cleared before the poll: a request during it gets one more
            lock.unlock();
            doPoll();
            lock.lock();
        }
        completed_ = ticket;
        done_.notify_all();

        auto wakeAt = Clock::now() + std::chrono::seconds(1);
        if (state_ == InstanceState::Backoff) wakeAt = std::min(wakeAt, nextRetry_);
        if (state_ == InstanceState::Running && polling_) wakeAt = std::min(wakeAt, pollDueAt());
        const uint64_t pollsSeen = pollRequests_;
        wake_.wait_until(lock, wakeAt, [&] {
            return requested_ != ticket || pollRequests_ != pollsSeen || discardPlugin_ || desired_ == Desired::Quit;
        });
    }
    state_ = InstanceState::Stopped;
    lock.unlock();
    stopAndDestroy(true);
    Logger::instance().write(LogLevel::Info, scope_, "stopped");
}

ControlResult ConnectorInstance::command(Desired desired, bool restart, const std::string& done) {
    std::unique_lock lock(mutex_);
    if (state_ == InstanceState::Disabled)
        return {ControlOutcome::Conflict, "connector '" + name() + "' is disabled in config (enabled: false)"};
    if (desired_ == Desired::Quit) return {ControlOutcome::Conflict, "connector '" + name() + "' is shutting down"};
    desired_ = desired;
    if (restart) restartRequested_ = true;
    const uint64_t ticket = ++requested_;
    wake_.notify_all();
    if (!done_.wait_for(lock, kCommandTimeout, [&] { return completed_ >= ticket; }))
        return {ControlOutcome::Conflict, "connector '" + name() + "' did not finish in time; state is " +
                                              instanceStateName(state_)};
    return {ControlOutcome::Ok, done + "; state is " + instanceStateName(state_)};
}

ControlResult ConnectorInstance::pause() { return command(Desired::Pause, false, "paused"); }

ControlResult ConnectorInstance::resume() {
    {
        // A resume of a failed instance retries now rather than waiting out the backoff.
        std::lock_guard lock(mutex_);
        if (state_ == InstanceState::Backoff) nextRetry_ = Clock::now();
    }
    return command(Desired::Run, false, "resumed");
}

ControlResult ConnectorInstance::restart() {
    return command(desired_ == Desired::Pause ? Desired::Pause : Desired::Run, true, "restarted");
}

WebhookOutcome ConnectorInstance::handleWebhook(const WebhookRequest& request, WebhookResponse& response) {
    if (!spec_.plugin->hasWebhooks()) return WebhookOutcome::NotFound;
    counters_.webhookRequests++;
    // What the plugin did not declare is answered here: no plugin code runs for it.
    const RouteDecision route = decideRoute(spec_.plugin->webhookRoutes(), request.method, request.path);
    if (route.kind == RouteDecision::NoSuchPath) {
        response = WebhookResponse{404, {{"Content-Type", "application/json"}},
                                   nlohmann::json{{"error", "connector instance '" + name() + "' serves no path '" +
                                                                request.path + "'"}}.dump()};
        return WebhookOutcome::Handled;
    }
    if (route.kind == RouteDecision::MethodNotAllowed) {
        response = WebhookResponse{405, {{"Content-Type", "application/json"}, {"Allow", route.allow}},
                                   nlohmann::json{{"error", "method " + request.method + " is not allowed here; allowed: " +
                                                                route.allow}}.dump()};
        return WebhookOutcome::Handled;
    }
    std::shared_lock calls(callMutex_);
    if (plugin_ == nullptr || state_ != InstanceState::Running) return WebhookOutcome::Unavailable;
    if (store_.commitQueue().behind()) {
        // The store is behind: answer at once, before the plugin parses anything, so load
        // beyond what the store can commit costs neither memory nor a waiting thread.
        metrics_.add("switchboard_webhook_backpressure_total", {{"instance", name()}});
        response = WebhookResponse{503,
                                   {{"Content-Type", "application/json"}, {"Retry-After", "1"}},
                                   nlohmann::json{{"error", "the store is behind; retry later"}}.dump()};
        return WebhookOutcome::Handled;
    }

    std::vector<sb_kv> headers;
    headers.reserve(request.headers.size());
    for (const auto& [k, v] : request.headers) headers.push_back(sb_kv{span(k), span(v)});
    sb_http_request req{static_cast<uint32_t>(sizeof(sb_http_request)), span(request.method), span(request.path),
                        span(request.query), headers.data(), headers.size(), span(request.body),
                        span(request.remoteAddr), span(request.publicUrl)};
    response = WebhookResponse{};
    sb_http_response resp{};
    resp.struct_size = sizeof(sb_http_response);
    resp.status = 200;
    resp.host_ctx = &response;
    resp.set_header = [](void* ctx, sb_str name, sb_str value) {
        auto* r = static_cast<WebhookResponse*>(ctx);
        r->headers.emplace_back(std::string(name.data ? name.data : "", name.size),
                                std::string(value.data ? value.data : "", value.size));
    };
    resp.write_body = [](void* ctx, sb_str data) {
        if (data.data) static_cast<WebhookResponse*>(ctx)->body.append(data.data, data.size);
    };
    ErrBuf err;
    sb_status s = spec_.plugin->descriptor().handle_webhook(plugin_, &req, &resp, err.abi());
    response.status = resp.status;
    if (response.status < 100 || response.status > 599) {
        Logger::instance().write(LogLevel::Error, scope_,
                                 "webhook answered an invalid HTTP status " + std::to_string(resp.status));
        response.status = 500;
    }
    if (s == SB_OK) return WebhookOutcome::Handled;

    const std::string why = withoutSecrets(err.text("the plugin gave no reason"));
    Logger::instance().write(LogLevel::Warn, scope_, std::string("webhook returned ") + statusName(s) + ": " + why);
    if (response.status < 400) {
        // The plugin failed without writing an error answer: give the caller a generic one.
        // The plugin's own text stays in the log: it may describe internals a caller must not see.
        response.status = s == SB_RETRY ? 503 : s == SB_FAIL_DATA ? 400 : 500;
        response.headers = {{"Content-Type", "application/json"}};
        if (s == SB_RETRY) response.headers.emplace_back("Retry-After", "1");
        const char* text = s == SB_RETRY       ? "the connector cannot take this request now; retry later"
                           : s == SB_FAIL_DATA ? "the connector refused this request"
                                               : "the connector failed; see the switchboard log";
        response.body = nlohmann::json{{"error", text}}.dump();
    }
    if (s == SB_FAIL_FATAL) {
        calls.unlock();
        reportFatal("webhook", why);
    }
    return WebhookOutcome::Handled;
}

SinkSendResult ConnectorInstance::send(const sb_message& message) {
    if (!spec_.plugin->descriptor().send)
        return {SinkCall::NotASink, SB_UNSUPPORTED, "connector '" + name() + "' cannot send (not a sink)", {}, 0};
    SinkSendResult out;
    std::shared_lock calls(callMutex_);
    if (plugin_ == nullptr || state_ != InstanceState::Running) {
        calls.unlock();
        std::lock_guard lock(mutex_);
        std::string why = "connector '" + name() + "' is " + instanceStateName(state_) + ", not running";
        if (state_ == InstanceState::Backoff && !nextRetryAt_.empty()) why += " (next start at " + nextRetryAt_ + ")";
        if (!lastError_.empty()) why += "; last error: " + lastError_;
        return {SinkCall::NotRunning, SB_RETRY, why, {}, 0};
    }
    char providerId[SB_PROVIDER_MESSAGE_ID_MAX + 1] = {0};
    sb_send_result result{static_cast<uint32_t>(sizeof(sb_send_result)), 0, providerId, sizeof providerId};
    ErrBuf err;
    out.status = spec_.plugin->descriptor().send(plugin_, &message, &result, err.abi());
    calls.unlock();
    out.retryAfterMs = result.retry_after_ms;
    if (providerId[sizeof providerId - 1] != '\0') {
        // The plugin ignored the capacity: the id is cut and would match no receipt.
        out.status = SB_FAIL_DATA;
        out.error = "the plugin wrote a provider message id longer than SB_PROVIDER_MESSAGE_ID_MAX (" +
                    std::to_string(SB_PROVIDER_MESSAGE_ID_MAX) + " bytes) without its NUL; fix the plugin";
    } else {
        out.providerMessageId = providerId;
        if (out.status == SB_OK) return out;
        out.error = withoutSecrets(err.text("the plugin gave no reason"));
    }
    if (out.status == SB_FAIL_FATAL) {
        // Before returning: the outbox's next send already finds the instance not running.
        reportFatal("send", out.error);
        return out;
    }
    counters_.failures++;
    Logger::instance().write(out.status == SB_RETRY ? LogLevel::Warn : LogLevel::Error, scope_,
                             std::string("send returned ") + statusName(out.status) + ": " + out.error);
    return out;
}

ConnectorStatus ConnectorInstance::status() const {
    ConnectorStatus st;
    st.name = name();
    st.plugin = spec_.plugin->name();
    st.pluginVersion = spec_.plugin->version();
    st.pluginFile = spec_.plugin->file();
    st.kind = spec_.plugin->kindName();
    st.state = instanceStateName(state_);
    {
        std::lock_guard lock(mutex_);
        st.lastError = lastError_;
        st.lastErrorAt = lastErrorAt_;
        st.nextRetryAt = state_ == InstanceState::Backoff ? nextRetryAt_ : "";
    }
    st.counters.received = counters_.received;
    st.counters.stored = counters_.stored;
    st.counters.duplicates = counters_.duplicates;
    st.counters.rejected = counters_.rejected;
    st.counters.webhookRequests = counters_.webhookRequests;
    st.counters.failures = counters_.failures;
    st.counters.restarts = counters_.restarts;
    st.options = spec_.maskedOptions();
    if (spec_.plugin->reaches()) st.reaches = *spec_.plugin->reaches();
    return st;
}

}  // namespace switchboard::host
