// Backpressure: while the store cannot commit (another process holds SQLite's write lock),
// webhooks are answered 503 with Retry-After at once instead of piling up in memory; the
// host's resident memory stays bounded while far more bytes than the bound arrive in bodies.
// When the store is free again, new requests succeed and every 2xx message is stored.
#include "test_support.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using namespace switchboard::test;
using nlohmann::json;
using namespace Poco::Data::Keywords;

namespace {

std::string message(const std::string& id, size_t textBytes = 16) {
    return json{{"id", id}, {"from", {{"email", "load@example.com"}}}, {"text", std::string(textBytes, 'x')}}.dump();
}

// Under AddressSanitizer freed memory sits in a 256 MiB quarantine before reuse, which would
// count as growth here: keep it small (the variable is ignored by other builds).
std::string asanOptions() {
    const char* inherited = std::getenv("ASAN_OPTIONS");
    return std::string(inherited ? inherited : "") + (inherited && *inherited ? ":" : "") + "quarantine_size_mb=4";
}

// A host with a 2-message commit queue and 2 MiB for request bodies, started on its own
// config (the store: section carries commit limits, which HostProcess does not write). What
// the host may hold is then small and fixed: 4 bodies of 512 KiB in flight (more are refused
// at their head) and 2 queued messages.
class Host {
public:
    Host() {
        for (int attempt = 0; attempt < 2; ++attempt) {
            port_ = freePort();
            dir_.write("switchboard.yaml",
                       "server:\n  listen: 127.0.0.1:" + std::to_string(port_) +
                           "\n  max_body_bytes: 1MiB\n  max_buffered_body_bytes: 2MiB\n"
                           "store:\n  sqlite: { path: " + dbPath() + " }\n"
                           "  commit: { max_pending: 2, ack_timeout: 1s }\n"
                           "plugins:\n  paths: [ " + buildPluginDir() + " ]\n"
                           "connectors:\n  - name: chat\n    plugin: webchat\n");
            child_ = std::make_unique<Child>(
                std::vector<std::string>{switchboardBin(), "run", "-c", dir_.file("switchboard.yaml")},
                std::map<std::string, std::string>{{"ASAN_OPTIONS", asanOptions()}});
            if (waitHealthy(port_)) return;
            if (child_->output().find("in use") == std::string::npos) break;
        }
        throw std::runtime_error("switchboard did not become healthy:\n" + child_->output());
    }
    std::string dbPath() const { return dir_.file("sb.db"); }
    int pid() const { return child_->pid(); }
    std::string output() const { return child_->output(); }
    HttpResponse post(const std::string& body) const { return http("POST", port_, "/webhooks/chat", body); }
    HttpResponse get(const std::string& uri) const { return http("GET", port_, uri); }

private:
    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<Child> child_;
};

}  // namespace

TEST(Backpressure, AStalledStoreGets503WithRetryAfterAndMemoryStaysBounded) {
    Host host;
    ASSERT_EQ(host.post(message("warm-up")).status, 200) << host.output();
    const int64_t baseline = rssKiB(host.pid());
    ASSERT_GT(baseline, 0);

    // Stall the store: this process takes SQLite's write lock and keeps it.
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session locker("SQLite", host.dbPath());
    locker << "BEGIN EXCLUSIVE", now;

    // 8 clients × 40 requests × 512 KiB bodies: 160 MiB offered to a host that cannot commit.
    constexpr int kClients = 8, kRequests = 40;
    constexpr size_t kBody = 512 * 1024;
    std::mutex mutex;
    std::map<int, int> statuses;
    int withoutRetryAfter = 0;
    std::set<std::string> refused;  // sent again once the store is back
    std::set<std::string> acknowledged;
    std::atomic<bool> done{false};
    std::atomic<int64_t> peak{baseline};
    std::thread sampler([&] {
        while (!done) {
            peak = std::max(peak.load(), rssKiB(host.pid()));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; i < kRequests; ++i) {
                const std::string id = "load-" + std::to_string(c) + "-" + std::to_string(i);
                auto r = host.post(message(id, kBody));
                std::lock_guard lock(mutex);
                statuses[r.status]++;
                if (r.status == 503 && r.headers.count("retry-after") == 0) withoutRetryAfter++;
                if (r.status == 200) acknowledged.insert(id);
                else refused.insert(id);
            }
        });
    }
    for (auto& t : clients) t.join();
    done = true;
    sampler.join();

    std::string seen;
    for (const auto& [status, n] : statuses) seen += std::to_string(status) + "×" + std::to_string(n) + " ";
    // Nothing can be committed, so nothing is acknowledged; every answer says "come back".
    EXPECT_EQ(statuses[503], kClients * kRequests) << seen;
    EXPECT_EQ(withoutRetryAfter, 0);
    const int64_t grownMiB = (peak - baseline) / 1024;
    EXPECT_LT(grownMiB, 64) << "RSS grew from " << baseline / 1024 << " MiB to " << peak / 1024 << " MiB while "
                            << kClients * kRequests * kBody / (1024 * 1024) << " MiB were offered";
    std::cout << "[ backpressure ] answers: " << seen << "; RSS " << baseline / 1024 << " MiB -> peak "
              << peak / 1024 << " MiB\n";
    auto metrics = host.get("/metrics").body;
    EXPECT_NE(metrics.find("switchboard_webhook_backpressure_total{instance=\"chat\"}"), std::string::npos) << metrics;

    // The store is back: new messages succeed, and refused ones are taken when sent again.
    locker << "ROLLBACK", now;
    for (int i = 0; i < 20; ++i) {
        const std::string id = "after-" + std::to_string(i);
        int status = 0;
        for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
            status = host.post(message(id)).status;
            if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ASSERT_EQ(status, 200) << id << host.output();
        acknowledged.insert(id);
    }
    for (const auto& id : refused) {
        auto r = host.post(message(id, 1024));
        ASSERT_EQ(r.status, 200) << id << ": " << r.body;
        acknowledged.insert(id);
    }

    std::vector<std::string> ids;
    std::vector<int64_t> counts;
    locker << "SELECT source_id, COUNT(*) FROM messages WHERE connector = 'chat' GROUP BY source_id", into(ids),
        into(counts), now;
    std::map<std::string, int64_t> stored;
    for (size_t i = 0; i < ids.size(); ++i) stored[ids[i]] = counts[i];
    for (const auto& id : acknowledged) EXPECT_EQ(stored[id], 1) << id;
    EXPECT_EQ(stored.size(), acknowledged.size() + 1);  // + warm-up
    metrics = host.get("/metrics").body;
    EXPECT_NE(metrics.find("switchboard_commit_queue_depth 0"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("switchboard_ingest_seconds_count{instance=\"chat\"}"), std::string::npos);
    EXPECT_NE(metrics.find("switchboard_commit_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
    EXPECT_NE(metrics.find("switchboard_commit_group_size_bucket{le=\"1\"}"), std::string::npos);
}
