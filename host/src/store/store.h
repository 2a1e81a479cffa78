// The durable store of everything connectors emit. Embedded default: one SQLite file in
// WAL mode with synchronous=FULL (through POCO Data), so a committed batch survives kill -9
// and power loss. Shared store: a PostgreSQL database (store: postgresql: url), same schema
// and behaviour; the few dialect differences live in store/sql_dialect.h. A batch's messages and its source checkpoint commit in one transaction;
// a message already stored under the same (instance, source id) is reported as a duplicate
// and not stored again.
#pragma once

#include "customer/resolver.h"
#include "customer/threading.h"
#include "store/sql.h"
#include "store/sql_dialect.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::host {

// One inbound or outbound message as the host keeps it, before identity resolution.
struct MessageRecord {
    std::string connector;  // instance name
    std::string channel;
    std::string direction;  // "inbound" | "outbound"
    std::string sourceId;
    std::string conversationId;
    int64_t occurredAtMs = 0;
    int64_t receivedAtMs = 0;
    std::string subject;
    std::string text;
    std::string normalizedJson;  // the whole normalized message (identities, attachments, ...)
    std::string rawContentType;
    std::string raw;
    // For identity resolution and threading (also inside normalizedJson).
    std::string senderName;
    std::vector<customer::SenderIdentity> sender;
    std::string inReplyTo;
    std::vector<std::string> references;
    std::vector<std::pair<std::string, std::string>> customerAttributes;  // "customer.x" → ("x", v)
};

enum class CommitOutcome { Stored, Duplicate };

// A newly stored inbound message after identity resolution and threading, handed to the
// inbound hook inside the commit transaction (routing and its outbox entries commit with it).
struct StoredInbound {
    int64_t messageId = 0;  // messages.id
    const MessageRecord& message;
    std::string customerId;
    std::string threadId;
    int64_t timelineAtMs = 0;
};
using InboundHook = std::function<void(Sql&, const StoredInbound&)>;

struct Checkpoint {
    std::string key;
    std::string value;
};

class CommitQueue;   // store/commit_queue.h
struct CommitBatch;  // store/commit_queue.h
struct BatchResult;  // store/commit_queue.h

class Store {
public:
    // Opens (creating when absent) and migrates the file to the current schema. Throws
    // std::runtime_error naming the path on failure.
    // The config's store: a SQLite file, or a PostgreSQL database (errors name host, port and
    // dbname, never the conninfo's password).
    explicit Store(const config::StoreConfig& config, std::shared_ptr<customer::IdentityResolver> resolver = nullptr,
                   std::shared_ptr<customer::ConversationThreader> threader = nullptr);
    // With a resolver, every newly stored inbound message is linked to a customer in the
    // same transaction, and messages a crash left unresolved are resolved at open.
    // With a threader too, each resolved message is put into a conversation.
    explicit Store(const std::string& sqlitePath, std::shared_ptr<customer::IdentityResolver> resolver = nullptr,
                   std::shared_ptr<customer::ConversationThreader> threader = nullptr);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // One atomic batch: every message (dedupe on connector+sourceId) plus the checkpoint. Goes
    // through the commit queue (grouped with other batches in one transaction); throws
    // StoreBehind or CommitFailed (store/commit_queue.h) when not committed.
    std::vector<CommitOutcome> commit(const std::vector<MessageRecord>& messages,
                                      const std::optional<Checkpoint>& checkpoint, const std::string& connector);
    // The group commit queue every commit goes through (emits use it directly).
    CommitQueue& commitQueue() { return *queue_; }
    // Commits several batches in ONE transaction, each in its own savepoint: a batch that fails
    // is rolled back alone and gets its error; throws when the transaction itself fails.
    // Called by the commit queue's writer thread.
    std::vector<BatchResult> commitGroup(const std::vector<const CommitBatch*>& batches);

    // Runs after resolution and threading of each newly stored inbound message, in the same
    // transaction: what it writes commits (or rolls back) with the message. Set before use.
    void setInboundHook(InboundHook hook) { inboundHook_ = std::move(hook); }
    // Runs after each group transaction commits (outside the store's lock): what the inbound
    // hook wrote is now visible to other sessions (the outbox dispatcher is woken here).
    void setAfterCommitHook(std::function<void()> hook) { afterCommitHook_ = std::move(hook); }

    std::optional<std::string> checkpoint(const std::string& connector, const std::string& key);
    void putCheckpoint(const std::string& connector, const std::string& key, const std::string& value);

    int64_t messageCount();
    std::optional<MessageRecord> findMessage(const std::string& connector, const std::string& sourceId);
    int schemaVersion();
    // The identity resolver stored messages are linked with (its normalizer makes match keys);
    // nullptr when the store was opened without one.
    const customer::IdentityResolver* resolver() const { return resolver_.get(); }
    // The per-store key of erasure tombstone hashes (customer/privacy.h).
    const std::string& erasureKey() const { return erasureKey_; }
    // Runs fn with the session under the store's lock (queries that need several statements).
    // Write SQL with `?` placeholders: Sql translates them for the engine.
    void withSession(const std::function<void(Sql&)>& fn);
    // Same, inside one transaction committed when fn returns (rolled back if it throws).
    void inTransaction(const std::function<void(Sql&)>& fn);
    // Same, but everything fn wrote is rolled back: "what would happen if" (match preview).
    void dryRun(const std::function<void(Sql&)>& fn);
    // A small durable write (one row of store_meta rewritten in place: the file does not grow)
    // through the writer's session, reconnecting a lost PostgreSQL session first; throws
    // StoreFault when it cannot commit. The commit queue runs it while the store is failing.
    void heartbeat();
    // SQLite: copies the WAL into the database file and truncates it, so no old page version
    // of erased rows stays on disk in the WAL. PostgreSQL: nothing (VACUUM is the equivalent
    // for dead row versions; autovacuum runs it, not each erasure).
    void checkpointAndTruncateWal();
    // The SQLite file, or "postgresql host=... port=... dbname=..." (no secrets).
    const std::string& path() const { return path_; }
    const SqlDialect& dialect() const { return dialect_; }

private:
    void openSqlite(const std::string& path);
    void openPostgres(const std::string& conninfo);
    void migrate();
    int64_t readSchemaVersion();
    void resolvePending();
    void loadErasureKey();
    std::vector<BatchResult> commitGroupLocked(const std::vector<const CommitBatch*>& batches);
    void beginWriteLocked();
    void commitWriteLocked();
    void rollbackQuietlyLocked();
    // PostgreSQL: a new session when the server dropped this one (restart, failover), at most
    // once a second; throws StoreFault when it cannot connect. SQLite: nothing.
    void reconnectIfLostLocked();
    // text without the PostgreSQL conninfo (it may hold the password).
    std::string scrubbed(std::string text) const;
    // One batch's writes inside the open transaction (mutex_ held).
    std::vector<CommitOutcome> commitBatch(const std::vector<MessageRecord>& messages,
                                           const std::optional<Checkpoint>& checkpoint, const std::string& connector);
    std::string erasureKey_;
    std::string path_;
    std::string conninfo_;  // PostgreSQL, to reconnect: may hold the password, never in a message
    std::chrono::steady_clock::time_point lastReconnect_{};
    std::string reconnectError_ = "the connection to the server was lost";  // the last connect's
    std::shared_ptr<customer::IdentityResolver> resolver_;
    std::shared_ptr<customer::ConversationThreader> threader_;
    InboundHook inboundHook_;
    std::function<void()> afterCommitHook_;
    SqlDialect dialect_;
    std::mutex mutex_;  // one writer: SQLite serializes writers anyway; PostgreSQL: one session
    std::unique_ptr<Poco::Data::Session> session_;
    std::unique_ptr<Sql> sql_;  // session_ with the dialect's placeholders
    std::unique_ptr<CommitQueue> queue_;  // last: its writer stops before the session closes
};

}  // namespace switchboard::host
