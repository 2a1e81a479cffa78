#include "store/store.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Data/Transaction.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

using namespace Poco::Data::Keywords;
using Poco::Data::Statement;

namespace switchboard::host {

namespace {

// Schema migrations, applied in order; the index + 1 is the schema version. Append only.
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
};

std::once_flag registerOnce;

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Store::Store(const std::string& sqlitePath) : path_(sqlitePath) {
    std::call_once(registerOnce, [] { Poco::Data::SQLite::Connector::registerConnector(); });
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
        migrate();
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot open store " + sqlitePath + ": " + e.displayText());
    }
}

Store::~Store() = default;

void Store::migrate() {
    int version = 0;
    *session_ << "PRAGMA user_version", into(version), now;
    const int target = static_cast<int>(std::size(kMigrations));
    if (version > target)
        throw std::runtime_error("store " + path_ + " has schema version " + std::to_string(version) +
                                 ", newer than this switchboard's " + std::to_string(target) +
                                 "; use a newer switchboard or another store file");
    for (int v = version; v < target; ++v) {
        Poco::Data::Transaction tx(*session_);
        // POCO prepares one statement at a time: split the migration on ';'.
        std::string sql = kMigrations[v];
        size_t start = 0;
        while (start < sql.size()) {
            size_t end = sql.find(';', start);
            if (end == std::string::npos) end = sql.size();
            std::string stmt = sql.substr(start, end - start);
            if (stmt.find_first_not_of(" \n\t") != std::string::npos) *session_ << stmt, now;
            start = end + 1;
        }
        *session_ << "PRAGMA user_version = " + std::to_string(v + 1), now;
        tx.commit();
    }
}

int Store::schemaVersion() {
    std::lock_guard lock(mutex_);
    int version = 0;
    *session_ << "PRAGMA user_version", into(version), now;
    return version;
}

std::vector<CommitOutcome> Store::commit(const std::vector<MessageRecord>& messages,
                                         const std::optional<Checkpoint>& checkpoint, const std::string& connector) {
    std::lock_guard lock(mutex_);
    std::vector<CommitOutcome> outcomes;
    outcomes.reserve(messages.size());
    Poco::Data::Transaction tx(*session_);
    for (const auto& m : messages) {
        Poco::Data::BLOB raw(reinterpret_cast<const unsigned char*>(m.raw.data()), m.raw.size());
        Statement insert(*session_);
        insert << "INSERT OR IGNORE INTO messages (connector, source_id, channel, direction, conversation_id, "
                  "occurred_at_ms, received_at_ms, subject, text, normalized_json, raw_content_type, raw) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            useRef(m.connector), useRef(m.sourceId), useRef(m.channel), useRef(m.direction),
            useRef(m.conversationId), useRef(m.occurredAtMs), useRef(m.receivedAtMs), useRef(m.subject),
            useRef(m.text), useRef(m.normalizedJson), useRef(m.rawContentType), use(raw);
        size_t changed = insert.execute();
        outcomes.push_back(changed > 0 ? CommitOutcome::Stored : CommitOutcome::Duplicate);
    }
    if (checkpoint) {
        int64_t at = nowMs();
        std::string key = checkpoint->key, value = checkpoint->value, conn = connector;
        *session_ << "INSERT INTO checkpoints (connector, key, value, updated_at_ms) VALUES (?,?,?,?) "
                     "ON CONFLICT (connector, key) DO UPDATE SET value = excluded.value, "
                     "updated_at_ms = excluded.updated_at_ms",
            use(conn), use(key), use(value), use(at), now;
    }
    tx.commit();
    return outcomes;
}

std::optional<std::string> Store::checkpoint(const std::string& connector, const std::string& key) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> values;
    std::string c = connector, k = key;
    *session_ << "SELECT value FROM checkpoints WHERE connector = ? AND key = ?", use(c), use(k), into(values), now;
    if (values.empty()) return std::nullopt;
    return values.front();
}

void Store::putCheckpoint(const std::string& connector, const std::string& key, const std::string& value) {
    commit({}, Checkpoint{key, value}, connector);
}

int64_t Store::messageCount() {
    std::lock_guard lock(mutex_);
    int64_t n = 0;
    *session_ << "SELECT COUNT(*) FROM messages", into(n), now;
    return n;
}

std::optional<MessageRecord> Store::findMessage(const std::string& connector, const std::string& sourceId) {
    std::lock_guard lock(mutex_);
    std::string c = connector, s = sourceId;
    Statement select(*session_);
    MessageRecord m;
    Poco::Data::BLOB raw;
    select << "SELECT connector, channel, direction, source_id, conversation_id, occurred_at_ms, received_at_ms, "
              "subject, text, normalized_json, raw_content_type, raw FROM messages "
              "WHERE connector = ? AND source_id = ?",
        use(c), use(s), into(m.connector), into(m.channel), into(m.direction), into(m.sourceId),
        into(m.conversationId), into(m.occurredAtMs), into(m.receivedAtMs), into(m.subject), into(m.text),
        into(m.normalizedJson), into(m.rawContentType), into(raw), range(0, 1);
    if (select.execute() == 0) return std::nullopt;
    m.raw.assign(reinterpret_cast<const char*>(raw.rawContent()), raw.size());
    return m;
}

}  // namespace switchboard::host
