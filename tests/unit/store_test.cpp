#include "test_support.h"

#include "store/store.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

using namespace switchboard::host;
using switchboard::test::TempDir;

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

}  // namespace

TEST(Store, CommitsAndDedupesOnInstanceAndSourceId) {
    TempDir dir;
    Store store(dir.file("s.db"));
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

TEST(Store, CheckpointCommitsWithTheBatchAndSurvivesReopen) {
    TempDir dir;
    {
        Store store(dir.file("s.db"));
        EXPECT_FALSE(store.checkpoint("imap", "INBOX").has_value());
        store.commit({record("1")}, Checkpoint{"INBOX", "uid:41"}, "imap");
        store.commit({record("2")}, Checkpoint{"INBOX", "uid:42"}, "imap");
        store.putCheckpoint("imap", "Sent", "uid:7");
    }
    Store reopened(dir.file("s.db"));
    EXPECT_EQ(reopened.checkpoint("imap", "INBOX"), "uid:42");
    EXPECT_EQ(reopened.checkpoint("imap", "Sent"), "uid:7");
    EXPECT_FALSE(reopened.checkpoint("other", "INBOX").has_value());
    EXPECT_EQ(reopened.messageCount(), 2);
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
        s << "INSERT INTO messages (connector, source_id, channel, direction, received_at_ms, normalized_json) VALUES "
             "('chat', 'old-1', 'webchat', 'inbound', 10, "
             "'{\"sender_name\":\"Ana\",\"sender\":[{\"type\":\"email\",\"value\":\"Ana@Example.com\",\"scope\":\"\"}]}'),"
             "('chat', 'old-2', 'webchat', 'inbound', 20, "
             "'{\"sender\":[{\"type\":\"email\",\"value\":\"ana@example.com\",\"scope\":\"\"}]}')", now;
        s << "INSERT INTO checkpoints VALUES ('imap', 'INBOX', 'uid:9', 1)", now;
        s << "PRAGMA user_version = 1", now;
    }
    switchboard::host::config::IdentityConfig identity;
    auto resolver = std::make_shared<switchboard::host::customer::IdentityResolver>(identity);
    Store store(path, resolver);
    EXPECT_GE(store.schemaVersion(), 2);  // upgraded to the latest, whatever came after 2
    EXPECT_EQ(store.checkpoint("imap", "INBOX"), "uid:9");
    std::vector<std::string> owners;
    std::string name;
    store.withSession([&](Poco::Data::Session& s) {
        using namespace Poco::Data::Keywords;
        s << "SELECT customer_id FROM messages ORDER BY id", into(owners), now;
        s << "SELECT display_name FROM customers", into(name), now;
    });
    ASSERT_EQ(owners.size(), 2u);
    EXPECT_FALSE(owners[0].empty());
    EXPECT_EQ(owners[0], owners[1]);  // case-insensitive email: one customer
    EXPECT_EQ(name, "Ana");
}
