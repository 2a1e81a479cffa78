#include "plugin_harness.h"

#include "test_support.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace switchboard::test {

namespace {

FakeHost& of(sb_host_instance_host_ptr p) { return *reinterpret_cast<FakeHost*>(p); }

void log(sb_host_instance_host_ptr p, sb_log_level level, sb_str message) {
    std::lock_guard<std::mutex> lock(of(p).mutex);
    of(p).logs.emplace_back(level, std::string(switchboard::view(message)));
}

int logEnabled(sb_host_instance_host_ptr, sb_log_level) { return 1; }

sb_status emit(sb_host_instance_host_ptr p, const sb_emit_batch* batch, sb_emit_outcome* outcomes, sb_errbuf err) {
    FakeHost& h = of(p);
    std::lock_guard<std::mutex> lock(h.mutex);
    if (h.emitStatus != SB_OK) {
        if (h.emitStatus == SB_FAIL_DATA && outcomes)
            for (size_t i = 0; i < batch->message_count; ++i) outcomes[i] = SB_EMIT_REJECTED;
        switchboard::writeError(err, "fake host refuses");
        return h.emitStatus;
    }
    for (size_t i = 0; i < batch->message_count; ++i) {
        h.emitted.push_back(switchboard::Message::fromAbi(batch->messages[i]));
        h.messageSizes.push_back(batch->messages[i].struct_size);
        if (outcomes) outcomes[i] = h.outcome;
    }
    return SB_OK;
}

sb_status checkpointGet(sb_host_instance_host_ptr, sb_str, void*, sb_receive_fn, sb_errbuf) { return SB_OK; }
sb_status checkpointPut(sb_host_instance_host_ptr, sb_str, sb_str, sb_errbuf) { return SB_OK; }

void counterAdd(sb_host_instance_host_ptr p, sb_str name, double delta) {
    std::lock_guard<std::mutex> lock(of(p).mutex);
    of(p).counters[std::string(switchboard::view(name))] += delta;
}

void gaugeSet(sb_host_instance_host_ptr, sb_str, double) {}

sb_status reportDelivery(sb_host_instance_host_ptr p, const sb_delivery_report* r, sb_errbuf) {
    std::lock_guard<std::mutex> lock(of(p).mutex);
    of(p).receipts.emplace_back(std::string(switchboard::view(r->provider_message_id)), r->status);
    return SB_OK;
}

sb_status reportConsent(sb_host_instance_host_ptr p, const sb_identity* address, sb_str purpose, sb_str status,
                        sb_str source, sb_errbuf) {
    std::lock_guard<std::mutex> lock(of(p).mutex);
    of(p).consents.push_back(std::string(switchboard::view(address->type)) + ":" +
                             std::string(switchboard::view(address->value)) + " " +
                             std::string(switchboard::view(purpose)) + " " + std::string(switchboard::view(status)) +
                             " " + std::string(switchboard::view(source)));
    return SB_OK;
}

void requestPoll(sb_host_instance_host_ptr p) {
    std::lock_guard<std::mutex> lock(of(p).mutex);
    ++of(p).pollRequests;
    of(p).pollRequested.notify_all();
}

}  // namespace

const sb_plugin_descriptor* bundledPlugin(const std::string& name) {
    static std::mutex mutex;
    static std::map<std::string, const sb_plugin_descriptor*> loaded;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = loaded.find(name); it != loaded.end()) return it->second;
    const std::string path = buildPluginDir() + "/switchboard-" + name + ".so";
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept loaded for the whole run
    if (lib == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto entry = reinterpret_cast<sb_entry_fn>(dlsym(lib, SB_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
    return loaded[name] = entry();
}

std::string durationMs(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    const long long n = std::stoll(text.substr(0, digits));
    const std::string unit = text.substr(digits);
    const long long factor = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : 3600000;
    return std::to_string(n * factor);
}

PluginOptions withOptionDefaults(const sb_plugin_descriptor* plugin, const PluginOptions& overrides) {
    PluginOptions out;
    for (size_t i = 0; i < plugin->option_count; ++i) {
        const sb_option& o = plugin->options[i];
        if (o.default_value == nullptr) continue;
        out[o.name] = o.type == SB_OPT_DURATION ? durationMs(o.default_value) : o.default_value;
    }
    for (const auto& [k, v] : overrides) out[k] = v;
    return out;
}

const sb_host_api* FakeHost::api() {
    // Field by field, so a service this SDK does not know stays NULL (not offered).
    static const sb_host_api a = [] {
        sb_host_api t{};
        t.struct_size = static_cast<uint32_t>(sizeof(sb_host_api));
        t.abi_major = SB_ABI_VERSION_MAJOR;
        t.abi_minor = SB_ABI_VERSION_MINOR;
        t.log = &log;
        t.log_enabled = &logEnabled;
        t.emit = &emit;
        t.checkpoint_get = &checkpointGet;
        t.checkpoint_put = &checkpointPut;
        t.counter_add = &counterAdd;
        t.gauge_set = &gaugeSet;
        t.report_delivery = &reportDelivery;
        t.report_consent = &reportConsent;
        t.request_poll = &requestPoll;
        return t;
    }();
    return &a;
}

std::string FakeHost::allLogs() const {
    std::lock_guard<std::mutex> lock(mutex);
    std::string all;
    for (const auto& [level, text] : logs) all += text + "\n";
    return all;
}

bool FakeHost::loggedAt(sb_log_level level, const std::string& needle) const {
    std::lock_guard<std::mutex> lock(mutex);
    return std::any_of(logs.begin(), logs.end(), [&](const auto& l) {
        return l.first == level && l.second.find(needle) != std::string::npos;
    });
}

double FakeHost::counter(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
}

uint64_t FakeHost::pollRequestCount() const {
    std::lock_guard<std::mutex> lock(mutex);
    return pollRequests;
}

bool FakeHost::waitForPollRequest(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return pollRequested.wait_for(lock, timeout, [&] { return pollRequests > seen; });
}

PluginInstance::PluginInstance(const sb_plugin_descriptor* plugin, const std::string& instanceName,
                               const PluginOptions& options)
    : plugin_(plugin) {
    std::vector<sb_kv> entries;
    for (const auto& [k, v] : options) entries.push_back({switchboard::span(k), switchboard::span(v)});
    const sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries.data(), entries.size(),
                        switchboard::span(instanceName)};
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    createStatus_ = plugin_->create(FakeHost::api(), reinterpret_cast<sb_host_instance_host_ptr>(&host_), &cfg, &self_,
                                    sb_errbuf{err, sizeof err});
    createError_ = err;
    if (createStatus_ == SB_OK) plugin_->start(self_, sb_errbuf{err, sizeof err});
}

PluginInstance::~PluginInstance() {
    if (createStatus_ != SB_OK) return;
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    plugin_->stop(self_, sb_errbuf{err, sizeof err});
    plugin_->destroy(self_);
}

WebhookReply PluginInstance::handleWebhook(const WebhookRequest& request) {
    std::vector<sb_kv> kvs;
    for (const auto& [k, v] : request.headers) kvs.push_back({switchboard::span(k), switchboard::span(v)});
    sb_http_request req{};
    req.struct_size = static_cast<uint32_t>(sizeof req);
    req.method = switchboard::span(request.method);
    req.path = switchboard::span(request.path);
    req.headers = kvs.data();
    req.header_count = kvs.size();
    req.body = switchboard::span(request.body);
    if (!request.remoteAddr.empty()) req.remote_addr = switchboard::span(request.remoteAddr);
    if (!request.publicUrl.empty()) req.public_url = switchboard::span(request.publicUrl);
    WebhookReply reply;
    sb_http_response resp{};
    resp.struct_size = static_cast<uint32_t>(sizeof resp);
    resp.status = 200;
    resp.host_ctx = &reply;
    resp.set_header = [](void* ctx, sb_str name, sb_str value) {
        std::string n(switchboard::view(name));
        std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
        static_cast<WebhookReply*>(ctx)->headers[n] = std::string(switchboard::view(value));
    };
    resp.write_body = [](void* ctx, sb_str data) { static_cast<WebhookReply*>(ctx)->body += switchboard::view(data); };
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    reply.status = plugin_->handle_webhook(self_, &req, &resp, sb_errbuf{err, sizeof err});
    reply.http = resp.status;
    reply.pluginError = err;
    return reply;
}

SendOutcome PluginInstance::send(const switchboard::Message& message) {
    switchboard::detail::MessageView view(message);
    char providerId[256] = {0};
    sb_send_result result{static_cast<uint32_t>(sizeof(sb_send_result)), 0, providerId, sizeof providerId};
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    SendOutcome out;
    out.status = plugin_->send(self_, &view.abi(), &result, sb_errbuf{err, sizeof err});
    out.error = err;
    out.retryAfterMs = result.retry_after_ms;
    out.providerId = providerId;
    return out;
}

sb_status PluginInstance::poll(uint32_t* nextPollMs, std::string* error) {
    if (plugin_->poll == nullptr) return SB_UNSUPPORTED;
    sb_poll_result result{static_cast<uint32_t>(sizeof(sb_poll_result)), 0};
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    const sb_status s = plugin_->poll(self_, &result, sb_errbuf{err, sizeof err});
    if (nextPollMs) *nextPollMs = result.next_poll_ms;
    if (error) *error = err;
    return s;
}

}  // namespace switchboard::test
