// Store health (what /readyz reports) through a real Store: a store that cannot write
// (SQLite with every file write refused, as on a full disk; a PostgreSQL batch failing with
// disk_full; a PostgreSQL connection dropped by the server) is unhealthy with the engine's
// reason, and healthy again by itself (the heartbeat) once it can commit, without traffic.
// The heartbeat rewrites one row: the store does not grow however long it fails.
#include "test_support.h"

#include "customer/resolver.h"
#include "store/commit_queue.h"
#include "store/store.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <thread>

using namespace switchboard::host;
using namespace Poco::Data::Keywords;
using switchboard::test::TempDir;
using switchboard::test::testStoreConfig;
using switchboard::test::waitFor;
using ::testing::HasSubstr;
using ::testing::Not;

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
    m.sender = {{"external", "visitor:" + id, ""}};
    return m;
}

int64_t scalar(Store& store, const std::string& sql) {
    int64_t n = -1;
    store.withSession([&](Sql& s) { s << sql, into(n), now; });
    return n;
}

// While alive, this process may write no byte to any regular file (RLIMIT_FSIZE 0: every
// write fails with EFBIG, which SQLite reports as a disk I/O error): a disk that takes nothing.
class NoFileWrites {
public:
    NoFileWrites() {
        std::signal(SIGXFSZ, SIG_IGN);  // else the kernel kills the process at the first write
        getrlimit(RLIMIT_FSIZE, &saved_);
        rlimit none = saved_;
        none.rlim_cur = 0;
        setrlimit(RLIMIT_FSIZE, &none);
    }
    ~NoFileWrites() { restore(); }
    void restore() { setrlimit(RLIMIT_FSIZE, &saved_); }

private:
    rlimit saved_{};
};

bool healthy(Store& store) { return store.commitQueue().health().healthy; }

class StoreHealthOn : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    config::StoreConfig config = testStoreConfig(GetParam(), dir);
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, StoreHealthOn, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(StoreHealthOn, TheHeartbeatWritesOneRowInPlaceAndTheStoreDoesNotGrow) {
    Store store(config);
    store.heartbeat();
    const int64_t pages = GetParam() == "sqlite" ? scalar(store, "PRAGMA page_count") : 0;
    for (int i = 0; i < 200; ++i) store.heartbeat();
    EXPECT_EQ(scalar(store, "SELECT COUNT(*) FROM store_meta WHERE key = 'heartbeat'"), 1);
    if (GetParam() == "sqlite") {
        EXPECT_EQ(scalar(store, "PRAGMA page_count"), pages);
    }
    // It is a real write of about a page, not an empty transaction.
    EXPECT_GE(scalar(store, "SELECT CAST(LENGTH(value) AS BIGINT) FROM store_meta WHERE key = 'heartbeat'"), 4096);
    EXPECT_EQ(store.commitQueue().heartbeats(), 0u) << "a healthy store ran heartbeats";
}

TEST(StoreHealthSqlite, AStoreThatCannotWriteIsUnhealthyUntilItCanAgainWithoutTraffic) {
    TempDir dir;
    Store store(testStoreConfig("sqlite", dir));
    ASSERT_EQ(store.commit({record("before")}, std::nullopt, "chat").size(), 1u);
    store.checkpointAndTruncateWal();  // the next commit must write to the WAL file
    ASSERT_TRUE(healthy(store));
    {
        NoFileWrites full;
        EXPECT_THROW(store.commit({record("during")}, std::nullopt, "chat"), CommitFailed);
        StoreHealth h = store.commitQueue().health();
        EXPECT_FALSE(h.healthy);
        EXPECT_THAT(h.reason, HasSubstr("store cannot commit: disk I/O error (since "));
        // Nothing is sent; the store keeps checking and keeps failing while it cannot write.
        ASSERT_TRUE(waitFor([&] { return store.commitQueue().heartbeats() >= 2; }));
        EXPECT_FALSE(healthy(store));
        EXPECT_THAT(store.commitQueue().health().reason, HasSubstr("disk I/O error"));
        full.restore();
        // Space again: found by the heartbeat, with no commit from anyone.
        EXPECT_TRUE(waitFor([&] { return healthy(store); })) << store.commitQueue().health().reason;
    }
    EXPECT_EQ(store.commit({record("during")}, std::nullopt, "chat"),
              std::vector<CommitOutcome>{CommitOutcome::Stored});
    EXPECT_EQ(store.messageCount(), 2);
}

TEST(StoreHealthPostgres, ADiskFullErrorInsideABatchIsTheStoresNotTheBatchs) {
    TempDir dir;
    auto resolver = std::make_shared<customer::IdentityResolver>(config::IdentityConfig{});
    Store store(testStoreConfig("postgresql", dir), resolver);
    // The error PostgreSQL raises when it cannot extend a file; the savepoint takes it, and
    // the transaction around it commits: only its SQLSTATE (53100) tells it is the store's.
    store.setInboundHook([](Sql& s, const StoredInbound& in) {
        if (in.message.text == "full")
            s << "DO $$ BEGIN RAISE EXCEPTION 'could not extend file \"base/1/2\": No space left on device' "
                 "USING ERRCODE = 'disk_full'; END $$",
                now;
        if (in.message.text == "bad") s << "INSERT INTO no_such_table (x) VALUES (1)", now;
    });
    EXPECT_THROW(store.commit({record("a", "bad")}, std::nullopt, "chat"), CommitFailed);
    EXPECT_TRUE(healthy(store)) << "a batch's own error made the store unhealthy";
    try {
        store.commit({record("b", "full")}, std::nullopt, "chat");
        ADD_FAILURE() << "the batch was reported stored";
    } catch (const CommitFailed& e) {
        EXPECT_THAT(e.what(), HasSubstr("No space left on device"));
    }
    EXPECT_THAT(store.commitQueue().health().reason,
                HasSubstr("store cannot commit: could not extend file \"base/1/2\": No space left on device (since "));
    // The heartbeat can write (this "disk" was never full): healthy again by itself.
    EXPECT_TRUE(waitFor([&] { return healthy(store); })) << store.commitQueue().health().reason;
    EXPECT_GE(store.commitQueue().heartbeats(), 1u);
}

TEST(StoreHealthPostgres, AConnectionTheServerDroppedIsUnhealthyUntilTheStoreReconnectsByItself) {
    TempDir dir;
    const config::StoreConfig config = testStoreConfig("postgresql", dir);
    Store store(config);
    ASSERT_EQ(store.commit({record("before")}, std::nullopt, "chat").size(), 1u);
    const int64_t pid = scalar(store, "SELECT CAST(pg_backend_pid() AS BIGINT)");
    // A server restart or failover, seen from the store: its backend goes away.
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session admin("PostgreSQL", config.postgresqlUrl);
    bool terminated = false;
    int64_t victim = pid;
    admin << "SELECT pg_terminate_backend(CAST($1 AS INTEGER))", use(victim), into(terminated), now;
    ASSERT_TRUE(terminated);

    EXPECT_THROW(store.commit({record("lost")}, std::nullopt, "chat"), CommitFailed);
    EXPECT_THAT(store.commitQueue().health().reason,
                HasSubstr("store cannot commit: terminating connection due to administrator command (since "));
    EXPECT_THAT(store.commitQueue().health().reason, Not(HasSubstr(config.postgresqlUrl)));
    // No traffic: the heartbeat reconnects and commits.
    EXPECT_TRUE(waitFor([&] { return healthy(store); })) << store.commitQueue().health().reason;
    EXPECT_NE(scalar(store, "SELECT CAST(pg_backend_pid() AS BIGINT)"), pid);
    EXPECT_EQ(store.commit({record("lost")}, std::nullopt, "chat"),
              std::vector<CommitOutcome>{CommitOutcome::Stored});
}
