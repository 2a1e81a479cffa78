// Drives the built switchboard-email.so through the C ABI, as the host does: a fake
// sb_host_api that commits emitted batches and their checkpoint atomically, drops messages
// whose source id it already has (like the host's dedupe), and records logs and counters.
// Like the host, it honours request_poll (SDK 1.3): each Instance runs a poller thread that
// polls promptly when asked, never at the same time as another poll of that instance.
// Shared by the email_* tests; not a test itself.
#pragma once

#include "plugin_harness.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace email_test {

// The built switchboard-email.so, loaded once (tests/support/plugin_harness.h).
inline const sb_plugin_descriptor* descriptor() { return switchboard::test::bundledPlugin("email"); }

// The host's store for one instance; outlives plugin instances (a restart keeps it).
struct FakeHost {
    std::mutex mutex;
    std::vector<switchboard::Message> stored;
    std::set<std::string> sourceIds;
    std::map<std::string, std::string> checkpoints;
    std::vector<std::string> logs;
    std::map<std::string, double> counters;
    size_t duplicates = 0;
    size_t emitCalls = 0;
    uint64_t pollRequests = 0;
    std::condition_variable pollRequested;  // notified under mutex
    // Offer only the SDK 1.2 services (no request_poll), like a host that predates 1.3.
    bool olderHost = false;

    static FakeHost& of(sb_host_instance_host_ptr p) { return *reinterpret_cast<FakeHost*>(p); }
    static void log(sb_host_instance_host_ptr p, sb_log_level, sb_str message) {
        std::lock_guard<std::mutex> lock(of(p).mutex);
        of(p).logs.emplace_back(switchboard::view(message));
    }
    static int logEnabled(sb_host_instance_host_ptr, sb_log_level) { return 1; }
    static sb_status emit(sb_host_instance_host_ptr p, const sb_emit_batch* batch, sb_emit_outcome* outcomes,
                          sb_errbuf) {
        FakeHost& h = of(p);
        std::lock_guard<std::mutex> lock(h.mutex);
        ++h.emitCalls;
        for (size_t i = 0; i < batch->message_count; ++i) {
            auto m = switchboard::Message::fromAbi(*SB_ARRAY_AT(sb_message, batch->messages, i));
            const bool isNew = h.sourceIds.insert(m.sourceId).second;
            if (isNew) h.stored.push_back(std::move(m));
            else ++h.duplicates;
            if (outcomes) outcomes[i] = isNew ? SB_EMIT_STORED : SB_EMIT_DUPLICATE;
        }
        if (batch->checkpoint_key.size > 0)
            h.checkpoints[std::string(switchboard::view(batch->checkpoint_key))] =
                std::string(switchboard::view(batch->checkpoint_value));
        return SB_OK;
    }
    static sb_status checkpointGet(sb_host_instance_host_ptr p, sb_str key, void* ctx, sb_receive_fn receive,
                                   sb_errbuf) {
        FakeHost& h = of(p);
        std::string value;
        {
            std::lock_guard<std::mutex> lock(h.mutex);
            auto it = h.checkpoints.find(std::string(switchboard::view(key)));
            if (it == h.checkpoints.end()) return SB_OK;
            value = it->second;
        }
        receive(ctx, switchboard::span(value));
        return SB_OK;
    }
    static sb_status checkpointPut(sb_host_instance_host_ptr p, sb_str key, sb_str value, sb_errbuf) {
        std::lock_guard<std::mutex> lock(of(p).mutex);
        of(p).checkpoints[std::string(switchboard::view(key))] = std::string(switchboard::view(value));
        return SB_OK;
    }
    static void counterAdd(sb_host_instance_host_ptr p, sb_str name, double delta) {
        std::lock_guard<std::mutex> lock(of(p).mutex);
        of(p).counters[std::string(switchboard::view(name))] += delta;
    }
    static void gaugeSet(sb_host_instance_host_ptr, sb_str, double) {}
    static void requestPoll(sb_host_instance_host_ptr p) {
        std::lock_guard<std::mutex> lock(of(p).mutex);
        ++of(p).pollRequests;
        of(p).pollRequested.notify_all();
    }
    static const sb_host_api* api() {
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
            t.request_poll = &requestPoll;
            return t;
        }();
        return &a;
    }
    // The table of a 1.2 host: smaller, and without request_poll.
    static const sb_host_api* api12() {
        static const sb_host_api a = [] {
            sb_host_api t = *api();
            t.struct_size = static_cast<uint32_t>(SB_HOST_API_SIZE_1_2);
            t.abi_minor = 2;
            t.request_poll = nullptr;
            return t;
        }();
        return &a;
    }
    std::string allLogs() {
        std::lock_guard<std::mutex> lock(mutex);
        std::string all;
        for (const auto& l : logs) all += l + "\n";
        return all;
    }
    const switchboard::Message* find(const std::string& sourceId) {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& m : stored)
            if (m.sourceId == sourceId) return &m;
        return nullptr;
    }
    size_t count() {
        std::lock_guard<std::mutex> lock(mutex);
        return stored.size();
    }
};

using switchboard::test::durationMs;

using Options = std::multimap<std::string, std::string>;  // a list option repeats its key

struct Outcome {
    sb_status status = SB_OK;
    std::string error;
    uint32_t nextOrRetryMs = 0;
    std::string providerId;
};

// One created and started instance, configured as the host would (defaults filled in).
class Instance {
public:
    Instance(FakeHost& host, const Options& options, const std::string& name = "support-mail") : host_(host) {
        std::map<std::string, std::string> defaults;
        const sb_plugin_descriptor* d = descriptor();
        for (size_t i = 0; i < d->option_count; ++i)
            if (d->options[i].default_value && options.count(d->options[i].name) == 0)
                defaults[d->options[i].name] = d->options[i].type == SB_OPT_DURATION
                                                   ? durationMs(d->options[i].default_value)
                                                   : d->options[i].default_value;
        for (const auto& [k, v] : defaults) storage_.emplace_back(k, v);
        for (const auto& [k, v] : options) storage_.emplace_back(k, v);
        std::vector<sb_kv> entries;
        for (const auto& [k, v] : storage_) entries.push_back({switchboard::span(k), switchboard::span(v)});
        sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries.data(), entries.size(), switchboard::span(name)};
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        createStatus_ = d->create(host_.olderHost ? FakeHost::api12() : FakeHost::api(),
                                  reinterpret_cast<sb_host_instance_host_ptr>(&host_), &cfg, &self_,
                                  sb_errbuf{err, sizeof err});
        createError_ = err;
        if (createStatus_ != SB_OK) return;
        uint64_t seen = 0;
        {
            std::lock_guard<std::mutex> lock(host_.mutex);
            seen = host_.pollRequests;  // the host outlives instances: count from here
        }
        poller_ = std::thread([this, seen] { runRequestedPolls(seen); });
        d->start(self_, sb_errbuf{err, sizeof err});
    }
    ~Instance() {
        if (createStatus_ != SB_OK) return;
        {
            std::lock_guard<std::mutex> lock(host_.mutex);
            stopping_ = true;
        }
        host_.pollRequested.notify_all();
        poller_.join();
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        descriptor()->stop(self_, sb_errbuf{err, sizeof err});
        descriptor()->destroy(self_);
    }
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    sb_status createStatus() const { return createStatus_; }
    const std::string& createError() const { return createError_; }

    // Serialized with the poller's polls: the host never runs two polls of one instance at once.
    Outcome poll() {
        std::lock_guard<std::mutex> one(pollMutex_);
        sb_poll_result result{static_cast<uint32_t>(sizeof(sb_poll_result)), 0};
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        Outcome o;
        o.status = descriptor()->poll(self_, &result, sb_errbuf{err, sizeof err});
        o.error = err;
        o.nextOrRetryMs = result.next_poll_ms;
        return o;
    }
    // Polls until a poll finds nothing more to do right away (next poll not "at once").
    Outcome pollUntilIdle(int maxPolls = 1000) {
        Outcome o;
        for (int i = 0; i < maxPolls; ++i) {
            o = poll();
            if (o.status != SB_OK || o.nextOrRetryMs > 1) break;
        }
        return o;
    }

    Outcome send(const switchboard::Message& message) {
        switchboard::detail::MessageView view(message);
        char id[256] = {0};
        sb_send_result result{static_cast<uint32_t>(sizeof(sb_send_result)), 0, id, sizeof id};
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        Outcome o;
        o.status = descriptor()->send(self_, &view.abi(), &result, sb_errbuf{err, sizeof err});
        o.error = err;
        o.nextOrRetryMs = result.retry_after_ms;
        o.providerId = id;
        return o;
    }

private:
    // What the host does on request_poll: poll soon, then again while the plugin says "at once".
    void runRequestedPolls(uint64_t seen) {
        std::unique_lock<std::mutex> lock(host_.mutex);
        while (true) {
            host_.pollRequested.wait(lock, [&] { return stopping_ || host_.pollRequests != seen; });
            if (stopping_) return;
            seen = host_.pollRequests;  // requests made during the polls below get another round
            lock.unlock();
            pollUntilIdle();
            lock.lock();
        }
    }

    FakeHost& host_;
    std::mutex pollMutex_;
    bool stopping_ = false;  // guarded by host_.mutex
    std::thread poller_;
    std::vector<std::pair<std::string, std::string>> storage_;
    sb_plugin_instance_plugin_ptr self_ = nullptr;
    sb_status createStatus_ = SB_FAIL_FATAL;
    std::string createError_;
};

}  // namespace email_test
