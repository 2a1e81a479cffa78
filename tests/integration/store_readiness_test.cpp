// /readyz follows the store, on each engine: while the host's store cannot commit (another
// process holds the SQLite database's write lock; on PostgreSQL another session locks the
// messages table) a webhook gets 503 after store.commit.ack_timeout and /readyz answers 503
// with a reason naming the store; once the lock is released /readyz answers 200 again with
// no further webhook (a load balancer sends none to a host that is not ready). Then the same
// with a disk that really fills up (a small tmpfs; skipped where mounting is not allowed).
#include "host_store_test.h"
#include "test_support.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

using namespace switchboard::test;
using namespace Poco::Data::Keywords;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

const std::string kChat = "  - name: chat\n    plugin: webchat\n";

std::string message(const std::string& id) {
    return json{{"id", id}, {"from", {{"email", "ana@example.com"}}}, {"text", "hello"}}.dump();
}

// The reason /readyz gives, "" when it answers 200.
std::string notReadyReason(const HostProcess& host) {
    HttpResponse r = host.get("/readyz");
    if (r.status == 200) return "";
    auto body = json::parse(r.body, nullptr, false);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(body.value("status", ""), "not ready") << r.body;
    return body.value("reason", "(no reason)");
}

// The value of an unlabelled series in a /metrics page, -1 when absent.
double metricValue(const std::string& page, const std::string& name) {
    const size_t at = page.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(page.substr(at + name.size() + 2));
}

// Another process's hold on the host's store: SQLite's write lock, or on PostgreSQL a lock
// on the messages table that every insert waits for.
std::unique_ptr<Poco::Data::Session> lockStore(const HostProcess& host) {
    std::unique_ptr<Poco::Data::Session> s;
    if (host.onPostgres()) {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        s = std::make_unique<Poco::Data::Session>("PostgreSQL", host.storeConfig().postgresqlUrl);
        *s << "BEGIN", now;
        *s << "LOCK TABLE messages IN EXCLUSIVE MODE", now;
    } else {
        Poco::Data::SQLite::Connector::registerConnector();
        s = std::make_unique<Poco::Data::Session>("SQLite", host.dbPath());
        *s << "BEGIN EXCLUSIVE", now;
    }
    return s;
}

// A tmpfs of `bytes` at path: a disk that really fills up (ENOSPC). Mounting needs
// CAP_SYS_ADMIN; mounted() says whether it worked.
class SmallDisk {
public:
    SmallDisk(std::string path, size_t bytes) : path_(std::move(path)) {
        std::filesystem::create_directories(path_);
        const std::string options = "size=" + std::to_string(bytes);
        mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~SmallDisk() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    // Takes every free byte of the disk with one file.
    void fill() const {
        FILE* f = std::fopen((path_ + "/filler").c_str(), "wb");
        ASSERT_NE(f, nullptr);
        const std::string block(4096, 'x');
        while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
        }
        std::fclose(f);
    }
    void freeSpace() const { std::filesystem::remove(path_ + "/filler"); }

private:
    std::string path_;
    bool mounted_ = false;
};

class StoreReadiness : public OnEachHostStore {
protected:
    void SetUp() override {
        OnEachHostStore::SetUp();
        setHostStoreOptions("  commit: { ack_timeout: 1s }\n");
    }
    void TearDown() override {
        setHostStoreOptions("");
        OnEachHostStore::TearDown();
    }
};

}  // namespace

SWITCHBOARD_ON_EACH_HOST_STORE(StoreReadiness);

TEST_P(StoreReadiness, NotReadyWhileTheStoreCannotCommitAndReadyAgainWithoutTraffic) {
    HostProcess host(kChat);
    ASSERT_EQ(host.post("/webhooks/chat", message("warm-up")).status, 200) << host.output();
    ASSERT_EQ(notReadyReason(host), "");
    EXPECT_THAT(host.get("/metrics").body, HasSubstr("\nswitchboard_store_healthy 1\n"));

    auto locker = lockStore(host);
    const HttpResponse blocked = host.post("/webhooks/chat", message("blocked"));
    EXPECT_EQ(blocked.status, 503) << blocked.body;

    std::string reason;
    ASSERT_TRUE(waitFor([&] { return !(reason = notReadyReason(host)).empty(); })) << host.output();
    EXPECT_THAT(reason, HasSubstr("store "));
    if (host.onPostgres()) {
        // The insert waits for the lock as long as it is held: a stalled commit.
        EXPECT_THAT(reason, HasSubstr("store is stalled: a commit has been running for "));
    } else {
        // SQLite gives up after its busy timeout: a failed commit, and heartbeats keep failing.
        ASSERT_TRUE(waitFor([&] {
            reason = notReadyReason(host);
            return reason.find("cannot commit") != std::string::npos;
        })) << reason;
        EXPECT_THAT(reason, HasSubstr("store cannot commit: database is locked (since "));
    }
    EXPECT_THAT(host.get("/metrics").body, HasSubstr("\nswitchboard_store_healthy 0\n"));

    // Released: ready again by itself, without another webhook.
    *locker << "ROLLBACK", now;
    EXPECT_TRUE(waitFor([&] { return (reason = notReadyReason(host)).empty(); }, std::chrono::seconds(30)))
        << reason;
    EXPECT_THAT(host.get("/metrics").body, HasSubstr("\nswitchboard_store_healthy 1\n"));
    if (!host.onPostgres()) {
        EXPECT_THAT(host.output(), HasSubstr("the store can commit again"));
    }
    // The refused message is taken when sent again (on PostgreSQL its insert went through
    // once the lock was gone, so it is a duplicate then).
    EXPECT_EQ(host.post("/webhooks/chat", message("blocked")).status, 200);
}

TEST(StoreReadinessDisk, NotReadyWhileTheDiskIsFullAndReadyAgainWhenSpaceIsFreedWithoutTraffic) {
    TempDir dir;
    SmallDisk disk(dir.file("disk"), 4 * 1024 * 1024);
    if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
    std::unique_ptr<Child> child;
    int port = 0;
    for (int attempt = 0; attempt < 2 && !child; ++attempt) {
        port = freePort();
        dir.write("switchboard.yaml", "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
                                          "\nstore:\n  sqlite: { path: " + dir.file("disk/sb.db") +
                                          " }\n  commit: { ack_timeout: 2s }\nplugins:\n  paths: [ " +
                                          buildPluginDir() + " ]\nconnectors:\n" + kChat);
        child = std::make_unique<Child>(std::vector<std::string>{switchboardBin(), "run", "-c",
                                                                 dir.file("switchboard.yaml")});
        if (!waitHealthy(port)) {
            ASSERT_NE(child->output().find("in use"), std::string::npos) << child->output();
            child.reset();
        }
    }
    ASSERT_TRUE(child);
    auto post = [&](const std::string& id, size_t bytes) {
        const json body{{"id", id}, {"from", {{"email", "ana@example.com"}}}, {"text", std::string(bytes, 'y')}};
        return http("POST", port, "/webhooks/chat", body.dump());
    };
    auto reason = [&] {
        HttpResponse r = http("GET", port, "/readyz");
        return r.status == 200 ? std::string() : json::parse(r.body, nullptr, false).value("reason", r.body);
    };
    ASSERT_EQ(post("before", 10).status, 200) << child->output();

    disk.fill();
    EXPECT_EQ(post("full", 256 * 1024).status, 503);
    EXPECT_THAT(reason(), HasSubstr("store cannot commit: database or disk is full (since "));
    // It keeps checking (about once a second) and keeps failing while there is no space.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_THAT(reason(), HasSubstr("store cannot commit: database or disk is full (since "));
    EXPECT_EQ(child->output().find("the store can commit again"), std::string::npos) << child->output();
    EXPECT_GE(metricValue(http("GET", port, "/metrics").body, "switchboard_store_commit_failures_total"), 2)
        << "the commit and at least one heartbeat failed";

    disk.freeSpace();
    EXPECT_TRUE(waitFor([&] { return reason().empty(); })) << reason();
    EXPECT_EQ(post("full", 256 * 1024).status, 200) << child->output();
}
