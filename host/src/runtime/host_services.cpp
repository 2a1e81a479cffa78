#include "runtime/host_services.h"

#include "log/log.h"
#include "runtime/abi_text.h"
#include "runtime/connector_instance.h"
#include "runtime/consent_reports.h"
#include "runtime/delivery_reports.h"
#include "runtime/message_codec.h"
#include "runtime/time_format.h"
#include "store/commit_queue.h"


#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

namespace switchboard::host {

namespace {

LogLevel toLevel(sb_log_level level) {
    switch (level) {
        case SB_LOG_TRACE: return LogLevel::Trace;
        case SB_LOG_DEBUG: return LogLevel::Debug;
        case SB_LOG_INFO: return LogLevel::Info;
        case SB_LOG_WARN: return LogLevel::Warn;
        case SB_LOG_ERROR: return LogLevel::Error;
    }
    return LogLevel::Info;
}

void hostLog(sb_host_instance_host_ptr inst, sb_log_level level, sb_str message) noexcept {
    try {
        if (!inst) return;
        std::string_view text = view(message);
        std::string safe = isValidUtf8(text) ? std::string(text) : std::string("(log text is not valid UTF-8)");
        Logger::instance().write(toLevel(level), inst->owner->logScope(), safe);
    } catch (...) {
    }
}

int hostLogEnabled(sb_host_instance_host_ptr, sb_log_level level) noexcept {
    return Logger::instance().enabled(toLevel(level)) ? 1 : 0;
}

// Backpressure refusals come in bursts: one warning per 10 s is enough (the metric counts all).
bool shouldLogBackpressure() {
    static std::atomic<int64_t> lastMs{0};
    const int64_t now = nowUnixMs();
    int64_t last = lastMs.load();
    return now - last >= 10000 && lastMs.compare_exchange_strong(last, now);
}

sb_status hostEmit(sb_host_instance_host_ptr inst, const sb_emit_batch* batch, sb_emit_outcome* outcomes,
                   sb_errbuf err) noexcept {
    try {
        if (!inst) return SB_FAIL_DATA;
        ConnectorInstance& owner = *inst->owner;
        if (batch == nullptr || batch->struct_size < offsetof(sb_emit_batch, checkpoint_value) + sizeof(sb_str)) {
            writeErr(err, "emit: batch is NULL or its struct_size is smaller than the 1.0 sb_emit_batch");
            return SB_FAIL_DATA;
        }
        if (batch->message_count > 0 && batch->messages == nullptr) {
            writeErr(err, "emit: message_count is set but messages is NULL");
            return SB_FAIL_DATA;
        }
        const auto started = std::chrono::steady_clock::now();  // receipt, for switchboard_ingest_seconds
        const int64_t receivedAt = nowUnixMs();
        std::vector<MessageRecord> records(batch->message_count);
        std::string firstError;
        for (size_t i = 0; i < batch->message_count; ++i) {
            std::string why = decodeMessage(*SB_ARRAY_AT(sb_message, batch->messages, i), owner.name(), receivedAt,
                                            records[i]);
            if (!why.empty()) {
                if (outcomes) outcomes[i] = SB_EMIT_REJECTED;
                if (firstError.empty()) firstError = "emit: messages[" + std::to_string(i) + "]." + why;
            }
        }
        owner.counters().received += batch->message_count;
        owner.metrics().add("switchboard_messages_received_total", {{"instance", owner.name()}},
                            static_cast<double>(batch->message_count));
        if (!firstError.empty()) {
            owner.countRejected("invalid_message");
            Logger::instance().write(LogLevel::Warn, owner.logScope(), firstError + " (batch not stored)");
            writeErr(err, firstError);
            return SB_FAIL_DATA;
        }
        std::optional<Checkpoint> checkpoint;
        if (!view(batch->checkpoint_key).empty())
            checkpoint = Checkpoint{std::string(view(batch->checkpoint_key)), std::string(view(batch->checkpoint_value))};
        std::vector<CommitOutcome> results;
        try {
            results = owner.store().commitQueue().commit(CommitBatch{std::move(records), checkpoint, owner.name()});
        } catch (const StoreBehind& e) {
            // Backpressure, not a fault: the source retries (a webhook answers 503).
            owner.countRejected("store_behind");
            if (shouldLogBackpressure())
                Logger::instance().write(LogLevel::Warn, owner.logScope(),
                                         std::string("emit refused: ") + e.what() + "; the source will retry");
            writeErr(err, std::string("emit: ") + e.what() + "; retry later");
            return SB_RETRY;
        }
        uint64_t stored = 0, duplicates = 0;
        for (size_t i = 0; i < results.size(); ++i) {
            bool dup = results[i] == CommitOutcome::Duplicate;
            dup ? ++duplicates : ++stored;
            if (outcomes) outcomes[i] = dup ? SB_EMIT_DUPLICATE : SB_EMIT_STORED;
        }
        owner.counters().stored += stored;
        owner.counters().duplicates += duplicates;
        const Labels labels{{"instance", owner.name()}};
        owner.metrics().observe("switchboard_ingest_seconds", labels,
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        owner.metrics().add("switchboard_messages_stored_total", labels, static_cast<double>(stored));
        owner.metrics().add("switchboard_messages_duplicate_total", labels, static_cast<double>(duplicates));
        return SB_OK;
    } catch (const std::exception& e) {
        // The store is busy, full or gone: transient from the plugin's side; it answers 503.
        std::string why = std::string("emit: the store could not commit: ") + e.what();
        if (inst) Logger::instance().write(LogLevel::Error, inst->owner->logScope(), why);
        writeErr(err, why);
        return SB_RETRY;
    } catch (...) {
        writeErr(err, "emit: unknown error in the host");
        return SB_RETRY;
    }
}

sb_status hostCheckpointGet(sb_host_instance_host_ptr inst, sb_str key, void* ctx, sb_receive_fn receive,
                            sb_errbuf err) noexcept {
    try {
        if (!inst || !receive) return SB_FAIL_DATA;
        auto value = inst->owner->store().checkpoint(inst->owner->name(), std::string(view(key)));
        if (value) receive(ctx, sb_str{value->data(), value->size()});
        return SB_OK;
    } catch (const std::exception& e) {
        writeErr(err, std::string("checkpoint_get: ") + e.what());
        return SB_RETRY;
    } catch (...) {
        return SB_RETRY;
    }
}

sb_status hostCheckpointPut(sb_host_instance_host_ptr inst, sb_str key, sb_str value, sb_errbuf err) noexcept {
    try {
        if (!inst) return SB_FAIL_DATA;
        if (view(key).empty()) {
            writeErr(err, "checkpoint_put: key is empty");
            return SB_FAIL_DATA;
        }
        inst->owner->store().putCheckpoint(inst->owner->name(), std::string(view(key)), std::string(view(value)));
        return SB_OK;
    } catch (const std::exception& e) {
        writeErr(err, std::string("checkpoint_put: ") + e.what());
        return SB_RETRY;
    } catch (...) {
        return SB_RETRY;
    }
}

// switchboard_plugin_<plugin>_<name>: two plugins' "stored" counters stay apart.
std::string pluginMetricName(sb_host_instance_host_ptr inst, sb_str name) {
    return inst->owner->plugin().metricName(Metrics::sanitizeName(std::string(view(name))));
}

void hostCounterAdd(sb_host_instance_host_ptr inst, sb_str name, double delta) noexcept {
    try {
        if (!inst) return;
        inst->owner->metrics().add(pluginMetricName(inst, name), {{"instance", inst->owner->name()}}, delta);
    } catch (...) {
    }
}

void hostGaugeSet(sb_host_instance_host_ptr inst, sb_str name, double value) noexcept {
    try {
        if (!inst) return;
        inst->owner->metrics().set(pluginMetricName(inst, name), {{"instance", inst->owner->name()}}, value);
    } catch (...) {
    }
}

// Only sets a flag and wakes the instance's supervisor: never waits for the poll.
void hostRequestPoll(sb_host_instance_host_ptr inst) noexcept {
    try {
        if (inst) inst->owner->requestPoll();
    } catch (...) {
    }
}

// Refusal reasons become a label value: keep them to [a-z0-9_] and short.
std::string rejectReason(sb_str reason) {
    std::string out;
    for (char c : view(reason).substr(0, 64)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_';
    }
    return out.empty() ? "unspecified" : out;
}

void hostCountRejected(sb_host_instance_host_ptr inst, sb_str reason) noexcept {
    try {
        if (inst) inst->owner->countRejected(rejectReason(reason));
    } catch (...) {
    }
}

const sb_host_api kHostApi = {
    static_cast<uint32_t>(sizeof(sb_host_api)),
    SB_ABI_VERSION_MAJOR,
    SB_ABI_VERSION_MINOR,
    &hostLog,
    &hostLogEnabled,
    &hostEmit,
    &hostCheckpointGet,
    &hostCheckpointPut,
    &hostCounterAdd,
    &hostGaugeSet,
    &hostReportDelivery,  // since 1.1: runtime/delivery_reports.cpp
    &hostReportConsent,   // since 1.2: runtime/consent_reports.cpp
    &hostRequestPoll,     // since 1.3
    &hostCountRejected,   // since 1.4
};

}  // namespace

const sb_host_api& hostServices() { return kHostApi; }

}  // namespace switchboard::host
