#include "store/store.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Data/Transaction.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "customer/customer_ids.h"
#include "customer/privacy.h"
#include "store/commit_queue.h"
#include "store/store_fault.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

using namespace Poco::Data::Keywords;
using Poco::Data::Statement;

namespace switchboard::host {

namespace {

// Schema migrations, applied in order; the index + 1 is the schema version. Append only.
// Written in SQLite's DDL; PostgreSQL runs SqlDialect::ddl() of the same text, so the two
// engines' schemas stay in lockstep under one numbering. SQLite keeps the version in
// PRAGMA user_version, PostgreSQL in the one-row table schema_version.
const char* const kMigrations[] = {
    R"(CREATE TABLE messages (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         connector TEXT NOT NULL,
         source_id TEXT NOT NULL,
         channel TEXT NOT NULL,
         direction TEXT NOT NULL,
         conversation_id TEXT NOT NULL DEFAULT '',
         occurred_at_ms INTEGER NOT NULL DEFAULT 0,
         received_at_ms INTEGER NOT NULL,
         subject TEXT NOT NULL DEFAULT '',
         text TEXT NOT NULL DEFAULT '',
         normalized_json TEXT NOT NULL,
         raw_content_type TEXT NOT NULL DEFAULT '',
         raw BLOB,
         UNIQUE (connector, source_id));
       CREATE TABLE checkpoints (
         connector TEXT NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         updated_at_ms INTEGER NOT NULL,
         PRIMARY KEY (connector, key));)",
    // 2: the customer model. messages.customer_id is the live customer (root of the merge
    // chain), original_customer_id the one it was first resolved to: unmerge is exact.
    R"(CREATE TABLE customers (
         id TEXT PRIMARY KEY,
         display_name TEXT NOT NULL DEFAULT '',
         status TEXT NOT NULL DEFAULT 'active',
         merged_into TEXT,
         created_at_ms INTEGER NOT NULL,
         updated_at_ms INTEGER NOT NULL);
       CREATE INDEX customers_merged_into ON customers (merged_into);
       CREATE INDEX customers_name ON customers (display_name COLLATE NOCASE);
       CREATE TABLE identities (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         customer_id TEXT NOT NULL,
         original_customer_id TEXT NOT NULL,
         type TEXT NOT NULL,
         scope TEXT NOT NULL DEFAULT '',
         raw TEXT NOT NULL,
         normalized TEXT NOT NULL,
         match_key TEXT NOT NULL,
         matchable INTEGER NOT NULL,
         match_status TEXT NOT NULL,
         source TEXT NOT NULL,
         first_seen_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL);
       CREATE INDEX identities_match_key ON identities (match_key);
       CREATE INDEX identities_customer ON identities (customer_id);
       CREATE INDEX identities_original ON identities (original_customer_id);
       CREATE TABLE merges (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         survivor_id TEXT NOT NULL,
         absorbed_id TEXT NOT NULL,
         trigger_json TEXT NOT NULL,
         merged_at_ms INTEGER NOT NULL,
         undone_at_ms INTEGER);
       CREATE INDEX merges_survivor ON merges (survivor_id);
       CREATE INDEX merges_absorbed ON merges (absorbed_id);
       CREATE TABLE match_decisions (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         message_id INTEGER NOT NULL,
         customer_id TEXT NOT NULL,
         decision TEXT NOT NULL,
         details_json TEXT NOT NULL,
         decided_at_ms INTEGER NOT NULL);
       ALTER TABLE messages ADD COLUMN customer_id TEXT;
       ALTER TABLE messages ADD COLUMN original_customer_id TEXT;
       ALTER TABLE messages ADD COLUMN timeline_at_ms INTEGER NOT NULL DEFAULT 0;
       UPDATE messages SET timeline_at_ms = CASE WHEN occurred_at_ms > 0 THEN occurred_at_ms ELSE received_at_ms END;
       CREATE INDEX messages_timeline ON messages (customer_id, timeline_at_ms DESC, id DESC);
       CREATE INDEX messages_original ON messages (original_customer_id);)",
    // 3: erasure tombstones: keyed hashes only (customer/privacy.h).
    R"(CREATE TABLE erasures (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         customer_id TEXT NOT NULL,
         erased_at_ms INTEGER NOT NULL,
         customers INTEGER NOT NULL,
         identities INTEGER NOT NULL,
         interactions INTEGER NOT NULL);
       CREATE TABLE erased_keys (
         kind TEXT NOT NULL,
         key_hash TEXT NOT NULL,
         erasure_id INTEGER NOT NULL,
         PRIMARY KEY (kind, key_hash));
       CREATE TABLE store_meta (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL);)",
    // 4: consent per identity and purpose, attribute values with provenance, conversations.
    // Consent rows hang off the identity's match key, not the customer: consent belongs to the
    // address, so merges and unmerges never move or lose it.
    R"(CREATE TABLE consents (
         match_key TEXT NOT NULL,
         purpose TEXT NOT NULL,
         status TEXT NOT NULL,
         source TEXT NOT NULL,
         evidence TEXT NOT NULL DEFAULT '',
         updated_at_ms INTEGER NOT NULL,
         PRIMARY KEY (match_key, purpose));
       CREATE TABLE attribute_values (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         customer_id TEXT NOT NULL,
         original_customer_id TEXT NOT NULL,
         name TEXT NOT NULL,
         value TEXT NOT NULL,
         source TEXT NOT NULL,
         source_record TEXT NOT NULL DEFAULT '',
         observed_at_ms INTEGER NOT NULL,
         entered_by_hand INTEGER NOT NULL DEFAULT 0);
       CREATE INDEX attribute_values_customer ON attribute_values (customer_id, name);
       CREATE INDEX attribute_values_original ON attribute_values (original_customer_id);
       CREATE TABLE conversations (
         id TEXT PRIMARY KEY,
         customer_id TEXT NOT NULL,
         original_customer_id TEXT NOT NULL,
         thread_key TEXT NOT NULL DEFAULT '',
         first_channel TEXT NOT NULL,
         opened_at_ms INTEGER NOT NULL,
         last_at_ms INTEGER NOT NULL);
       CREATE INDEX conversations_customer ON conversations (customer_id, last_at_ms DESC);
       CREATE INDEX conversations_thread_key ON conversations (thread_key);
       ALTER TABLE messages ADD COLUMN thread_id TEXT;
       CREATE INDEX messages_thread ON messages (thread_id);)",
    // 5: what each side of a merge looked like when it happened (explainability).
    R"(ALTER TABLE merges ADD COLUMN snapshot_json TEXT NOT NULL DEFAULT '{}';)",
    // 6: the routing outcome of each inbound interaction (routing/), shown in the timeline.
    R"(ALTER TABLE messages ADD COLUMN routing_json TEXT;)",
    // identity.cardinality: which values of other types each value came with (resolver.h).
    R"(CREATE TABLE identity_partners (
         match_key TEXT NOT NULL,
         partner_key TEXT NOT NULL,
         first_seen_ms INTEGER NOT NULL,
         PRIMARY KEY (match_key, partner_key));
       CREATE INDEX identity_partners_partner ON identity_partners (partner_key);)",
    // The durable outbox (outbox/outbox.h) and the delivery status of outbound interactions.
    // An outbox row is pending (next_attempt_at_ms says when), sent, or dead (the DLQ).
    R"(CREATE TABLE outbox (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         message_id INTEGER NOT NULL,
         connector TEXT NOT NULL,
         kind TEXT NOT NULL DEFAULT 'message',
         origin TEXT NOT NULL DEFAULT '',
         idempotency_key TEXT NOT NULL,
         state TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at_ms INTEGER NOT NULL,
         enqueued_at_ms INTEGER NOT NULL,
         created_at_ms INTEGER NOT NULL,
         updated_at_ms INTEGER NOT NULL,
         last_error TEXT NOT NULL DEFAULT '',
         payload_json TEXT NOT NULL,
         UNIQUE (idempotency_key));
       CREATE INDEX outbox_due ON outbox (state, next_attempt_at_ms);
       ALTER TABLE messages ADD COLUMN delivery_status TEXT;
       ALTER TABLE messages ADD COLUMN delivery_detail TEXT;
       ALTER TABLE messages ADD COLUMN provider_message_id TEXT;
       CREATE INDEX messages_provider_id ON messages (connector, provider_message_id);)",
    // Delivery receipts that arrived before the send they report on was recorded
    // (runtime/delivery_reports.h): kept a day, applied when the provider id is stored.
    R"(CREATE TABLE early_receipts (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         connector TEXT NOT NULL,
         provider_message_id TEXT NOT NULL,
         status TEXT NOT NULL,
         detail TEXT NOT NULL,
         received_at_ms INTEGER NOT NULL);
       CREATE INDEX early_receipts_provider_id ON early_receipts (connector, provider_message_id);)",
};

std::once_flag registerSqlite, registerPostgres;

// pg_advisory_lock key held while a PostgreSQL store is migrated ("sbschema" in ASCII).
constexpr int64_t kSchemaLockKey = 0x7362736368656d61;

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// An error text with the connection string (which may hold the password) cut out.
std::string withoutConninfo(std::string text, const std::string& conninfo) {
    if (conninfo.empty()) return text;
    for (size_t at; (at = text.find(conninfo)) != std::string::npos;) text.replace(at, conninfo.size(), "<conninfo>");
    return text;
}

}  // namespace

Store::Store(const std::string& sqlitePath, std::shared_ptr<customer::IdentityResolver> resolver,
             std::shared_ptr<customer::ConversationThreader> threader)
    : Store(config::StoreConfig{"sqlite", sqlitePath, ""}, std::move(resolver), std::move(threader)) {}

Store::Store(const config::StoreConfig& config, std::shared_ptr<customer::IdentityResolver> resolver,
             std::shared_ptr<customer::ConversationThreader> threader)
    : resolver_(std::move(resolver)),
      threader_(std::move(threader)),
      dialect_(config.kind == "postgresql" ? SqlEngine::PostgreSQL : SqlEngine::SQLite) {
    if (dialect_.isPostgres()) openPostgres(config.postgresqlUrl);
    else openSqlite(config.sqlitePath);
    sql_ = std::make_unique<Sql>(*session_, dialect_);
    try {
        // Several hosts may share one PostgreSQL database (DESIGN.md, scale-out): one at a
        // time creates or upgrades the schema and the erasure key. Released with the session
        // if opening fails.
        if (dialect_.isPostgres()) *session_ << "SELECT pg_advisory_lock(" + std::to_string(kSchemaLockKey) + ")", now;
        migrate();
        loadErasureKey();
        if (dialect_.isPostgres()) *session_ << "SELECT pg_advisory_unlock(" + std::to_string(kSchemaLockKey) + ")", now;
        resolvePending();
        queue_ = std::make_unique<CommitQueue>(
            config.commit, [this](const std::vector<const CommitBatch*>& batches) { return commitGroup(batches); },
            [this] { heartbeat(); });
    } catch (const Poco::Exception& e) {
        const std::string text = e.displayText();
        throw std::runtime_error("cannot open store " + path_ + ": " +
                                 (dialect_.isPostgres() ? withoutConninfo(text, config.postgresqlUrl) : text));
    }
}

void Store::openSqlite(const std::string& sqlitePath) {
    path_ = sqlitePath;
    std::call_once(registerSqlite, [] { Poco::Data::SQLite::Connector::registerConnector(); });
    // POCO retries a failed open for its whole login timeout (60 s): check the obvious first.
    std::error_code ec;
    auto parent = std::filesystem::absolute(sqlitePath, ec).parent_path();
    if (!std::filesystem::is_directory(parent, ec))
        throw std::runtime_error("cannot open store " + sqlitePath + ": directory " + parent.string() +
                                 " does not exist");
    try {
        session_ = std::make_unique<Poco::Data::Session>("SQLite", sqlitePath, 5);
        // WAL lets readers run beside the writer; FULL makes each commit durable on disk.
        *session_ << "PRAGMA journal_mode=WAL", now;
        *session_ << "PRAGMA synchronous=FULL", now;
        *session_ << "PRAGMA busy_timeout=5000", now;
        *session_ << "PRAGMA foreign_keys=ON", now;
        // Deleted content is overwritten, not left in free pages: erasure must reach the disk.
        *session_ << "PRAGMA secure_delete=ON", now;
        // Identity resolution reads index pages at random (match keys, customer ids): a page
        // cache of 64 MiB instead of SQLite's 2 MiB default (bench/README.md, "bulk sync").
        *session_ << "PRAGMA cache_size=-65536", now;
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot open store " + sqlitePath + ": " + e.displayText());
    }
}

void Store::openPostgres(const std::string& conninfo) {
    // The conninfo may carry the password: only host, port and dbname reach messages.
    conninfo_ = conninfo;
    path_ = "postgresql " + describeConninfo(conninfo);
    if (conninfo.empty()) throw std::runtime_error("cannot open store postgresql: no connection string");
    std::call_once(registerPostgres, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
    try {
        // libpq waits forever for an unreachable host unless told otherwise.
        std::string withTimeout = conninfo;
        if (conninfo.find("://") == std::string::npos && conninfo.find("connect_timeout") == std::string::npos)
            withTimeout += " connect_timeout=10";
        // Connect once with libpq first: POCO 1.11 leaks the connection object when a connect
        // fails, and libpq's own message is the clearer one (it never holds the password).
        PGconn* probe = PQconnectdb(withTimeout.c_str());
        if (probe == nullptr || PQstatus(probe) != CONNECTION_OK) {
            std::string why = probe ? PQerrorMessage(probe) : "out of memory";
            if (probe) PQfinish(probe);
            while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
            throw std::runtime_error("cannot open store " + path_ + ": " + withoutConninfo(why, conninfo));
        }
        PQfinish(probe);
        session_ = std::make_unique<Poco::Data::Session>("PostgreSQL", withTimeout, 5);
        // Durable commits (the server default, stated so a tuned server cannot weaken it).
        *session_ << "SET synchronous_commit = on", now;
        *session_ << "SET client_min_messages = warning", now;
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot open store " + path_ + ": " + withoutConninfo(e.displayText(), conninfo));
    }
}

Store::~Store() {
    if (queue_) queue_->stop();  // commits what is queued, while the session is still open
}

int64_t Store::readSchemaVersion() {
    if (!dialect_.isPostgres()) {
        int version = 0;
        *session_ << "PRAGMA user_version", into(version), now;
        return version;
    }
    std::vector<int64_t> version;
    *session_ << "SELECT version FROM schema_version", into(version), now;
    return version.empty() ? 0 : version[0];
}

void Store::migrate() {
    if (dialect_.isPostgres()) {
        *session_ << "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", now;
        Poco::Data::Transaction tx(*session_);
        *session_ << "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
            now;
        tx.commit();
    }
    const int64_t version = readSchemaVersion();
    const int target = static_cast<int>(std::size(kMigrations));
    if (version > target)
        throw std::runtime_error("store " + path_ + " has schema version " + std::to_string(version) +
                                 ", newer than this switchboard's " + std::to_string(target) +
                                 "; use a newer switchboard or another store " +
                                 (dialect_.isPostgres() ? "database" : "file"));
    for (int v = static_cast<int>(version); v < target; ++v) {
        Poco::Data::Transaction tx(*session_);
        // POCO prepares one statement at a time: split the migration on ';'.
        std::string sql = dialect_.ddl(kMigrations[v]);
        size_t start = 0;
        while (start < sql.size()) {
            size_t end = sql.find(';', start);
            if (end == std::string::npos) end = sql.size();
            std::string stmt = sql.substr(start, end - start);
            if (stmt.find_first_not_of(" \n\t") != std::string::npos) *session_ << stmt, now;
            start = end + 1;
        }
        if (dialect_.isPostgres()) {
            int64_t next = v + 1;
            *session_ << "UPDATE schema_version SET version = $1", use(next), now;
        } else {
            *session_ << "PRAGMA user_version = " + std::to_string(v + 1), now;
        }
        tx.commit();
    }
}

void Store::loadErasureKey() {
    std::vector<std::string> value;
    *sql_ << "SELECT value FROM store_meta WHERE key = 'erasure_hash_key'", into(value), now;
    if (!value.empty()) {
        erasureKey_ = value[0];
        return;
    }
    // A random key per store: tombstone hashes cannot be reversed by hashing guessed emails.
    std::string key = customer::randomHex(64);
    *sql_ << "INSERT INTO store_meta (key, value) VALUES ('erasure_hash_key', ?)", use(key), now;
    erasureKey_ = key;
}

void Store::resolvePending() {
    if (!resolver_) return;
    // Committed before a crash (or before this schema) but not yet linked to a customer.
    std::vector<int64_t> ids;
    *sql_ << "SELECT id FROM messages WHERE customer_id IS NULL AND direction = 'inbound' ORDER BY id", into(ids),
        now;
    for (int64_t id : ids) {
        std::string connector, json, channel, sourceId, conversationId;
        int64_t receivedAt = 0, timelineAt = 0;
        *sql_ << "SELECT connector, normalized_json, received_at_ms, channel, source_id, conversation_id, "
                 "timeline_at_ms FROM messages WHERE id = ?",
            use(id), into(connector), into(json), into(receivedAt), into(channel), into(sourceId),
            into(conversationId), into(timelineAt), now;
        customer::ResolutionInput input{id, connector, "", {}, timelineAt, sourceId, {}};
        customer::ThreadingInput thread{id, "", connector, channel, sourceId, conversationId, "", {}, timelineAt};
        auto j = nlohmann::json::parse(json, nullptr, false);
        if (j.is_object()) {
            input.senderName = j.value("sender_name", "");
            for (const auto& i : j.value("sender", nlohmann::json::array()))
                input.sender.push_back({i.value("type", ""), i.value("value", ""), i.value("scope", "")});
            const nlohmann::json attributes = j.value("attributes", nlohmann::json::object());  // outlives items()
            for (const auto& [k, v] : attributes.items())
                if (k.rfind("customer.", 0) == 0 && v.is_string()) input.attributes.emplace_back(k.substr(9), v);
            thread.inReplyTo = j.value("in_reply_to", "");
            for (const auto& r : j.value("references", nlohmann::json::array()))
                if (r.is_string()) thread.references.push_back(r);
        }
        Poco::Data::Transaction tx(*session_);
        thread.customerId = resolver_->resolve(*sql_, input).customerId;
        if (threader_) threader_->assign(*sql_, thread);
        tx.commit();
    }
}

void Store::withSession(const std::function<void(Sql&)>& fn) {
    std::lock_guard lock(mutex_);
    fn(*sql_);
}

void Store::inTransaction(const std::function<void(Sql&)>& fn) {
    std::lock_guard lock(mutex_);
    Poco::Data::Transaction tx(*session_);
    fn(*sql_);
    tx.commit();
}

void Store::dryRun(const std::function<void(Sql&)>& fn) {
    std::lock_guard lock(mutex_);
    Poco::Data::Transaction tx(*session_);
    fn(*sql_);
    tx.rollback();
}

void Store::checkpointAndTruncateWal() {
    if (dialect_.isPostgres()) return;  // no WAL file of ours; see store.h
    std::lock_guard lock(mutex_);
    *session_ << "PRAGMA wal_checkpoint(TRUNCATE)", now;
}

int Store::schemaVersion() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(readSchemaVersion());
}

std::vector<CommitOutcome> Store::commit(const std::vector<MessageRecord>& messages,
                                         const std::optional<Checkpoint>& checkpoint, const std::string& connector) {
    return queue_->commit(CommitBatch{messages, checkpoint, connector});
}

std::vector<BatchResult> Store::commitGroup(const std::vector<const CommitBatch*>& batches) {
    auto results = commitGroupLocked(batches);
    if (afterCommitHook_) afterCommitHook_();
    return results;
}

std::vector<BatchResult> Store::commitGroupLocked(const std::vector<const CommitBatch*>& batches) {
    std::lock_guard lock(mutex_);
    std::vector<BatchResult> results(batches.size());
    reconnectIfLostLocked();
    try {
        beginWriteLocked();
    } catch (const Poco::Exception& e) {
        throw StoreFault(scrubbed("cannot begin a transaction on " + path_ + ": " + e.displayText()),
                         scrubbed(engineMessage(e)));
    }
    try {
        for (size_t i = 0; i < batches.size(); ++i) {
            const CommitBatch& batch = *batches[i];
            sql_->exec("SAVEPOINT sb_batch");
            try {
                results[i].outcomes = commitBatch(batch.messages, batch.checkpoint, batch.connector);
                sql_->exec("RELEASE SAVEPOINT sb_batch");
            } catch (const std::exception& e) {
                // This batch only: undo its writes and keep the others. If even that fails,
                // the transaction is gone and the outer catch fails the whole group.
                const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
                results[i].outcomes.clear();
                results[i].error = scrubbed(poco ? poco->displayText() : std::string(e.what()));
                results[i].storeFault = scrubbed(storeFaultCause(e).value_or(""));
                sql_->exec("ROLLBACK TO SAVEPOINT sb_batch");
                sql_->exec("RELEASE SAVEPOINT sb_batch");
            }
        }
        commitWriteLocked();
    } catch (const std::exception& e) {
        const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
        const std::string why = poco ? poco->displayText() : std::string(e.what());
        rollbackQuietlyLocked();
        throw StoreFault(scrubbed("the commit to " + path_ + " failed: " + why), scrubbed(engineMessage(e)));
    }
    return results;
}

void Store::beginWriteLocked() {
    // SQLite: take the write lock at once for the whole transaction (a deferred BEGIN would
    // wait for it again at each batch's first write while another process holds it).
    if (dialect_.isPostgres()) session_->begin();
    else *session_ << "BEGIN IMMEDIATE", now;
}

void Store::commitWriteLocked() {
    if (dialect_.isPostgres()) session_->commit();
    else *session_ << "COMMIT", now;
}

void Store::rollbackQuietlyLocked() {
    try {
        if (dialect_.isPostgres()) session_->rollback();
        else *session_ << "ROLLBACK", now;
    } catch (const std::exception&) {
        // SQLite may have rolled back already (disk full, I/O error): nothing left to undo.
    }
}

std::string Store::scrubbed(std::string text) const { return withoutConninfo(std::move(text), conninfo_); }

std::vector<CommitOutcome> Store::commitBatch(const std::vector<MessageRecord>& messages,
                                              const std::optional<Checkpoint>& checkpoint,
                                              const std::string& connector) {
    std::vector<CommitOutcome> outcomes;
    outcomes.reserve(messages.size());
    for (const auto& m : messages) {
        // A redelivery of a message whose person was erased is acknowledged, never stored again.
        if (customer::isErasedMessage(*sql_, erasureKey_, m.connector, m.sourceId)) {
            outcomes.push_back(CommitOutcome::Duplicate);
            continue;
        }
        // The timeline sorts by when it happened at the source, else when it arrived.
        int64_t timelineAt = m.occurredAtMs > 0 ? m.occurredAtMs : m.receivedAtMs;
        // A row back from RETURNING means stored; none means (connector, source_id) was there.
        const auto inserted = sql_->query(
            "INSERT INTO messages (connector, source_id, channel, direction, conversation_id, occurred_at_ms, "
            "received_at_ms, subject, text, normalized_json, raw_content_type, raw, timeline_at_ms) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (connector, source_id) DO NOTHING RETURNING id",
            {m.connector, m.sourceId, m.channel, m.direction, m.conversationId, m.occurredAtMs, m.receivedAtMs,
             m.subject, m.text, m.normalizedJson, m.rawContentType, SqlBlob{m.raw}, timelineAt});
        const bool stored = !inserted.empty();
        outcomes.push_back(stored ? CommitOutcome::Stored : CommitOutcome::Duplicate);
        if (stored) {
            const int64_t rowId = inserted[0].integer(0);
            if (resolver_ && m.direction == "inbound") {
                auto resolved = resolver_->resolve(*sql_, {rowId, m.connector, m.senderName, m.sender, timelineAt,
                                                               m.sourceId, m.customerAttributes});
                std::string threadId;
                if (threader_)
                    threadId = threader_->assign(*sql_, {rowId, resolved.customerId, m.connector, m.channel,
                                                         m.sourceId, m.conversationId, m.inReplyTo, m.references,
                                                         timelineAt});
                if (inboundHook_) inboundHook_(*sql_, StoredInbound{rowId, m, resolved.customerId, threadId, timelineAt});
            }
        }
    }
    if (checkpoint) {
        sql_->exec("INSERT INTO checkpoints (connector, key, value, updated_at_ms) VALUES (?,?,?,?) "
                   "ON CONFLICT (connector, key) DO UPDATE SET value = excluded.value, "
                   "updated_at_ms = excluded.updated_at_ms",
                   {connector, checkpoint->key, checkpoint->value, nowMs()});
    }
    return outcomes;
}

std::optional<std::string> Store::checkpoint(const std::string& connector, const std::string& key) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> values;
    std::string c = connector, k = key;
    *sql_ << "SELECT value FROM checkpoints WHERE connector = ? AND key = ?", use(c), use(k), into(values), now;
    if (values.empty()) return std::nullopt;
    return values.front();
}

void Store::putCheckpoint(const std::string& connector, const std::string& key, const std::string& value) {
    commit({}, Checkpoint{key, value}, connector);
}

int64_t Store::messageCount() {
    std::lock_guard lock(mutex_);
    int64_t n = 0;
    *sql_ << "SELECT COUNT(*) FROM messages", into(n), now;
    return n;
}

std::optional<MessageRecord> Store::findMessage(const std::string& connector, const std::string& sourceId) {
    std::lock_guard lock(mutex_);
    std::string c = connector, s = sourceId;
    MessageRecord m;
    Poco::Data::BLOB raw;
    Statement select = *sql_ << "SELECT connector, channel, direction, source_id, conversation_id, occurred_at_ms, "
                                "received_at_ms, subject, text, normalized_json, raw_content_type, raw FROM messages "
                                "WHERE connector = ? AND source_id = ?";
    select, use(c), use(s), into(m.connector), into(m.channel), into(m.direction), into(m.sourceId),
        into(m.conversationId), into(m.occurredAtMs), into(m.receivedAtMs), into(m.subject), into(m.text),
        into(m.normalizedJson), into(m.rawContentType), into(raw), range(0, 1);
    if (select.execute() == 0) return std::nullopt;
    m.raw.assign(reinterpret_cast<const char*>(raw.rawContent()), raw.size());
    return m;
}

}  // namespace switchboard::host
