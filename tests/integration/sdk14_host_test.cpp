// SDK 1.4 on the running host, with the sdk14 fixture (tests/fixtures/sdk14.cpp): option
// constraints and the validate hook refuse the same configs in check-config and in run, at the
// value's file:line:col; declared webhook routes get 404/405 from the host; plugin metrics are
// named by plugin, with HELP; Plugin::refuse counts in counters.rejected; a sink reaches the
// identity types it declares and is told the customer, entry, kind, purpose, attempt and replay;
// a provider id longer than the limit is an error, not a cut; a plugin built against the frozen
// 1.0 header still loads and runs.
#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace switchboard::test;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::string kFixtures = SWITCHBOARD_FIXTURE_DIR;

std::vector<std::string> pluginDirs() { return {buildPluginDir(), kFixtures + "/sdk14", kFixtures + "/good_c_1_0"}; }

std::string pluginPaths() {
    std::string out = "plugins:\n  paths: [";
    for (const auto& d : pluginDirs()) out += (out.back() == '[' ? " " : ", ") + d;
    return out + " ]\n";
}

// A config file with one sdk14 instance whose options block is `options`.
std::string writeConfig(const TempDir& dir, const std::string& name, const std::string& options) {
    return dir.write(name, "server: { listen: 127.0.0.1:0 }\n" + pluginPaths() +
                               "connectors:\n  - name: s14\n    plugin: fixture-sdk14\n    options:\n" + options);
}

// check-config and run on the same file: both refuse, and every line check-config printed is
// what run printed too.
void expectBothRefuse(const std::string& file, const std::vector<std::string>& needles) {
    auto check = run({switchboardBin(), "check-config", "-c", file});
    EXPECT_EQ(check.exitCode, 1) << check.out << check.err;
    for (const auto& n : needles) EXPECT_THAT(check.err, HasSubstr(n));
    auto started = run({switchboardBin(), "run", "-c", file}, {}, std::chrono::seconds(30));
    EXPECT_EQ(started.exitCode, 1) << started.err;
    for (const auto& n : needles) EXPECT_THAT(started.err, HasSubstr(n)) << "run disagrees with check-config";
}

// The outbox entry id if it is in state, else null.
json outboxEntry(const HostProcess& host, int64_t id, const std::string& state) {
    json page = json::parse(host.get("/api/v1/outbox?state=" + state + "&limit=500", host.auth()).body);
    for (const auto& i : page["items"])
        if (i["id"] == id) return i;
    return json();
}

json connectorStatus(const HostProcess& host, const std::string& name) {
    auto r = host.get("/api/v1/connectors", host.auth());
    json all = json::parse(r.body, nullptr, false);
    if (all.is_object())
        for (const auto& c : all["connectors"])
            if (c["name"] == name) return c;
    ADD_FAILURE() << "no connector " << name << " in " << r.status << " " << r.body;
    return json();
}

}  // namespace

TEST(Sdk14Config, ConstraintsAreCheckedWithTheValuesPlace) {
    TempDir dir;
    const std::string file = writeConfig(dir, "bad.yaml",
                                         "      token: short\n"                    // line 8: pattern
                                         "      mode: relya\n"                     // line 9: one of
                                         "      batch: 500\n"                      // line 10: max
                                         "      timeout: 10ms\n"                   // line 11: min
                                         "      admins: [a@example.com, nobody]\n"  // line 12: format
                                         "      relay_url: ftp://x.example\n"      // line 13: http url
                                         "      from: '+351912345678'\n");
    expectBothRefuse(file, {"bad.yaml:8:", "connectors[0].options.token", "must match the pattern",
                            "bad.yaml:9:", "must be one of store, relay", "did you mean 'relay'?",
                            "bad.yaml:10:", "between 1 and 100", "bad.yaml:11:", "between 100ms and 1m",
                            "bad.yaml:12:", "must be an email address", "bad.yaml:13:",
                            "must be an absolute http:// or https:// URL"});
    // The token is a secret: its value is never echoed.
    auto check = run({switchboardBin(), "check-config", "-c", file});
    EXPECT_THAT(check.err, Not(HasSubstr("short")));
}

TEST(Sdk14Config, GroupsAndRequiredCompanionsAreChecked) {
    TempDir dir;
    expectBothRefuse(writeConfig(dir, "nosender.yaml", "      token: abcdefgh-1\n"),
                     {"one of the options from, sender_pool must be set"});
    const std::string ok = writeConfig(dir, "ok.yaml", "      token: abcdefgh-1\n      sender_pool: p1\n");
    auto check = run({switchboardBin(), "check-config", "-c", ok});
    EXPECT_EQ(check.exitCode, 0) << check.err;
}

TEST(Sdk14Config, ThePluginsValidateRunsInCheckConfigAndRunAndSecretsAreMasked) {
    TempDir dir;
    const std::string file = writeConfig(dir, "relay.yaml",
                                         "      token: leak-me-please\n"  // line 8
                                         "      mode: relay\n"
                                         "      from: '+351912345678'\n");
    expectBothRefuse(file, {"relay.yaml:8:", "connectors[0].options.relay_url",
                            "plugin 'fixture-sdk14': mode 'relay' needs relay_url", "token '***' is a known test value"});
    auto check = run({switchboardBin(), "check-config", "-c", file});
    EXPECT_THAT(check.err, Not(HasSubstr("leak-me-please")));
}

TEST(Sdk14Describe, ShowsRoutesConstraintsMetricsAndReaches) {
    auto r = run({switchboardBin(), "plugins", "describe", "fixture-sdk14", "--plugin-dir", kFixtures + "/sdk14"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("POST /webhooks/{instance}  Messages"));
    EXPECT_THAT(r.out, HasSubstr("GET /webhooks/{instance}/status"));
    EXPECT_THAT(r.out, HasSubstr("POST /webhooks/{instance}/receipts/*"));
    EXPECT_THAT(r.out, HasSubstr("reaches: external:crm"));
    EXPECT_THAT(r.out, HasSubstr("switchboard_plugin_fixture_sdk14_hits (counter)"));
    EXPECT_THAT(r.out, HasSubstr("constraints: one of store, relay"));
    EXPECT_THAT(r.out, HasSubstr("constraints: 1 to 100"));
    EXPECT_THAT(r.out, HasSubstr("needs mode"));
    auto j = run({switchboardBin(), "plugins", "describe", "fixture-sdk14", "--plugin-dir", kFixtures + "/sdk14",
                  "--format", "json"});
    json d = json::parse(j.out);
    EXPECT_EQ(d["webhook_routes"].size(), 3u);
    EXPECT_EQ(d["reaches"], json::array({"external:crm"}));
    EXPECT_EQ(d["options"][1]["allowed"], json::array({"store", "relay"}));
}

TEST(Sdk14Host, UndeclaredRoutesAreAnsweredByTheHostAndRefusalsAreCounted) {
    HostProcess host("  - name: s14\n    plugin: fixture-sdk14\n    options: { token: abcdefgh-1, from: x }\n", {}, {},
                     pluginDirs());
    auto wrongMethod = http("GET", host.port(), "/webhooks/s14", "", {});
    EXPECT_EQ(wrongMethod.status, 405) << wrongMethod.body;
    EXPECT_EQ(wrongMethod.headers["allow"], "POST");
    EXPECT_EQ(http("DELETE", host.port(), "/webhooks/s14/receipts/r1", "", {}).status, 405);
    EXPECT_EQ(http("POST", host.port(), "/webhooks/s14/receipts/r1", "{}", {}).status, 200);
    EXPECT_EQ(http("POST", host.port(), "/webhooks/s14/receipts/", "{}", {}).status, 404);
    EXPECT_EQ(http("GET", host.port(), "/webhooks/s14/status", "", {}).status, 200);
    EXPECT_EQ(http("GET", host.port(), "/webhooks/s14/nothing", "", {}).status, 404);

    for (int i = 0; i < 3; ++i) EXPECT_EQ(host.post("/webhooks/s14", "{}", {{"x-token", "forged"}}).status, 403);
    EXPECT_EQ(host.post("/webhooks/s14", "{}", {{"x-token", "abcdefgh-1"}}).status, 200);
    EXPECT_EQ(connectorStatus(host, "s14")["counters"]["rejected"], 3);

    const std::string metrics = host.get("/metrics").body;
    EXPECT_THAT(metrics, HasSubstr("# HELP switchboard_plugin_fixture_sdk14_hits Webhook requests accepted"));
    EXPECT_THAT(metrics, HasSubstr("# TYPE switchboard_plugin_fixture_sdk14_hits counter"));
    EXPECT_THAT(metrics, HasSubstr("switchboard_plugin_fixture_sdk14_hits{instance=\"s14\"} 1"));
    EXPECT_THAT(metrics, HasSubstr("switchboard_messages_rejected_total{instance=\"s14\",reason=\"bad_token\"} 3"));
}

TEST(Sdk14Host, ASinkReachesItsDeclaredTypeAndIsToldAboutTheEntry) {
    HostProcess host("  - name: site-chat\n    plugin: webchat\n"
                     "  - name: crm-out\n    plugin: fixture-sdk14\n    options: { token: abcdefgh-1, from: x }\n",
                     "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n", {}, pluginDirs());
    json chat{{"id", "m1"},
              {"from", {{"phone", "912 345 678"}, {"external_ids", {{"crm", "C-42"}}}}},
              {"text", "hello"}};
    ASSERT_EQ(host.post("/webhooks/site-chat", chat.dump()).status, 200);
    json found = json::parse(host.get("/api/v1/customers?identity=external:crm:C-42", host.auth()).body);
    ASSERT_EQ(found["customers"].size(), 1u) << found.dump();
    const std::string customer = found["customers"][0]["id"];

    auto sent = http("POST", host.port(), "/api/v1/messages",
                     json{{"customer_id", customer}, {"connector", "crm-out"}, {"text", "case opened"}}.dump(),
                     host.auth());
    ASSERT_EQ(sent.status, 202) << sent.body;
    const int64_t outboxId = json::parse(sent.body)["id"];
    json item;
    ASSERT_TRUE(waitFor([&] { return (item = outboxEntry(host, outboxId, "sent")).is_object(); })) << host.output();
    // The phone is not what this sink reaches: the external id is its recipient.
    const std::string expected = "kind=message;purpose=service;attempt=1;replay=0;outbox=" + std::to_string(outboxId) +
                                 ";customer=" + customer + ";to=external:crm:C-42";
    json timeline = json::parse(host.get("/api/v1/customers/" + customer + "/timeline", host.auth()).body);
    bool seen = false;
    for (const auto& i : timeline["interactions"])
        seen = seen || (i["direction"] == "outbound" && i["provider_message_id"] == expected);
    EXPECT_TRUE(seen) << timeline.dump();

    // An id past SB_PROVIDER_MESSAGE_ID_MAX is a clear error on the entry, not a cut id.
    auto longId = http("POST", host.port(), "/api/v1/messages",
                       json{{"customer_id", customer}, {"connector", "crm-out"}, {"text", "long-id"}}.dump(),
                       host.auth());
    ASSERT_EQ(longId.status, 202) << longId.body;
    const int64_t longEntry = json::parse(longId.body)["id"];
    ASSERT_TRUE(waitFor([&] { return (item = outboxEntry(host, longEntry, "dead")).is_object(); })) << host.output();
    EXPECT_THAT(item["last_error"].get<std::string>(), HasSubstr("longer than SB_PROVIDER_MESSAGE_ID_MAX"));

    // Replayed from the dead letters, the sink is told it is a replay (and a first attempt again).
    auto refused = http("POST", host.port(), "/api/v1/messages",
                        json{{"customer_id", customer}, {"connector", "crm-out"}, {"text", "dead-letter"}}.dump(),
                        host.auth());
    ASSERT_EQ(refused.status, 202) << refused.body;
    const int64_t deadEntry = json::parse(refused.body)["id"];
    ASSERT_TRUE(waitFor([&] { return outboxEntry(host, deadEntry, "dead").is_object(); })) << host.output();
    auto replay = http("POST", host.port(), "/api/v1/deadletters/" + std::to_string(deadEntry) + "/replay", "",
                       host.auth());
    ASSERT_EQ(replay.status, 202) << replay.body;
    ASSERT_TRUE(waitFor([&] { return outboxEntry(host, deadEntry, "sent").is_object(); })) << host.output();
    timeline = json::parse(host.get("/api/v1/customers/" + customer + "/timeline", host.auth()).body);
    seen = false;
    const std::string replayed = "kind=message;purpose=service;attempt=1;replay=1;outbox=" + std::to_string(deadEntry);
    for (const auto& i : timeline["interactions"])
        seen = seen || (i["provider_message_id"].is_string() &&
                        i["provider_message_id"].get<std::string>().rfind(replayed, 0) == 0);
    EXPECT_TRUE(seen) << timeline.dump();
}

TEST(Sdk14Host, APluginBuiltAgainstTheFrozen10HeaderLoadsAndRuns) {
    auto list = run({switchboardBin(), "plugins", "describe", "fixture_good_c_1_0", "--plugin-dir",
                     kFixtures + "/good_c_1_0"});
    ASSERT_EQ(list.exitCode, 0) << list.err;
    EXPECT_THAT(list.out, HasSubstr("plugin ABI: 1.0"));
    HostProcess host("  - name: old\n    plugin: fixture_good_c_1_0\n    options: { token: t }\n", {}, {}, pluginDirs());
    EXPECT_EQ(connectorStatus(host, "old")["state"], "running");
    auto r = host.post("/webhooks/old", "hello from 1.0", {{"content-type", "text/plain"}});
    EXPECT_EQ(r.status, 200) << r.body;
}
