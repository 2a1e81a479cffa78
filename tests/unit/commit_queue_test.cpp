// Group commit and backpressure (store/commit_queue.h): first the queue alone with a fake
// committer (grouping, limits, timeouts, failures), then through a real Store on SQLite and
// PostgreSQL (every message exactly once under concurrency, savepoint isolation, duplicates
// inside one group, per-source order), then the store.commit config keys.
#include "test_support.h"

#include "config/config.h"
#include "customer/resolver.h"
#include "metrics/metrics.h"
#include "store/commit_queue.h"
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace switchboard::host;
using switchboard::test::TempDir;
using switchboard::test::testStoreConfig;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

MessageRecord record(const std::string& id, const std::string& text = "hi", const std::string& connector = "chat") {
    MessageRecord m;
    m.connector = connector;
    m.channel = "webchat";
    m.direction = "inbound";
    m.sourceId = id;
    m.text = text;
    m.receivedAtMs = 1;
    m.normalizedJson = "{}";
    m.raw = "raw";
    m.sender = {{"external", "visitor:" + id, ""}};
    return m;
}

CommitBatch batchOf(std::vector<std::string> ids, const std::string& text = "hi") {
    CommitBatch b;
    b.connector = "chat";
    for (const auto& id : ids) b.messages.push_back(record(id, text));
    return b;
}

// Waits (bounded) until pred holds; the tests synchronize on queue state, never on sleeps.
template <typename Pred>
bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// A committer that records each group and can be held shut, like a store that stalls.
class FakeCommitter {
public:
    std::vector<BatchResult> operator()(const std::vector<const CommitBatch*>& batches) {
        std::unique_lock lock(mutex_);
        ++entered_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return open_; });
        if (!failWith_.empty() && !cause_.empty()) throw StoreFault(failWith_, cause_);
        if (!failWith_.empty()) throw std::runtime_error(failWith_);
        size_t messages = 0;
        std::vector<BatchResult> out;
        for (const auto* b : batches) {
            messages += b->messages.size();
            BatchResult r;
            for (const auto& m : b->messages) {
                bool fresh = stored_.insert(m.sourceId).second;
                r.outcomes.push_back(fresh ? CommitOutcome::Stored : CommitOutcome::Duplicate);
            }
            out.push_back(std::move(r));
        }
        groups_.push_back(messages);
        return out;
    }
    void hold() {
        std::lock_guard lock(mutex_);
        open_ = false;
    }
    void release() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    void failWith(std::string why, std::string cause = {}) {
        std::lock_guard lock(mutex_);
        failWith_ = std::move(why);
        cause_ = std::move(cause);
    }
    // Blocks until the writer has entered the committer n times (a group is in flight).
    void waitEntered(int n) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return entered_ >= n; });
    }
    std::vector<size_t> groups() {
        std::lock_guard lock(mutex_);
        return groups_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = true;
    int entered_ = 0;
    std::string failWith_, cause_;
    std::set<std::string> stored_;
    std::vector<size_t> groups_;
};

CommitQueue::Limits limits(size_t maxPending = 10000, size_t maxGroup = 512, int64_t ackTimeoutMs = 20000) {
    CommitQueue::Limits l;
    l.maxPending = maxPending;
    l.maxGroup = maxGroup;
    l.ackTimeoutMs = ackTimeoutMs;
    return l;
}

std::future<std::vector<CommitOutcome>> submit(CommitQueue& queue, CommitBatch batch) {
    return std::async(std::launch::async, [&queue, b = std::move(batch)]() mutable { return queue.commit(std::move(b)); });
}

}  // namespace

// --- the queue alone -------------------------------------------------------------------

TEST(CommitQueue, BatchesQueuedWhileACommitRunsGoInOneGroupInQueueOrder) {
    FakeCommitter fake;
    Metrics metrics;
    CommitQueue queue(limits(), [&](const auto& b) { return fake(b); });
    queue.setMetrics(metrics);
    fake.hold();
    auto first = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);  // "a" is being committed; everything after it queues up
    std::vector<std::future<std::vector<CommitOutcome>>> rest;
    for (int i = 0; i < 10; ++i) rest.push_back(submit(queue, batchOf({"m" + std::to_string(i), "n" + std::to_string(i)})));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 21; }));
    fake.release();
    EXPECT_EQ(first.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    for (auto& f : rest) EXPECT_EQ(f.get(), (std::vector<CommitOutcome>{CommitOutcome::Stored, CommitOutcome::Stored}));
    EXPECT_EQ(fake.groups(), (std::vector<size_t>{1, 20}));
    auto sizes = metrics.histogram("switchboard_commit_group_size", {});
    EXPECT_EQ(sizes.count, 2u);
    EXPECT_EQ(sizes.sum, 21);
    EXPECT_EQ(metrics.histogram("switchboard_commit_seconds", {}).count, 2u);
    EXPECT_EQ(metrics.value("switchboard_commit_queue_depth", {}), 0);
}

TEST(CommitQueue, AGroupNeverExceedsMaxGroupMessages) {
    FakeCommitter fake;
    CommitQueue queue(limits(10000, 4), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto first = submit(queue, batchOf({"x"}));
    fake.waitEntered(1);
    std::vector<std::future<std::vector<CommitOutcome>>> rest;
    for (int i = 0; i < 5; ++i) rest.push_back(submit(queue, batchOf({"a" + std::to_string(i), "b" + std::to_string(i)})));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 11; }));
    fake.release();
    first.get();
    for (auto& f : rest) f.get();
    EXPECT_EQ(fake.groups(), (std::vector<size_t>{1, 4, 4, 2}));
}

TEST(CommitQueue, AFullQueueRefusesAtOnceAndAcceptsAgainWhenDrained) {
    FakeCommitter fake;
    CommitQueue queue(limits(4), [&](const auto& b) { return fake(b); });
    fake.hold();
    std::vector<std::future<std::vector<CommitOutcome>>> waiting;
    for (int i = 0; i < 4; ++i) waiting.push_back(submit(queue, batchOf({"w" + std::to_string(i)})));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 4; }));
    EXPECT_TRUE(queue.behind());
    try {
        queue.commit(batchOf({"over"}));
        ADD_FAILURE() << "a full queue accepted a batch";
    } catch (const StoreBehind& e) {
        EXPECT_THAT(e.what(), HasSubstr("store is behind (4 messages pending)"));
    }
    fake.release();
    for (auto& f : waiting) EXPECT_EQ(f.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    EXPECT_FALSE(queue.behind());
    EXPECT_EQ(queue.commit(batchOf({"over"})), std::vector<CommitOutcome>{CommitOutcome::Stored});
}

TEST(CommitQueue, ABatchLargerThanTheLimitStillGoesThroughAlone) {
    FakeCommitter fake;
    CommitQueue queue(limits(2), [&](const auto& b) { return fake(b); });
    auto outcomes = queue.commit(batchOf({"a", "b", "c", "d", "e"}));
    EXPECT_EQ(outcomes.size(), 5u);
}

TEST(CommitQueue, AFailedTransactionFailsEveryBatchOfItsGroup) {
    FakeCommitter fake;
    CommitQueue queue(limits(), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto first = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);
    auto second = submit(queue, batchOf({"b"}));
    auto third = submit(queue, batchOf({"c"}));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 3; }));
    fake.failWith("disk I/O error");
    fake.release();
    for (auto* f : {&first, &second, &third}) {
        try {
            f->get();
            ADD_FAILURE() << "a batch of a failed transaction was reported committed";
        } catch (const CommitFailed& e) {
            EXPECT_THAT(e.what(), HasSubstr("disk I/O error"));
        }
    }
    EXPECT_EQ(queue.pendingMessages(), 0u);
}

TEST(CommitQueue, AStalledCommitTimesOutItsWaitersAndRefusesNewBatches) {
    FakeCommitter fake;
    CommitQueue queue(limits(10000, 1, 300), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto inFlight = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);
    auto queued = submit(queue, batchOf({"b"}));  // max_group 1: waits behind "a"
    try {
        queued.get();
        ADD_FAILURE() << "a batch that was never committed was acknowledged";
    } catch (const CommitFailed& e) {
        EXPECT_THAT(e.what(), HasSubstr("nothing was stored"));
    }
    try {
        inFlight.get();
        ADD_FAILURE() << "a batch of a commit that never finished was acknowledged";
    } catch (const CommitFailed& e) {
        EXPECT_THAT(e.what(), HasSubstr("if it was stored, the resend is a duplicate"));
    }
    // The queued one was taken back; the one in the transaction still counts.
    EXPECT_EQ(queue.pendingMessages(), 1u);
    EXPECT_TRUE(queue.behind());
    EXPECT_THROW(queue.commit(batchOf({"c"})), StoreBehind);
    fake.release();
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 0; }));
    EXPECT_FALSE(queue.behind());
    // "a" did commit after all: its resend is a duplicate, "b" was never stored.
    EXPECT_EQ(queue.commit(batchOf({"a", "b"})),
              (std::vector<CommitOutcome>{CommitOutcome::Duplicate, CommitOutcome::Stored}));
}

TEST(CommitQueue, StopCommitsWhatIsQueuedAndRefusesLaterBatches) {
    FakeCommitter fake;
    CommitQueue queue(limits(), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto first = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);
    auto second = submit(queue, batchOf({"b"}));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 2; }));
    std::thread stopper([&] { queue.stop(); });
    fake.release();
    stopper.join();
    EXPECT_EQ(first.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    EXPECT_EQ(second.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    EXPECT_THROW(queue.commit(batchOf({"c"})), CommitFailed);
}

// --- health (what /readyz reports) ---------------------------------------------------------

namespace {

// A heartbeat that fails with a store fault until told the store is back.
struct FakeHeartbeat {
    std::atomic<bool> storeBack{false};
    void operator()() const {
        if (!storeBack) throw StoreFault("the heartbeat write failed: DB full: database or disk is full",
                                         "database or disk is full");
    }
};

void expectFailedCommit(CommitQueue& queue, const std::string& id) {
    EXPECT_THROW(queue.commit(batchOf({id})), CommitFailed);
}

}  // namespace

TEST(CommitQueueHealth, AFailedCommitIsUnhealthyUntilAHeartbeatCommitsWithoutAnyTraffic) {
    FakeCommitter fake;
    FakeHeartbeat heartbeat;
    Metrics metrics;
    CommitQueue queue(limits(), [&](const auto& b) { return fake(b); }, [&] { heartbeat(); });
    queue.setMetrics(metrics);
    // Healthy: commits write nothing extra and health costs no write.
    for (int i = 0; i < 20; ++i) queue.commit(batchOf({"ok-" + std::to_string(i)}));
    EXPECT_TRUE(queue.health().healthy);
    EXPECT_EQ(queue.heartbeats(), 0u);
    EXPECT_EQ(metrics.value("switchboard_store_healthy", {}), 1);

    fake.failWith("the commit to s.db failed: DB full: database or disk is full", "database or disk is full");
    expectFailedCommit(queue, "lost");
    StoreHealth h = queue.health();
    EXPECT_FALSE(h.healthy);
    EXPECT_THAT(h.reason, HasSubstr("store cannot commit: database or disk is full (since "));
    EXPECT_EQ(metrics.value("switchboard_store_healthy", {}), 0);
    EXPECT_EQ(metrics.value("switchboard_store_commit_failures_total", {}), 1);

    // No traffic: the writer checks by itself, about once a second, and stays unhealthy
    // while its heartbeat fails; "since" still counts from the first failure.
    ASSERT_TRUE(eventually([&] { return queue.heartbeats() >= 2; }));
    h = queue.health();
    EXPECT_FALSE(h.healthy);
    EXPECT_THAT(h.reason, HasSubstr("store cannot commit: database or disk is full (since "));
    EXPECT_THAT(h.reason, Not(HasSubstr("(since 0."))) << "since restarted at a failed heartbeat";
    EXPECT_GE(metrics.value("switchboard_store_commit_failures_total", {}), 2);

    // The store is back (the disk freed): healthy again with no commit from anyone.
    fake.failWith("");
    heartbeat.storeBack = true;
    ASSERT_TRUE(eventually([&] { return queue.health().healthy; })) << queue.health().reason;
    EXPECT_EQ(metrics.value("switchboard_store_healthy", {}), 1);
    // Healthy again: the heartbeats stop.
    const uint64_t beats = queue.heartbeats();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(queue.heartbeats(), beats);
    EXPECT_EQ(queue.commit(batchOf({"lost"})), std::vector<CommitOutcome>{CommitOutcome::Stored});
}

TEST(CommitQueueHealth, ACommitThatSucceedsClearsAFailure) {
    FakeCommitter fake;
    CommitQueue queue(limits(), [&](const auto& b) { return fake(b); });  // no heartbeat
    fake.failWith("cannot begin a transaction on s.db: DB locked: database is locked");
    expectFailedCommit(queue, "a");
    // Any exception counts; without a StoreFault cause its message is the reason.
    EXPECT_THAT(queue.health().reason,
                HasSubstr("store cannot commit: cannot begin a transaction on s.db: DB locked: database is locked"));
    fake.failWith("");
    queue.commit(batchOf({"a"}));
    EXPECT_TRUE(queue.health().healthy);
    EXPECT_EQ(queue.heartbeats(), 0u);
}

TEST(CommitQueueHealth, ABatchTheStoreCouldNotTakeIsUnhealthyButItsDataErrorsAreNot) {
    std::string fault;
    CommitQueue queue(limits(), [&](const std::vector<const CommitBatch*>& batches) {
        std::vector<BatchResult> out(batches.size());
        out[0].error = fault.empty() ? "UNIQUE constraint failed" : "DB full: " + fault;
        out[0].storeFault = fault;
        return out;
    });
    EXPECT_THROW(queue.commit(batchOf({"a"})), CommitFailed);
    EXPECT_TRUE(queue.health().healthy) << "one batch's bad data made the store unhealthy";
    fault = "database or disk is full";
    EXPECT_THROW(queue.commit(batchOf({"b"})), CommitFailed);
    EXPECT_THAT(queue.health().reason, HasSubstr("store cannot commit: database or disk is full"));
}

TEST(CommitQueueHealth, AFullQueueIsUnhealthyUntilItDrains) {
    FakeCommitter fake;
    CommitQueue queue(limits(2, 1), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto first = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);
    EXPECT_TRUE(queue.health().healthy) << "a commit in progress is not a problem";
    auto second = submit(queue, batchOf({"b"}));
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 2; }));
    EXPECT_EQ(queue.health().reason, "store is behind: 2 messages pending (store.commit.max_pending is 2)");
    fake.release();
    first.get();
    second.get();
    EXPECT_TRUE(queue.health().healthy) << queue.health().reason;
}

TEST(CommitQueueHealth, AStalledCommitIsUnhealthyUntilItEnds) {
    FakeCommitter fake;
    CommitQueue queue(limits(10000, 1, 300), [&](const auto& b) { return fake(b); });
    fake.hold();
    auto first = submit(queue, batchOf({"a"}));
    fake.waitEntered(1);
    ASSERT_TRUE(eventually([&] { return !queue.health().healthy; }));
    EXPECT_THAT(queue.health().reason, HasSubstr("store is stalled: a commit has been running for "));
    EXPECT_THAT(queue.health().reason, HasSubstr("(store.commit.ack_timeout is 0.3s); 1 messages pending"));
    fake.release();
    first.wait();  // its waiter gave up after 300 ms, or saw the commit if it woke late
    ASSERT_TRUE(eventually([&] { return queue.pendingMessages() == 0; }));
    EXPECT_TRUE(queue.health().healthy) << queue.health().reason;
}

// --- through the store, on both engines --------------------------------------------------

namespace {

class GroupCommitOn : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    config::StoreConfig config = testStoreConfig(GetParam(), dir);

    // source id → (row id, count of rows)
    std::map<std::string, std::pair<int64_t, int64_t>> rows(Store& store) {
        std::map<std::string, std::pair<int64_t, int64_t>> out;
        store.withSession([&](Sql& s) {
            std::vector<std::string> ids;
            std::vector<int64_t> rowIds;
            s << "SELECT source_id, id FROM messages WHERE connector = 'chat'",
                Poco::Data::Keywords::into(ids), Poco::Data::Keywords::into(rowIds), Poco::Data::Keywords::now;
            for (size_t i = 0; i < ids.size(); ++i) {
                out[ids[i]].first = rowIds[i];
                out[ids[i]].second++;
            }
        });
        return out;
    }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, GroupCommitOn, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(GroupCommitOn, ConcurrentEmitsAreStoredExactlyOnceInOrderPerSource) {
    Store store(config);
    Metrics metrics;
    store.commitQueue().setMetrics(metrics);
    constexpr int kThreads = 8, kBatches = 40;
    // Each thread is one source; ids overlap across threads in pairs ("shared-N" is sent by
    // two threads), so duplicates race across batches and groups.
    std::vector<std::vector<std::pair<std::string, CommitOutcome>>> seen(kThreads);
    std::atomic<int> failures{0};
    // Hold the session while the threads start, so the first groups are large for sure.
    std::promise<void> go;
    std::shared_future<void> started = go.get_future().share();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            started.wait();
            for (int b = 0; b < kBatches; ++b) {
                std::vector<std::string> ids = {"t" + std::to_string(t) + "-" + std::to_string(b) + "-x",
                                                "t" + std::to_string(t) + "-" + std::to_string(b) + "-y",
                                                "shared-" + std::to_string(t / 2) + "-" + std::to_string(b)};
                try {
                    auto outcomes = store.commitQueue().commit(batchOf(ids));
                    for (size_t i = 0; i < ids.size(); ++i) seen[t].emplace_back(ids[i], outcomes[i]);
                } catch (const std::exception& e) {
                    ADD_FAILURE() << e.what();
                    failures++;
                }
            }
        });
    }
    store.withSession([&](Sql&) {
        go.set_value();
        // Every thread's first batch is queued (or taken by the writer, which waits for us).
        ASSERT_TRUE(eventually([&] { return store.commitQueue().pendingMessages() >= kThreads * 3; }));
    });
    for (auto& t : threads) t.join();
    ASSERT_EQ(failures, 0);

    auto stored = rows(store);
    std::map<std::string, int> storedOutcomes;
    for (int t = 0; t < kThreads; ++t) {
        int64_t lastRow = 0;
        for (const auto& [id, outcome] : seen[t]) {
            if (outcome == CommitOutcome::Stored) storedOutcomes[id]++;
            ASSERT_EQ(stored.count(id), 1u) << id;
            EXPECT_EQ(stored[id].second, 1) << id << " stored more than once";
            // One source's messages are committed in the order it emitted them.
            if (id.rfind("shared-", 0) != 0 && outcome == CommitOutcome::Stored) {
                EXPECT_GT(stored[id].first, lastRow) << id;
                lastRow = stored[id].first;
            }
        }
    }
    EXPECT_EQ(stored.size(), static_cast<size_t>(kThreads * kBatches * 2 + kThreads / 2 * kBatches));
    // Each id reported Stored exactly once across every thread (the other sender saw Duplicate).
    for (const auto& [id, row] : stored) EXPECT_EQ(storedOutcomes[id], 1) << id;
    auto sizes = metrics.histogram("switchboard_commit_group_size", {});
    EXPECT_GT(sizes.sum, static_cast<double>(sizes.count)) << "no group held more than one message";
    EXPECT_LT(sizes.count, static_cast<uint64_t>(kThreads * kBatches)) << "no two batches shared a transaction";
}

TEST_P(GroupCommitOn, AFailingBatchRollsBackAloneAndTheRestOfItsGroupCommits) {
    auto resolver = std::make_shared<customer::IdentityResolver>(config::IdentityConfig{});
    Store store(config, resolver);
    // A real SQL error inside the transaction (PostgreSQL then refuses every statement
    // until the savepoint is rolled back).
    store.setInboundHook([](Sql& s, const StoredInbound& in) {
        if (in.message.text == "boom") s << "INSERT INTO no_such_table (x) VALUES (1)", Poco::Data::Keywords::now;
    });
    std::future<std::vector<CommitOutcome>> warmup, good1, bad, good2, dupOfGood1;
    store.withSession([&](Sql&) {
        warmup = submit(store.commitQueue(), batchOf({"warmup"}));
        // The writer takes "warmup" and waits for the session we hold; the next four queue
        // behind it and go into the next transaction together.
        ASSERT_TRUE(eventually([&] {
            return store.commitQueue().pendingMessages() == 1 && store.commitQueue().queuedBatches() == 0;
        }));
        good1 = submit(store.commitQueue(), batchOf({"g1"}));
        ASSERT_TRUE(eventually([&] { return store.commitQueue().queuedBatches() == 1; }));
        CommitBatch b = batchOf({"b1", "b2"}, "boom");
        b.checkpoint = Checkpoint{"cursor", "after-b"};
        bad = submit(store.commitQueue(), std::move(b));
        ASSERT_TRUE(eventually([&] { return store.commitQueue().queuedBatches() == 2; }));
        good2 = submit(store.commitQueue(), batchOf({"g2"}));
        ASSERT_TRUE(eventually([&] { return store.commitQueue().queuedBatches() == 3; }));
        dupOfGood1 = submit(store.commitQueue(), batchOf({"g1"}));
        ASSERT_TRUE(eventually([&] { return store.commitQueue().queuedBatches() == 4; }));
    });
    EXPECT_EQ(warmup.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    EXPECT_EQ(good1.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    try {
        bad.get();
        ADD_FAILURE() << "the failing batch was reported committed";
    } catch (const CommitFailed& e) {
        EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
    }
    EXPECT_EQ(good2.get(), std::vector<CommitOutcome>{CommitOutcome::Stored});
    // Dedupe inside one transaction: the second copy sees the first one's row.
    EXPECT_EQ(dupOfGood1.get(), std::vector<CommitOutcome>{CommitOutcome::Duplicate});
    EXPECT_TRUE(store.findMessage("chat", "g1").has_value());
    EXPECT_TRUE(store.findMessage("chat", "g2").has_value());
    EXPECT_FALSE(store.findMessage("chat", "b1").has_value());
    EXPECT_FALSE(store.findMessage("chat", "b2").has_value());
    // The failed batch's checkpoint did not move: it commits with its messages or not at all.
    EXPECT_FALSE(store.checkpoint("chat", "cursor").has_value());
    // Its error was its own (a missing table), not the store's: the store stays healthy.
    EXPECT_TRUE(store.commitQueue().health().healthy) << store.commitQueue().health().reason;
    // Each stored message was linked to a customer in the same transaction.
    store.withSession([&](Sql& s) {
        int64_t unresolved = -1;
        s << "SELECT COUNT(*) FROM messages WHERE customer_id IS NULL", Poco::Data::Keywords::into(unresolved),
            Poco::Data::Keywords::now;
        EXPECT_EQ(unresolved, 0);
    });
}

TEST_P(GroupCommitOn, StoreCommitKeepsItsContractThroughTheQueue) {
    Store store(config);
    EXPECT_EQ(store.commit({record("a"), record("a")}, Checkpoint{"k", "1"}, "chat"),
              (std::vector<CommitOutcome>{CommitOutcome::Stored, CommitOutcome::Duplicate}));
    store.putCheckpoint("chat", "k", "2");
    EXPECT_EQ(store.checkpoint("chat", "k"), "2");
    EXPECT_EQ(store.messageCount(), 1);
}

// --- config ------------------------------------------------------------------------------

namespace {

config::LoadResult loadStoreYaml(const TempDir& dir, const std::string& storeYaml) {
    return config::loadFile(dir.write("switchboard.yaml", "store:\n" + storeYaml + "connectors: []\n"));
}

std::string errorsOf(const config::LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.format() + "\n";
    return out;
}

}  // namespace

TEST(StoreCommitConfig, DefaultsAndOverridesBesideTheStoreKind) {
    TempDir dir;
    auto defaults = loadStoreYaml(dir, "  sqlite: { path: a.db }\n");
    ASSERT_TRUE(defaults.errors.empty()) << errorsOf(defaults);
    EXPECT_EQ(defaults.config->store.commit.maxPending, 10000u);
    EXPECT_EQ(defaults.config->store.commit.maxGroup, 512u);
    EXPECT_EQ(defaults.config->store.commit.maxPendingBytes, 64u * 1024 * 1024);
    EXPECT_EQ(defaults.config->store.commit.ackTimeoutMs, 10000);

    auto set = loadStoreYaml(dir, "  sqlite: { path: a.db }\n  commit:\n    max_pending: 50\n    max_group: 8\n"
                                  "    max_pending_bytes: 1MiB\n    ack_timeout: 2s\n");
    ASSERT_TRUE(set.errors.empty()) << errorsOf(set);
    EXPECT_EQ(set.config->store.kind, "sqlite");
    EXPECT_EQ(set.config->store.commit.maxPending, 50u);
    EXPECT_EQ(set.config->store.commit.maxGroup, 8u);
    EXPECT_EQ(set.config->store.commit.maxPendingBytes, 1024u * 1024);
    EXPECT_EQ(set.config->store.commit.ackTimeoutMs, 2000);
}

TEST(StoreCommitConfig, BadValuesAreNamedWithTheirPath) {
    TempDir dir;
    auto r = loadStoreYaml(dir, "  sqlite: { path: a.db }\n  commit:\n    max_pending: 0\n    max_grup: 8\n"
                                "    ack_timeout: 10\n    max_pending_bytes: lots\n");
    std::string text = errorsOf(r);
    EXPECT_THAT(text, HasSubstr("store.commit.max_pending: expects a whole number of messages from 1"));
    EXPECT_THAT(text, HasSubstr("store.commit.max_grup: unknown"));
    EXPECT_THAT(text, HasSubstr("did you mean 'max_group'"));
    EXPECT_THAT(text, HasSubstr("store.commit.ack_timeout: expects a duration"));
    EXPECT_THAT(text, HasSubstr("(the unit is missing)"));
    EXPECT_THAT(text, HasSubstr("store.commit.max_pending_bytes: expects a positive byte count"));
    auto unknown = loadStoreYaml(dir, "  sqlite: { path: a.db }\n  comit: {}\n");
    EXPECT_THAT(errorsOf(unknown), HasSubstr("unknown store kind 'comit'"));
    EXPECT_THAT(errorsOf(unknown), HasSubstr("beside the kind: commit"));
}
