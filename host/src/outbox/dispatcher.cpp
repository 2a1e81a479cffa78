#include "outbox/dispatcher.h"

#include "customer/consent.h"
#include "log/log.h"
#include "outbox/backoff.h"
#include "runtime/abi_text.h"
#include "runtime/delivery_reports.h"
#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/Statement.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <map>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::outbox {

namespace {

constexpr const char* kScope = "outbox";
// Rows handled per claim: a full batch is followed by another pass at once.
constexpr int kBatch = 32;


// Owned strings and the sb_message view over them, built from an outbox payload.
struct OutboundView {
    std::deque<std::string> strings;  // a deque: growing it never moves what the views point at
    std::vector<sb_str> references;
    std::vector<sb_identity> recipients;
    std::vector<sb_kv> attributes;
    sb_message message{};

    // The 1.4 fields: who it goes to, which entry, what kind, and which try this is.
    struct Entry {
        int64_t id = 0;
        std::string kind;
        int64_t attempt = 1;
    };

    OutboundView(const json& p, const std::string& idempotencyKey, const Entry& entry) {
        auto keep = [&](std::string s) { return span(strings.emplace_back(std::move(s))); };
        for (const auto& r : p.value("references", json::array()))
            if (r.is_string()) references.push_back(keep(r.get<std::string>()));
        for (const auto& r : p.value("recipients", json::array()))
            recipients.push_back(sb_identity{static_cast<uint32_t>(sizeof(sb_identity)), keep(r.value("type", "")),
                                             keep(r.value("value", "")), keep(r.value("scope", ""))});
        const json attrs = p.value("attributes", json::object());
        for (const auto& [k, v] : attrs.items())
            attributes.push_back(sb_kv{keep(k), keep(v.is_string() ? v.get<std::string>() : v.dump())});
        attributes.push_back(sb_kv{keep("outbox.idempotency_key"), keep(idempotencyKey)});
        message.struct_size = sizeof(sb_message);
        message.channel = keep(p.value("channel", ""));
        message.direction = SB_DIRECTION_OUTBOUND;
        message.source_id = keep(p.value("source_id", ""));
        message.conversation_id = keep(p.value("conversation_id", ""));
        message.in_reply_to = keep(p.value("in_reply_to", ""));
        message.references = references.data();
        message.reference_count = references.size();
        message.recipients = recipients.data();
        message.recipient_count = recipients.size();
        message.subject = keep(p.value("subject", ""));
        message.text = keep(p.value("text", ""));
        message.html = keep(p.value("html", ""));
        message.occurred_at_ms = nowUnixMs();
        message.attributes = attributes.data();
        message.attribute_count = attributes.size();
        message.customer_id = keep(p.value("customer_id", ""));
        message.outbox_id = keep(std::to_string(entry.id));
        // A message that answers an interaction is a reply: the sink may thread it.
        const bool answers = !p.value("in_reply_to", "").empty();
        message.kind = keep(entry.kind == "message" && answers ? "reply" : entry.kind);
        message.purpose = keep(p.value("purpose", "service"));
        message.attempt = static_cast<uint32_t>(entry.attempt);
        message.replay = p.value("replayed", false) ? 1 : 0;
    }
};

}  // namespace

struct Dispatcher::Claimed {
    int64_t id = 0;
    int64_t messageId = 0;
    std::string connector;
    std::string idempotencyKey;
    int64_t attempts = 0;
    int64_t enqueuedAtMs = 0;
    std::string payload;
    std::string kind;
};

Dispatcher::Dispatcher(Store& store, HostControl& sinks, Metrics& metrics, const config::OutboxConfig& config)
    : store_(store), sinks_(sinks), metrics_(metrics), config_(config) {
    metrics_.describe("switchboard_outbound_sent_total", "counter", "Outbound messages a sink accepted.");
    metrics_.describe("switchboard_outbound_failed_total", "counter", "Send attempts that did not succeed.");
    metrics_.describe("switchboard_outbound_retried_total", "counter",
                      "Failed send attempts scheduled to be tried again.");
    metrics_.describe("switchboard_outbound_deadlettered_total", "counter",
                      "Outbound messages moved to the dead-letter queue.");
    metrics_.describe("switchboard_outbox_depth", "gauge", "Outbox rows by state (pending, dead).");
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Dispatcher::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    wake_.notify_all();
}

void Dispatcher::run() {
    while (true) {
        int handled = 0;
        try {
            handled = dispatchDue();
            updateDepth();
        } catch (const std::exception& e) {
            // The store is unreachable or busy: nothing is lost, the rows stay pending.
            Logger::instance().write(LogLevel::Error, kScope, std::string("dispatch pass failed: ") + e.what());
        }
        std::unique_lock lock(mutex_);
        if (stopping_) return;
        if (handled >= kBatch) continue;  // more may be due now
        wake_.wait_for(lock, config_.pollInterval, [&] { return stopping_ || woken_; });
        woken_ = false;
        if (stopping_) return;
    }
}

int Dispatcher::dispatchDue() {
    std::vector<Claimed> rows;
    const int64_t at = nowUnixMs();
    store_.inTransaction([&](Sql& s) {
        std::vector<int64_t> ids;
        int64_t due = at;
        int limit = kBatch;
        s << "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at_ms <= ? "
             "ORDER BY next_attempt_at_ms, id LIMIT ?",
            use(due), use(limit), into(ids), now;
        for (int64_t id : ids) {
            // Conditional: a row another host claimed meanwhile comes back empty.
            Claimed c;
            std::vector<int64_t> got, messageIds, attempts, enqueued;
            std::vector<std::string> connectors, keys, payloads, kinds;
            // Leased (config claim_lease): a crash mid-send brings the row back after it.
            int64_t lease = at + config_.claimLease.count(), rowId = id;
            Poco::Data::Statement claim =
                s << "UPDATE outbox SET next_attempt_at_ms = ? WHERE id = ? AND state = 'pending' AND "
                     "next_attempt_at_ms <= ? RETURNING id, message_id, connector, idempotency_key, attempts, "
                     "enqueued_at_ms, payload_json, kind";
            claim, use(lease), use(rowId), use(due), into(got), into(messageIds), into(connectors), into(keys),
                into(attempts), into(enqueued), into(payloads), into(kinds);
            claim.execute();
            if (got.empty()) continue;
            rows.push_back({got[0], messageIds[0], connectors[0], keys[0], attempts[0], enqueued[0], payloads[0],
                            kinds[0]});
        }
    });
    // Instances found not running (or failing with FAIL_FATAL) in this pass, with why: their
    // later rows are held without a call, so one that comes back mid-pass cannot take a newer
    // message before the older ones it refused.
    std::map<std::string, std::string> held;
    for (const auto& row : rows) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_ && thread_.joinable()) break;  // the lease brings the rest back after a restart
        }
        handle(row, held);
    }
    return static_cast<int>(rows.size());
}

void Dispatcher::handle(const Claimed& row, std::map<std::string, std::string>& held) {
    const Labels labels{{"instance", row.connector}};
    const int64_t start = nowUnixMs();
    const bool tooOld = start - row.enqueuedAtMs >= config_.maxAge.count();

    SinkSendResult sent;
    std::string consentError;
    if (!tooOld) {
        json payload = json::parse(row.payload, nullptr, false);
        if (!payload.is_object()) {
            sent = {SinkCall::Called, SB_FAIL_DATA, "the outbox payload is not valid JSON", {}, 0};
        } else if (consentError = dropWithdrawnConsent(payload); consentError.empty()) {
            if (auto h = held.find(row.connector); h != held.end()) {
                sent = {SinkCall::NotRunning, SB_RETRY, h->second, {}, 0};
            } else {
                OutboundView view(payload, row.idempotencyKey, {row.id, row.kind, row.attempts + 1});
                sent = sinks_.sendMessage(row.connector, view.message);
            }
        }
    }
    const int64_t at = nowUnixMs();
    // FAIL_FATAL says the instance is broken (revoked credentials, lost state), not this
    // message: the instance has gone to backoff, and the message waits for it like for any
    // instance that is not running, without spending an attempt.
    const bool instanceFailed = sent.call == SinkCall::Called && sent.status == SB_FAIL_FATAL;
    const int64_t attempts =
        row.attempts + (sent.call == SinkCall::Called && !instanceFailed && !tooOld && consentError.empty() ? 1 : 0);

    // What to record: state, next attempt, error, message delivery status.
    std::string state = "pending", error, deliveryStatus, deliveryDetail;
    int64_t nextAt = at;
    if (tooOld) {
        state = "dead";
        error = "retry budget spent: waited longer than max_age (" + std::to_string(config_.maxAge.count()) +
                "ms) after " + std::to_string(row.attempts) + " attempt(s)";
    } else if (!consentError.empty()) {
        state = "dead";
        error = consentError;
    } else if (sent.call == SinkCall::NotRunning || sent.call == SinkCall::NotFound || instanceFailed) {
        // Not the message's fault: wait without spending an attempt (max_age still applies).
        error = sent.error;
        if (instanceFailed) {
            metrics_.add("switchboard_outbound_failed_total", labels);
            error = "FAIL_FATAL: " + sent.error + " (the connector instance failed; kept until it runs again)";
            Logger::instance().write(LogLevel::Warn, kScope,
                                     "outbox " + std::to_string(row.id) + " to '" + row.connector +
                                         "' kept pending: the instance failed (FAIL_FATAL)");
        }
        if (sent.call != SinkCall::NotFound)
            held.emplace(row.connector, instanceFailed ? "connector '" + row.connector + "' failed: " + sent.error
                                                       : sent.error);
        nextAt = at + std::max(config_.pollInterval, backoffCap(config_, row.attempts + 1)).count();
    } else if (sent.call == SinkCall::NotASink) {
        state = "dead";
        error = sent.error;
    } else if (sent.status == SB_OK) {
        state = "sent";
        deliveryStatus = "sent";
    } else {
        metrics_.add("switchboard_outbound_failed_total", labels);
        error = "attempt " + std::to_string(attempts) + ": " + statusName(sent.status) + ": " + sent.error;
        if (sent.status == SB_RETRY && attempts < config_.maxAttempts) {
            nextAt = at + retryDelay(config_, attempts, sent.retryAfterMs, rng_).count();
            metrics_.add("switchboard_outbound_retried_total", labels);
        } else {
            state = "dead";
            if (sent.status == SB_RETRY)
                error += " (retry budget spent: " + std::to_string(config_.maxAttempts) + " attempts)";
        }
    }
    if (state == "dead") {
        deliveryStatus = "failed";
        deliveryDetail = error;
        metrics_.add("switchboard_outbound_deadlettered_total", labels);
        Logger::instance().write(LogLevel::Warn, kScope,
                                 "outbox " + std::to_string(row.id) + " to '" + row.connector +
                                     "' dead-lettered: " + error);
    } else if (state == "sent") {
        metrics_.add("switchboard_outbound_sent_total", labels);
    }

    store_.inTransaction([&](Sql& s) {
        int64_t id = row.id, n = attempts, next = nextAt, now_ = at;
        std::string st = state, err = error;
        s << "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at_ms = ?, updated_at_ms = ?, "
             "last_error = CASE WHEN ? = '' THEN last_error ELSE ? END WHERE id = ?",
            use(st), use(n), use(next), use(now_), use(err), use(err), use(id), now;
        if (deliveryStatus.empty()) return;
        int64_t mid = row.messageId;
        std::string ds = deliveryStatus, dd = deliveryDetail, pid = sent.providerMessageId;
        // A receipt may already have moved a sent message further (delivered): keep that.
        s << "UPDATE messages SET delivery_status = CASE WHEN ? = 'sent' AND delivery_status IN ('delivered', 'read') "
             "THEN delivery_status ELSE ? END, delivery_detail = ?, "
             "provider_message_id = CASE WHEN ? = '' THEN provider_message_id ELSE ? END WHERE id = ?",
            use(ds), use(ds), use(dd), use(pid), use(pid), use(mid), now;
        if (!pid.empty()) applyEarlyReceipts(s, row.connector, pid);
    });
}

// Consent is checked again before each attempt: an opt-out that arrives while a message
// waits (an SMS STOP, PUT .../consent) must stop it. Refused recipients are dropped from
// the payload; returns why when none is left.
std::string Dispatcher::dropWithdrawnConsent(json& payload) {
    const json recipients = payload.value("recipients", json::array());
    if (recipients.empty()) return "";
    const std::string purpose = payload.value("purpose", "service");
    json kept = json::array();
    std::string why;
    store_.withSession([&](Sql& s) {
        for (const auto& r : recipients) {
            const std::string key = r.is_object() ? r.value("match_key", "") : "";
            const std::string status = key.empty() ? "" : customer::consentStatus(s, key, purpose);
            if (key.empty() || customer::consentAllows(purpose, status)) kept.push_back(r);
            else if (why.empty())
                why = customer::consentRefusal(r.value("type", "") + ":" + r.value("value", ""), purpose, status);
        }
    });
    payload["recipients"] = kept;
    return kept.empty() ? "consent: " + why + " after the message was queued; not sent" : "";
}

void Dispatcher::updateDepth() {
    std::vector<std::string> states;
    std::vector<int64_t> counts;
    store_.withSession([&](Sql& s) {
        s << "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state", into(states),
            into(counts), now;
    });
    double pending = 0, dead = 0;
    for (size_t i = 0; i < states.size(); ++i) (states[i] == "pending" ? pending : dead) = static_cast<double>(counts[i]);
    metrics_.set("switchboard_outbox_depth", {{"state", "pending"}}, pending);
    metrics_.set("switchboard_outbox_depth", {{"state", "dead"}}, dead);
}

}  // namespace switchboard::host::outbox
