// Durability under fire: continuous webhook load from several clients while the host is
// killed with SIGKILL several times and restarted on the same store. A client that got a 2xx
// forgets the message; one that got no answer (or an error) sends it again later with the
// same id, as webhook providers do. At the end every acknowledged message and every resent
// one is in the store exactly once, and nothing else is.
#include "test_support.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace switchboard::test;
using nlohmann::json;
using namespace Poco::Data::Keywords;

namespace {

const std::string kChat = "  - name: chat\n    plugin: webchat\n";

std::string message(const std::string& id, int client) {
    return json{{"id", id},
                {"from", {{"external_ids", {{"visitor", "client-" + std::to_string(client)}}}}},
                {"text", "message " + id}}
        .dump();
}

// What one client saw, kept by the client thread and read after it ends.
struct ClientLog {
    std::set<std::string> acknowledged;  // got a 2xx
    std::set<std::string> resent;        // sent again after no answer or an error
    std::deque<std::string> unanswered;  // still to send again
    int sent = 0;
};

// One client: fresh ids, interleaved with resends of what got no 2xx.
void runClient(const HostProcess& host, int client, const std::atomic<bool>& stop, ClientLog& log) {
    std::mt19937 rng(static_cast<unsigned>(client) * 7919u + 1);
    int next = 0;
    while (!stop) {
        std::string id;
        bool resend = !log.unanswered.empty() && rng() % 2 == 0;
        if (resend) {
            id = log.unanswered.front();
            log.unanswered.pop_front();
            log.resent.insert(id);
        } else {
            id = "c" + std::to_string(client) + "-" + std::to_string(next++);
        }
        auto r = host.post("/webhooks/chat", message(id, client));
        log.sent++;
        if (r.status >= 200 && r.status < 300) {
            log.acknowledged.insert(id);
        } else {
            log.unanswered.push_back(id);
            // Down or busy: do not spin while the host restarts.
            if (r.status == 0 || r.status == 503) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

}  // namespace

TEST(CrashTest, EveryAcknowledgedOrResentMessageIsStoredExactlyOnceAcrossKillMinus9) {
    HostProcess host(kChat);
    constexpr int kClients = 4;
    constexpr int kKills = 4;
    std::vector<ClientLog> logs(kClients);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c)
        clients.emplace_back([&, c] { runClient(host, c, stop, logs[c]); });

    std::mt19937 rng(20261123);
    for (int kill = 0; kill < kKills; ++kill) {
        // A random moment under load; commits are in flight all the time at this rate.
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 900));
        host.crashAndRestart();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    for (auto& t : clients) t.join();

    // Every client sends what never got a 2xx again until it does (a provider's retry).
    for (int c = 0; c < kClients; ++c) {
        auto& log = logs[c];
        while (!log.unanswered.empty()) {
            std::string id = log.unanswered.front();
            log.unanswered.pop_front();
            log.resent.insert(id);
            int status = 0;
            for (int attempt = 0; attempt < 100 && !(status >= 200 && status < 300); ++attempt) {
                status = host.post("/webhooks/chat", message(id, c)).status;
                if (status < 200 || status >= 300) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            ASSERT_TRUE(status >= 200 && status < 300) << id << " never got a 2xx: " << status << host.output();
            log.acknowledged.insert(id);
        }
    }
    // A resend of an acknowledged message is recognised, not stored again.
    for (int c = 0; c < kClients; ++c) {
        if (logs[c].acknowledged.empty()) continue;
        const std::string id = *logs[c].acknowledged.begin();
        auto again = host.post("/webhooks/chat", message(id, c));
        ASSERT_EQ(again.status, 200) << again.body;
        EXPECT_EQ(json::parse(again.body)["status"], "duplicate") << id;
    }

    std::set<std::string> acknowledged, resent;
    int sent = 0;
    for (const auto& log : logs) {
        acknowledged.insert(log.acknowledged.begin(), log.acknowledged.end());
        resent.insert(log.resent.begin(), log.resent.end());
        sent += log.sent;
    }
    // The kills happened under load: some requests went unanswered and were sent again.
    EXPECT_FALSE(resent.empty());
    EXPECT_GT(acknowledged.size(), static_cast<size_t>(kClients));

    host.child().signal(SIGTERM);
    ASSERT_EQ(host.child().wait(std::chrono::seconds(20)), 0) << host.output();

    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session db("SQLite", host.dbPath());
    std::vector<std::string> ids;
    std::vector<int64_t> counts;
    db << "SELECT source_id, COUNT(*) FROM messages WHERE connector = 'chat' GROUP BY source_id", into(ids),
        into(counts), now;
    std::map<std::string, int64_t> stored;
    for (size_t i = 0; i < ids.size(); ++i) stored[ids[i]] = counts[i];

    for (const auto& id : acknowledged) EXPECT_EQ(stored[id], 1) << id << " was acknowledged";
    for (const auto& id : resent) EXPECT_EQ(stored[id], 1) << id << " was resent";
    // Nothing else: every stored id was acknowledged in the end (unanswered ones were resent).
    for (const auto& [id, count] : stored) EXPECT_TRUE(acknowledged.count(id)) << id << " stored but never acknowledged";
    EXPECT_EQ(stored.size(), acknowledged.size());
    std::cout << "[ crash ] " << sent << " requests, " << acknowledged.size() << " messages acknowledged, "
              << resent.size() << " resent, " << kKills << " kills\n";
}
