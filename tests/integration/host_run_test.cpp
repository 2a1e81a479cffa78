// The switchboard binary run for real: config, plugins, store, HTTP, lifecycle, signals.
#include "postgres_server.h"
#include "host_store_test.h"
#include "test_support.h"

#include "store/store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>


using namespace switchboard::test;
using nlohmann::json;

namespace {

const std::string kChat = "  - name: site-chat\n    plugin: webchat\n";

std::string message(const std::string& id, const std::string& email = "ana@example.com") {
    return json{{"id", id}, {"from", {{"name", "Ana"}, {"email", email}}}, {"text", "Hello, my card was lost"}}.dump();
}

// Polls until pred() holds (bounded): for state changes that happen on a host thread.
json connector(const HostProcess& host, const std::string& name) {
    auto r = host.get("/api/v1/connectors/" + name, host.auth());
    if (r.status != 200) return json();
    return json::parse(r.body);
}

std::string state(const HostProcess& host, const std::string& name) {
    json c = connector(host, name);
    return c.is_object() ? c.value("state", "") : "";
}

// The host tests that touch the store run on both stores (the host's config says which).
class HostRunOn : public OnEachHostStore {};

}  // namespace

SWITCHBOARD_ON_EACH_HOST_STORE(HostRunOn);

TEST_P(HostRunOn, WebchatPostIsStoredOnceAndDuplicatesAreAcknowledged) {
    HostProcess host(kChat);
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; })) << host.output();

    auto first = host.post("/webhooks/site-chat", message("m-1"));
    ASSERT_EQ(first.status, 200) << first.body << host.output();
    EXPECT_EQ(json::parse(first.body)["status"], "stored");
    auto again = host.post("/webhooks/site-chat", message("m-1"));
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(json::parse(again.body)["status"], "duplicate");

    // The 200 came after the commit: the row is in the file now, exactly once.
    switchboard::host::Store store(host.storeConfig());
    EXPECT_EQ(store.messageCount(), 1);
    auto row = store.findMessage("site-chat", "m-1");
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->channel, "webchat");
    EXPECT_EQ(row->text, "Hello, my card was lost");
    EXPECT_NE(row->normalizedJson.find("ana@example.com"), std::string::npos);

    json c = connector(host, "site-chat");
    EXPECT_EQ(c["counters"]["stored"], 1);
    EXPECT_EQ(c["counters"]["duplicates"], 1);
    auto metrics = host.get("/metrics");
    EXPECT_NE(metrics.body.find("switchboard_messages_stored_total{instance=\"site-chat\"} 1"), std::string::npos)
        << metrics.body;
}

TEST(HostRun, MalformedWebhookGets400AndTheHostKeepsServing) {
    HostProcess host(kChat);
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; }));
    auto bad = host.post("/webhooks/site-chat", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(json::parse(bad.body).value("error", ""), "");
    EXPECT_EQ(host.post("/webhooks/site-chat", message("m-2")).status, 200);
    EXPECT_EQ(host.post("/webhooks/nobody", message("m-3")).status, 404);
}

TEST_P(HostRunOn, TwoInstancesOfOnePluginKeepTheirOwnConfig) {
    HostProcess host("  - name: chat-a\n    plugin: webchat\n    options: { channel: chat_a }\n"
                     "  - name: chat-b\n    plugin: webchat\n    options: { channel: chat_b }\n");
    ASSERT_TRUE(waitFor([&] { return state(host, "chat-a") == "running" && state(host, "chat-b") == "running"; }));
    ASSERT_EQ(host.post("/webhooks/chat-a", message("same-id")).status, 200);
    ASSERT_EQ(host.post("/webhooks/chat-b", message("same-id")).status, 200);
    switchboard::host::Store store(host.storeConfig());
    // Dedupe is per instance: the same provider id on two instances is two messages.
    EXPECT_EQ(store.messageCount(), 2);
    EXPECT_EQ(store.findMessage("chat-a", "same-id")->channel, "chat_a");
    EXPECT_EQ(store.findMessage("chat-b", "same-id")->channel, "chat_b");
}

TEST(HostRun, PauseResumeRestartThroughTheApi) {
    HostProcess host(kChat);
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; }));
    EXPECT_EQ(host.post("/api/v1/connectors/site-chat/pause", "").status, 401);  // no token

    const std::string up = "switchboard_connector_up{instance=\"site-chat\"} ";
    EXPECT_NE(host.get("/metrics").body.find(up + "1"), std::string::npos);
    auto paused = host.post("/api/v1/connectors/site-chat/pause", "", host.auth());
    ASSERT_EQ(paused.status, 200) << paused.body;
    // A scrape alone (no /readyz, no connectors API in between) sees the pause.
    EXPECT_NE(host.get("/metrics").body.find(up + "0"), std::string::npos) << host.get("/metrics").body;
    EXPECT_EQ(state(host, "site-chat"), "paused");
    auto refused = host.post("/webhooks/site-chat", message("p-1"));
    EXPECT_EQ(refused.status, 503);
    EXPECT_FALSE(refused.headers["retry-after"].empty());

    ASSERT_EQ(host.post("/api/v1/connectors/site-chat/resume", "", host.auth()).status, 200);
    EXPECT_EQ(state(host, "site-chat"), "running");
    EXPECT_EQ(host.post("/webhooks/site-chat", message("p-1")).status, 200);

    ASSERT_EQ(host.post("/api/v1/connectors/site-chat/restart", "", host.auth()).status, 200);
    EXPECT_EQ(state(host, "site-chat"), "running");
    EXPECT_EQ(connector(host, "site-chat")["counters"]["restarts"], 1);
    EXPECT_EQ(host.post("/api/v1/connectors/ghost/pause", "", host.auth()).status, 404);
}

TEST(HostRun, SecretsNeverReachTheApiOrTheLogs) {
    const std::string secret = "s3cr3t-value-that-must-not-leak";
    HostProcess host("  - name: site-chat\n    plugin: webchat\n    options: { secret: ${env:CHAT_SECRET} }\n", "",
                     {{"CHAT_SECRET", secret}});
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; }));
    auto list = host.get("/api/v1/connectors", host.auth());
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.find(secret), std::string::npos);
    EXPECT_NE(list.body.find("***"), std::string::npos);
    // Unsigned request refused: the secret is in force.
    EXPECT_EQ(host.post("/webhooks/site-chat", message("s-1")).status, 401);
    host.child().signal(SIGTERM);
    EXPECT_EQ(host.child().wait(std::chrono::seconds(15)), 0);
    EXPECT_EQ(host.output().find(secret), std::string::npos);
    EXPECT_EQ(host.output().find(HostProcess::kToken), std::string::npos);
}

TEST(HostRun, AFailingInstanceIsReportedAndRetriedWhileOthersRun) {
    HostProcess host(kChat + "  - name: broken\n    plugin: fixture_create_fails_silently\n", "", {},
                     {buildPluginDir(), std::string(SWITCHBOARD_FIXTURE_DIR) + "/create_fails_silently"});
    ASSERT_TRUE(waitFor([&] { return connector(host, "broken")["counters"]["failures"].get<int>() >= 2; }))
        << connector(host, "broken").dump() << host.output();
    json broken = connector(host, "broken");
    EXPECT_EQ(broken["state"], "backoff");
    EXPECT_NE(broken["last_error"].get<std::string>().find("create failed"), std::string::npos);
    EXPECT_EQ(host.get("/healthz").status, 200);
    EXPECT_EQ(host.post("/webhooks/site-chat", message("f-1")).status, 200);
    EXPECT_EQ(host.post("/webhooks/broken", message("f-2")).status, 503);
}

TEST_P(HostRunOn, SighupAddsRemovesAndKeepsOnlyWhatChanged) {
    HostProcess host(kChat + "  - name: old-chat\n    plugin: webchat\n");
    ASSERT_TRUE(
        waitFor([&] { return state(host, "site-chat") == "running" && state(host, "old-chat") == "running"; }));
    ASSERT_EQ(host.post("/webhooks/site-chat", message("h-1")).status, 200);

    host.reload(kChat + "  - name: new-chat\n    plugin: webchat\n");
    ASSERT_TRUE(waitFor([&] { return state(host, "new-chat") == "running"; })) << host.output();
    EXPECT_TRUE(waitFor([&] { return host.get("/api/v1/connectors/old-chat", host.auth()).status == 404; }));
    // site-chat did not change: same instance, counters kept, never restarted.
    json kept = connector(host, "site-chat");
    EXPECT_EQ(kept["counters"]["stored"], 1);
    EXPECT_EQ(kept["counters"]["restarts"], 0);

    // Routing rules are read at start: a change says so, also on every later reload
    // (the comparison is with what runs, not with the last file read).
    const std::string rules = "routing:\n  rules:\n    - name: cards\n      when: { keywords: [card] }\n"
                              "      then: { queue: cards }\n";
    const std::string warning = "routing or outbox settings changed; they take effect after a restart";
    host.reload(kChat + "  - name: new-chat\n    plugin: webchat\n", rules);
    EXPECT_TRUE(waitFor([&] { return host.output().find(warning) != std::string::npos; })) << host.output();
    const size_t first = host.output().find(warning);
    host.reload(kChat + "  - name: new-chat\n    plugin: webchat\n", rules);
    EXPECT_TRUE(waitFor([&] { return host.output().find(warning, first + 1) != std::string::npos; }));

    // A broken config on reload is refused and the running one stays.
    host.reload("  - name: x\n    plugin: webcaht\n");
    EXPECT_TRUE(waitFor([&] { return host.output().find("reload refused") != std::string::npos; }));
    EXPECT_NE(host.output().find("did you mean 'webchat'"), std::string::npos);
    EXPECT_EQ(state(host, "site-chat"), "running");
}

TEST_P(HostRunOn, AcknowledgedMessagesSurviveKillMinus9) {
    HostProcess host(kChat);
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; }));
    for (int i = 0; i < 20; ++i) ASSERT_EQ(host.post("/webhooks/site-chat", message("k-" + std::to_string(i))).status, 200);
    host.crashAndRestart();
    ASSERT_TRUE(waitFor([&] { return state(host, "site-chat") == "running"; }));
    switchboard::host::Store store(host.storeConfig());
    EXPECT_EQ(store.messageCount(), 20);
    // Redelivery after the crash is recognised.
    auto again = host.post("/webhooks/site-chat", message("k-7"));
    EXPECT_EQ(json::parse(again.body)["status"], "duplicate");
}

TEST(HostCli, CheckConfigReportsEveryErrorWithFileLineAndPath) {
    TempDir dir;
    std::string good = dir.write("good.yaml", "server: { listen: 127.0.0.1:0 }\nconnectors:\n" + kChat);
    auto ok = run({switchboardBin(), "check-config", "-c", good});
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
    EXPECT_NE(ok.out.find("OK"), std::string::npos);

    std::string bad = dir.write("bad.yaml",
                                "server: { listen: 127.0.0.1:0 }\n"
                                "connectors:\n"
                                "  - name: a\n"
                                "    plugin: webcaht\n"
                                "  - name: b\n"
                                "    plugin: webchat\n"
                                "    options: { chanel: x, max_attachments: many }\n");
    auto r = run({switchboardBin(), "check-config", "-c", bad});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("bad.yaml:3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("connectors[0].plugin"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'webchat'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.yaml:7"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("connectors[1].options.chanel"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'channel'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("connectors[1].options.max_attachments"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("3 errors"), std::string::npos) << r.err;

    // `run` refuses the same file with the same errors and does not start.
    auto refused = run({switchboardBin(), "run", "-c", bad});
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.err.find("connectors[1].options.chanel"), std::string::npos);
}

TEST(HostCli, PluginsListAndDescribe) {
    auto list = run({switchboardBin(), "plugins", "list"});
    EXPECT_EQ(list.exitCode, 0) << list.err;
    EXPECT_NE(list.out.find("webchat"), std::string::npos);

    auto describe = run({switchboardBin(), "plugins", "describe", "webchat"});
    EXPECT_EQ(describe.exitCode, 0) << describe.err;
    for (const char* option : {"secret", "channel", "scope", "max_attachments"})
        EXPECT_NE(describe.out.find(option), std::string::npos) << option;
    EXPECT_NE(describe.out.find("secret"), std::string::npos);

    auto asJson = run({switchboardBin(), "plugins", "describe", "webchat", "--format", "json"});
    ASSERT_EQ(asJson.exitCode, 0);
    json schema = json::parse(asJson.out);
    EXPECT_EQ(schema["name"], "webchat");
    bool secretFlagged = false;
    for (const auto& o : schema["options"])
        if (o["name"] == "secret") secretFlagged = o["secret"].get<bool>();
    EXPECT_TRUE(secretFlagged);

    auto typo = run({switchboardBin(), "plugins", "describe", "webcht"});
    EXPECT_EQ(typo.exitCode, 1);
    EXPECT_NE(typo.err.find("did you mean 'webchat'"), std::string::npos) << typo.err;

    auto version = run({switchboardBin(), "--version"});
    EXPECT_EQ(version.exitCode, 0);
    EXPECT_NE(version.out.find("plugin ABI 1."), std::string::npos);
}

TEST(HostCli, AnUnknownPhoneRegionIsAConfigErrorWithItsLocation) {
    TempDir dir;
    std::string bad = dir.write("region.yaml", "identity:\n  default_region: XX\n");
    auto r = run({switchboardBin(), "check-config", "-c", bad});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("region.yaml:2:19: identity.default_region:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'XX'"), std::string::npos) << r.err;
}

// store: postgresql: the conninfo (here with a password from the environment) never reaches
// the log; the host logs host, port, dbname and the schema version.
TEST(HostRunPostgres, LogsWhereTheStoreIsButNeverItsConninfo) {
    TempDir dir;
    PostgresServer& pg = sharedPostgres();
    const std::string db = pg.createDatabase(), password = "pg-pass-that-must-not-leak";
    const int port = freePort();
    dir.write("switchboard.yaml",
              "server:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n  api_token: " + HostProcess::kToken +
                  "\nstore:\n  postgresql: { url: \"" + pg.connectionString(db) +
                  " password=${env:PG_PASSWORD}\" }\nplugins:\n  paths: [ " + buildPluginDir() +
                  " ]\nconnectors:\n" + kChat);
    auto check = run({switchboardBin(), "check-config", "-c", dir.file("switchboard.yaml")}, {{"PG_PASSWORD", password}});
    EXPECT_EQ(check.exitCode, 0) << check.out << check.err;
    Child child({switchboardBin(), "run", "-c", dir.file("switchboard.yaml")}, {{"PG_PASSWORD", password}});
    ASSERT_TRUE(waitHealthy(port)) << child.output();
    EXPECT_EQ(http("POST", port, "/webhooks/site-chat", message("pg-1")).status, 200);
    child.signal(SIGTERM);
    EXPECT_EQ(child.wait(std::chrono::seconds(15)), 0);
    const std::string log = child.output() + check.out + check.err;
    EXPECT_NE(log.find("store open postgresql"), std::string::npos) << log;
    EXPECT_NE(log.find(db), std::string::npos) << log;
    EXPECT_EQ(log.find(password), std::string::npos) << log;
    switchboard::host::config::StoreConfig store;
    store.kind = "postgresql";
    store.postgresqlUrl = pg.connectionString(db);
    EXPECT_TRUE(switchboard::host::Store(store).findMessage("site-chat", "pg-1").has_value());
}
