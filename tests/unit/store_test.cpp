// The store, against both engines: SQLite (the embedded default) and PostgreSQL (a real
// server from postgres_server.h). Engine-specific checks (WAL, PRAGMA user_version vs the
// schema_version table) are separate tests per engine.
#include "postgres_server.h"
#include "test_support.h"

#include "store/store.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace switchboard::host;
using switchboard::test::TempDir;
using switchboard::test::testStoreConfig;

namespace {

MessageRecord record(const std::string& id, const std::string& text = "hi") {
    MessageRecord m;
    m.connector = "chat";
    m.channel = "webchat";
    m.direction = "inbound";
    m.sourceId = id;
    m.text = text;
    m.receivedAtMs = 1;
    m.normalizedJson = "{}";
    m.raw = std::string("raw\0bytes", 9);
    return m;
}

// A raw session on a test store's database, outside Store (to fake old or newer schemas).
Poco::Data::Session rawSession(const config::StoreConfig& c) {
    if (c.kind == "postgresql") {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        return Poco::Data::Session("PostgreSQL", c.postgresqlUrl);
    }
    Poco::Data::SQLite::Connector::registerConnector();
    return Poco::Data::Session("SQLite", c.sqlitePath);
}

class StoreOn : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    config::StoreConfig config = testStoreConfig(GetParam(), dir);
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, StoreOn, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(StoreOn, CommitsAndDedupesOnInstanceAndSourceId) {
    Store store(config);
    auto first = store.commit({record("a"), record("b")}, std::nullopt, "chat");
    EXPECT_EQ(first, (std::vector<CommitOutcome>{CommitOutcome::Stored, CommitOutcome::Stored}));
    auto second = store.commit({record("b", "changed"), record("c")}, std::nullopt, "chat");
    EXPECT_EQ(second, (std::vector<CommitOutcome>{CommitOutcome::Duplicate, CommitOutcome::Stored}));
    EXPECT_EQ(store.messageCount(), 3);
    // The first copy wins: a redelivery never overwrites what was acknowledged.
    EXPECT_EQ(store.findMessage("chat", "b")->text, "hi");
    EXPECT_EQ(store.findMessage("chat", "a")->raw, std::string("raw\0bytes", 9));
    EXPECT_FALSE(store.findMessage("other", "a").has_value());
}

TEST_P(StoreOn, CheckpointCommitsWithTheBatchAndSurvivesReopen) {
    {
        Store store(config);
        EXPECT_FALSE(store.checkpoint("imap", "INBOX").has_value());
        store.commit({record("1")}, Checkpoint{"INBOX", "uid:41"}, "imap");
        store.commit({record("2")}, Checkpoint{"INBOX", "uid:42"}, "imap");
        store.putCheckpoint("imap", "Sent", "uid:7");
    }
    Store reopened(config);
    EXPECT_EQ(reopened.checkpoint("imap", "INBOX"), "uid:42");
    EXPECT_EQ(reopened.checkpoint("imap", "Sent"), "uid:7");
    EXPECT_FALSE(reopened.checkpoint("other", "INBOX").has_value());
    EXPECT_EQ(reopened.messageCount(), 2);
}

TEST_P(StoreOn, RefusesANewerSchema) {
    { Store store(config); EXPECT_GE(store.schemaVersion(), 1); }
    {
        Poco::Data::Session s = rawSession(config);
        if (GetParam() == "postgresql") s << "UPDATE schema_version SET version = 999", Poco::Data::Keywords::now;
        else s << "PRAGMA user_version = 999", Poco::Data::Keywords::now;
    }
    try {
        Store newer(config);
        FAIL() << "a store from a newer switchboard was opened";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
    }
}

TEST(Store, UsesWalAndRefusesANewerSchema) {
    TempDir dir;
    const std::string path = dir.file("s.db");
    { Store store(path); EXPECT_GE(store.schemaVersion(), 1); }
    {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session s("SQLite", path);
        std::string mode;
        s << "PRAGMA journal_mode", Poco::Data::Keywords::into(mode), Poco::Data::Keywords::now;
        EXPECT_EQ(mode, "wal");
        s << "PRAGMA user_version = 999", Poco::Data::Keywords::now;
    }
    try {
        Store newer(path);
        FAIL() << "a store file from a newer switchboard was opened";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
}

TEST(Store, UnopenablePathNamesThePath) {
    try {
        Store store("/nonexistent-dir/x/y.db");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/y.db"), std::string::npos);
    }
}

namespace {

// The rows of a schema-1 store (first release: messages and checkpoints only), written
// through the engine's own session; the DDL before them is the engine's.
void insertSchema1Rows(Poco::Data::Session& s) {
    using namespace Poco::Data::Keywords;
        s << "INSERT INTO messages (connector, source_id, channel, direction, received_at_ms, normalized_json) VALUES "
             "('chat', 'old-1', 'webchat', 'inbound', 10, "
             "'{\"sender_name\":\"Ana\",\"sender\":[{\"type\":\"email\",\"value\":\"Ana@Example.com\",\"scope\":\"\"}]}'),"
             "('chat', 'old-2', 'webchat', 'inbound', 20, "
             "'{\"sender\":[{\"type\":\"email\",\"value\":\"ana@example.com\",\"scope\":\"\"}]}')", now;
        s << "INSERT INTO checkpoints VALUES ('imap', 'INBOX', 'uid:9', 1)", now;
}

// After the upgrade: the latest schema, the checkpoint kept, and both old messages linked to
// one customer (the emails differ only in case) named from the first message.
void expectUpgradedAndResolved(Store& store) {
    EXPECT_GE(store.schemaVersion(), 2);  // upgraded to the latest, whatever came after 2
    EXPECT_EQ(store.checkpoint("imap", "INBOX"), "uid:9");
    std::vector<std::string> owners;
    std::string name;
    store.withSession([&](Sql& s) {
        using namespace Poco::Data::Keywords;
        s << "SELECT customer_id FROM messages ORDER BY id", into(owners), now;
        s << "SELECT display_name FROM customers", into(name), now;
    });
    ASSERT_EQ(owners.size(), 2u);
    EXPECT_FALSE(owners[0].empty());
    EXPECT_EQ(owners[0], owners[1]);  // case-insensitive email: one customer
    EXPECT_EQ(name, "Ana");
}

}  // namespace

// A file written by the first release (schema 1: messages, no customers) is upgraded in
// place, and its messages are linked to customers as if they had just arrived.
TEST(Store, UpgradesASchema1FileInPlaceAndResolvesItsMessages) {
    TempDir dir;
    const std::string path = dir.file("old.db");
    {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session s("SQLite", path);
        using namespace Poco::Data::Keywords;
        s << "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, "
             "source_id TEXT NOT NULL, channel TEXT NOT NULL, direction TEXT NOT NULL, conversation_id TEXT NOT NULL "
             "DEFAULT '', occurred_at_ms INTEGER NOT NULL DEFAULT 0, received_at_ms INTEGER NOT NULL, subject TEXT NOT "
             "NULL DEFAULT '', text TEXT NOT NULL DEFAULT '', normalized_json TEXT NOT NULL, raw_content_type TEXT NOT "
             "NULL DEFAULT '', raw BLOB, UNIQUE (connector, source_id))", now;
        s << "CREATE TABLE checkpoints (connector TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
             "updated_at_ms INTEGER NOT NULL, PRIMARY KEY (connector, key))", now;
        insertSchema1Rows(s);
        s << "PRAGMA user_version = 1", now;
    }
    switchboard::host::config::IdentityConfig identity;
    auto resolver = std::make_shared<switchboard::host::customer::IdentityResolver>(identity);
    Store store(path, resolver);
    expectUpgradedAndResolved(store);
}

// PostgreSQL keeps the schema version in a one-row table, at the same number as SQLite.
TEST(StorePostgres, RecordsTheSchemaVersionInATable) {
    TempDir dir;
    auto pg = testStoreConfig("postgresql", dir);
    auto lite = testStoreConfig("sqlite", dir);
    int sqliteVersion = Store(lite).schemaVersion();
    { Store store(pg); EXPECT_EQ(store.schemaVersion(), sqliteVersion); }
    Poco::Data::Session s = rawSession(pg);
    std::vector<int64_t> versions;
    s << "SELECT version FROM schema_version", Poco::Data::Keywords::into(versions), Poco::Data::Keywords::now;
    EXPECT_EQ(versions, std::vector<int64_t>{sqliteVersion});
    // Millisecond timestamps need 64 bits: no 32-bit integer column anywhere.
    int64_t narrow = -1;
    s << "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'integer'",
        Poco::Data::Keywords::into(narrow), Poco::Data::Keywords::now;
    EXPECT_EQ(narrow, 0);
}

// A database at schema 1 (messages only) is upgraded in place and its messages resolved.
TEST(StorePostgres, UpgradesASchema1DatabaseInPlaceAndResolvesItsMessages) {
    TempDir dir;
    auto pg = testStoreConfig("postgresql", dir);
    {
        Poco::Data::Session s = rawSession(pg);
        using namespace Poco::Data::Keywords;
        s << "CREATE TABLE schema_version (version BIGINT NOT NULL)", now;
        s << "INSERT INTO schema_version VALUES (1)", now;
        s << "CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, connector TEXT NOT NULL, source_id TEXT NOT NULL, "
             "channel TEXT NOT NULL, direction TEXT NOT NULL, conversation_id TEXT NOT NULL DEFAULT '', "
             "occurred_at_ms BIGINT NOT NULL DEFAULT 0, received_at_ms BIGINT NOT NULL, subject TEXT NOT NULL "
             "DEFAULT '', text TEXT NOT NULL DEFAULT '', normalized_json TEXT NOT NULL, raw_content_type TEXT NOT "
             "NULL DEFAULT '', raw BYTEA, UNIQUE (connector, source_id))", now;
        s << "CREATE TABLE checkpoints (connector TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
             "updated_at_ms BIGINT NOT NULL, PRIMARY KEY (connector, key))", now;
        insertSchema1Rows(s);
    }
    auto resolver = std::make_shared<customer::IdentityResolver>(config::IdentityConfig{});
    Store store(pg, resolver);
    expectUpgradedAndResolved(store);
}

// An unreachable server: the error names host, port and dbname, never the password.
TEST(StorePostgres, AnUnreachableServerIsNamedWithoutThePassword) {
    config::StoreConfig c;
    c.kind = "postgresql";
    c.postgresqlUrl = "host=127.0.0.1 port=" + std::to_string(switchboard::test::freePort()) +
                      " dbname=nowhere user=sb password=hunter2-secret connect_timeout=2";
    try {
        Store store(c);
        FAIL() << "opened a store on a closed port";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("host=127.0.0.1"), std::string::npos) << what;
        EXPECT_NE(what.find("dbname=nowhere"), std::string::npos) << what;
        EXPECT_EQ(what.find("hunter2-secret"), std::string::npos) << what;
    }
}

// One SQL text for both engines: `?` becomes $n on PostgreSQL, never inside quotes or comments.
TEST(SqlDialect, NumbersPlaceholdersOutsideQuotesOnly) {
    EXPECT_EQ(numberPlaceholders("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND d = '?' AND \"e?\" = ?"),
              "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '?' AND \"e?\" = $3");
    EXPECT_EQ(numberPlaceholders("SELECT 'it''s ?', ? -- why?\n, ?"), "SELECT 'it''s ?', $1 -- why?\n, $2");
    SqlDialect lite(SqlEngine::SQLite), pg(SqlEngine::PostgreSQL);
    EXPECT_EQ(lite.placeholders("a = ? AND b = ?"), "a = ? AND b = ?");
    EXPECT_EQ(pg.placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
}

TEST(SqlDialect, TranslatesSqliteDdlForPostgres) {
    SqlDialect lite(SqlEngine::SQLite), pg(SqlEngine::PostgreSQL);
    const std::string ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, "
                            "raw BLOB, integers_seen TEXT); CREATE INDEX t_name ON t (display_name COLLATE NOCASE)";
    EXPECT_EQ(lite.ddl(ddl), ddl);
    EXPECT_EQ(pg.ddl(ddl), "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, raw BYTEA, "
                           "integers_seen TEXT); CREATE INDEX t_name ON t (lower(display_name))");
}

TEST(SqlDialect, DescribesAConninfoWithoutItsSecrets) {
    EXPECT_EQ(describeConninfo("host=db.internal port=5432 user=sb password=hunter2 dbname=switchboard"),
              "host=db.internal port=5432 dbname=switchboard");
    EXPECT_EQ(describeConninfo("dbname = 'my db' password='a b' host=h"), "host=h dbname=my db");
    EXPECT_EQ(describeConninfo("postgresql://sb:hunter2@db.internal:6432/switchboard?sslmode=require"),
              "host=db.internal port=6432 dbname=switchboard");
}

// Hosts sharing one PostgreSQL database may start together: one creates the schema, the
// others wait for it and then find it current.
TEST(StorePostgres, HostsStartingTogetherOnOneDatabaseAllOpenIt) {
    TempDir dir;
    auto pg = testStoreConfig("postgresql", dir);
    std::vector<std::thread> hosts;
    std::atomic<int> opened{0};
    for (int i = 0; i < 4; ++i)
        hosts.emplace_back([&] {
            try {
                Store store(pg);
                ++opened;
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        });
    for (auto& h : hosts) h.join();
    EXPECT_EQ(opened, 4);
    Store store(pg);
    EXPECT_EQ(store.commit({record("once")}, std::nullopt, "chat"), std::vector<CommitOutcome>{CommitOutcome::Stored});
}
