// One customer, one timeline: the customer model through the running host and its API.
#include "host_store_test.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <thread>
#include <tuple>

using namespace switchboard::test;
using nlohmann::json;

namespace {

// Three "channels" served by webchat instances, each configured with its own channel name.
const std::string kChannels =
    "  - name: site-chat\n    plugin: webchat\n"
    "  - name: wa\n    plugin: webchat\n    options: { channel: whatsapp }\n"
    "  - name: mail\n    plugin: webchat\n    options: { channel: email }\n";
const std::string kIdentityPT = "identity:\n  default_region: PT\n";

json from(std::initializer_list<std::pair<const char*, const char*>> fields) {
    json f = json::object();
    for (const auto& [k, v] : fields) f[k] = v;
    return f;
}

int post(const HostProcess& host, const std::string& instance, const std::string& id, const json& sender,
         int64_t timestampMs = 0, const std::string& text = "hello") {
    json m{{"id", id}, {"from", sender}, {"text", text}};
    if (timestampMs) m["timestamp"] = timestampMs;
    return host.post("/webhooks/" + instance, m.dump()).status;
}

json api(const HostProcess& host, const std::string& uri) {
    auto r = host.get(uri, host.auth());
    EXPECT_EQ(r.status, 200) << uri << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
}

std::vector<std::string> lookup(const HostProcess& host, const std::string& identity) {
    std::string enc;
    for (char c : identity) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '@' || c == ':')
            enc += c;
        else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            enc += buf;
        }
    }
    std::vector<std::string> ids;
    json found = api(host, "/api/v1/customers?identity=" + enc);
    for (const auto& c : found["customers"]) ids.push_back(c["id"]);
    return ids;
}

std::string only(const std::vector<std::string>& ids) {
    EXPECT_EQ(ids.size(), 1u);
    return ids.empty() ? "" : ids[0];
}

std::vector<std::string> timelineIds(const HostProcess& host, const std::string& customer) {
    std::vector<std::string> out;
    json page = api(host, "/api/v1/customers/" + customer + "/timeline?limit=500");  // keep it alive while iterating
    for (const auto& i : page["interactions"]) out.push_back(i["source_message_id"]);
    return out;
}

// Every customer-model test runs against both stores: the host's config says which.
class CustomerModel : public OnEachHostStore {};

// pg_dump of the server the tests use (Debian: /usr/lib/postgresql/<version>/bin).
std::string pgDump() {
    for (const char* v : {"15", "16", "17", "14", "13"}) {
        std::string path = std::string("/usr/lib/postgresql/") + v + "/bin/pg_dump";
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return "pg_dump";
}

}  // namespace

SWITCHBOARD_ON_EACH_HOST_STORE(CustomerModel);

TEST_P(CustomerModel, ThreeChannelsBecomeOneCustomerWithOneTimeline) {
    HostProcess host(kChannels, kIdentityPT);
    ASSERT_TRUE(waitHealthy(host.port()));
    ASSERT_EQ(post(host, "site-chat", "c1", from({{"name", "Ana Silva"}, {"email", "ana@example.com"}, {"phone", "912 345 678"}}), 1000), 200);
    ASSERT_EQ(post(host, "wa", "w1", from({{"phone", "+351 912 345 678"}}), 2000), 200);
    ASSERT_EQ(post(host, "mail", "e1", from({{"email", "Ana Silva <ANA@Example.com>"}}), 3000), 200);

    std::string ana = only(lookup(host, "phone:912 345 678"));
    EXPECT_EQ(lookup(host, "phone:00351912345678"), std::vector<std::string>{ana});
    EXPECT_EQ(lookup(host, "email:Ana@EXAMPLE.com"), std::vector<std::string>{ana});

    json c = api(host, "/api/v1/customers/" + ana);
    EXPECT_EQ(c["display_name"], "Ana Silva");
    EXPECT_EQ(c["interactions_per_channel"]["webchat"], 1);
    EXPECT_EQ(c["interactions_per_channel"]["whatsapp"], 1);
    EXPECT_EQ(c["interactions_per_channel"]["email"], 1);
    bool sawE164 = false;
    for (const auto& i : c["identities"]) sawE164 |= i["normalized"] == "+351912345678";
    EXPECT_TRUE(sawE164) << c.dump();
    // Search ignores case in names and addresses, on both stores.
    for (const char* q : {"ana%20sil", "ANA@EXAMPLE.COM"}) {
        json found = api(host, std::string("/api/v1/customers?q=") + q)["customers"];
        ASSERT_EQ(found.size(), 1u) << q << " -> " << found.dump();
        EXPECT_EQ(found[0]["id"], ana);
    }

    // Newest first, across channels, with the documented fields.
    json t = api(host, "/api/v1/customers/" + ana + "/timeline");
    ASSERT_EQ(t["interactions"].size(), 3u);
    EXPECT_EQ(t["interactions"][0]["source_message_id"], "e1");
    EXPECT_EQ(t["interactions"][1]["channel"], "whatsapp");
    EXPECT_EQ(t["interactions"][2]["connector"], "site-chat");
    for (const char* field : {"id", "customer_id", "channel", "direction", "connector", "source_message_id",
                              "conversation_id", "occurred_at", "received_at", "subject", "text", "attachments",
                              "routing"})
        EXPECT_TRUE(t["interactions"][0].contains(field)) << field;
    EXPECT_TRUE(t["next_cursor"].is_null());
    // Chat, then WhatsApp, then email within the continuation window: one conversation.
    EXPECT_EQ(t["interactions"][0]["conversation_id"], t["interactions"][2]["conversation_id"]);
    EXPECT_EQ(t["interactions"][1]["conversation_id"], t["interactions"][2]["conversation_id"]);
    ASSERT_EQ(c["conversations"].size(), 1u);
    EXPECT_EQ(c["conversations"][0]["interactions"], 3);
    EXPECT_EQ(c["conversations"][0]["first_channel"], "webchat");
    // Filter by channel.
    EXPECT_EQ(api(host, "/api/v1/customers/" + ana + "/timeline?channel=whatsapp")["interactions"].size(), 1u);
}

TEST_P(CustomerModel, TwoEmailsLinkedByAPhoneMergeAndUnmergeExactly) {
    HostProcess host(kChannels, kIdentityPT);
    ASSERT_EQ(post(host, "mail", "m1", from({{"email", "rui@work.example"}}), 1000), 200);
    ASSERT_EQ(post(host, "site-chat", "m2", from({{"email", "rui@home.example"}}), 2000), 200);
    std::string work = only(lookup(host, "email:rui@work.example"));
    std::string home = only(lookup(host, "email:rui@home.example"));
    ASSERT_NE(work, home);

    // One message carrying both emails and a phone links the two: they merge into the older.
    ASSERT_EQ(post(host, "wa", "m3", from({{"email", "rui@home.example"}, {"phone", "+351 933 000 111"}}), 3000), 200);
    ASSERT_EQ(post(host, "wa", "m4", from({{"email", "rui@work.example"}, {"phone", "933 000 111"}}), 4000), 200);
    EXPECT_EQ(lookup(host, "email:rui@home.example"), std::vector<std::string>{work});
    EXPECT_EQ(timelineIds(host, work), (std::vector<std::string>{"m4", "m3", "m2", "m1"}));

    // The absorbed id answers with the survivor's name.
    auto moved = host.get("/api/v1/customers/" + home, host.auth());
    EXPECT_EQ(moved.status, 301);
    EXPECT_EQ(json::parse(moved.body)["merged_into"], work);
    EXPECT_EQ(moved.headers["location"], "/api/v1/customers/" + work);

    json merges = api(host, "/api/v1/customers/" + work + "/merges")["merges"];
    ASSERT_EQ(merges.size(), 1u);
    EXPECT_EQ(merges[0]["absorbed_id"], home);
    EXPECT_EQ(merges[0]["trigger"]["rule"], "shared_identity");
    // m4 reached the absorbed customer through the phone m3 had attached to it.
    EXPECT_EQ(merges[0]["trigger"]["identity"], "phone||+351933000111");
    // The snapshot shows both sides as they stood when the merge happened.
    EXPECT_EQ(merges[0]["snapshot"]["absorbed"]["id"], home);
    EXPECT_EQ(merges[0]["snapshot"]["absorbed"]["interactions"], 2);  // m2, m3
    EXPECT_EQ(merges[0]["snapshot"]["survivor"]["interactions"], 1);  // m1 (m4 is linked after the merge)
    EXPECT_EQ(merges[0]["snapshot"]["absorbed"]["identities"].size(), 2u);

    auto undo = host.post("/api/v1/customers/" + work + "/unmerge", json{{"merge_id", merges[0]["id"]}}.dump(),
                          host.auth());
    ASSERT_EQ(undo.status, 200) << undo.body;
    // Both as they were: each email on its own customer, each interaction back where it was first resolved.
    EXPECT_EQ(lookup(host, "email:rui@home.example"), std::vector<std::string>{home});
    EXPECT_EQ(lookup(host, "email:rui@work.example"), std::vector<std::string>{work});
    EXPECT_EQ(timelineIds(host, home), (std::vector<std::string>{"m3", "m2"}));
    EXPECT_EQ(timelineIds(host, work), (std::vector<std::string>{"m4", "m1"}));
    EXPECT_EQ(host.post("/api/v1/customers/" + work + "/unmerge", json{{"merge_id", merges[0]["id"]}}.dump(),
                        host.auth()).status, 409);
}

TEST_P(CustomerModel, MergeChainsUndoInEitherOrder) {
    for (bool innerFirst : {true, false}) {
        HostProcess host(kChannels, kIdentityPT);
        ASSERT_EQ(post(host, "mail", "a1", from({{"email", "a@x.example"}}), 1000), 200);
        ASSERT_EQ(post(host, "mail", "b1", from({{"email", "b@x.example"}}), 2000), 200);
        ASSERT_EQ(post(host, "mail", "c1", from({{"email", "c@x.example"}}), 3000), 200);
        std::string a = only(lookup(host, "email:a@x.example")), b = only(lookup(host, "email:b@x.example")),
                    c = only(lookup(host, "email:c@x.example"));
        auto merge = [&](const std::string& survivor, const std::string& other) {
            auto r = host.post("/api/v1/customers/" + survivor + "/merge", json{{"other_id", other}}.dump(), host.auth());
            EXPECT_EQ(r.status, 200) << r.body;
            return json::parse(r.body)["merge_id"].get<int64_t>();
        };
        int64_t aIntoB = merge(b, a);
        int64_t bIntoC = merge(c, b);
        EXPECT_EQ(timelineIds(host, c), (std::vector<std::string>{"c1", "b1", "a1"}));
        EXPECT_EQ(lookup(host, "email:a@x.example"), std::vector<std::string>{c});
        auto unmerge = [&](int64_t id) {
            auto r = host.post("/api/v1/customers/" + c + "/unmerge", json{{"merge_id", id}}.dump(), host.auth());
            EXPECT_EQ(r.status, 200) << r.body;
        };
        if (innerFirst) {
            unmerge(aIntoB);
            EXPECT_EQ(timelineIds(host, c), (std::vector<std::string>{"c1", "b1"}));
            EXPECT_EQ(timelineIds(host, a), std::vector<std::string>{"a1"});
            unmerge(bIntoC);
        } else {
            unmerge(bIntoC);
            EXPECT_EQ(timelineIds(host, b), (std::vector<std::string>{"b1", "a1"}));
            EXPECT_EQ(timelineIds(host, c), std::vector<std::string>{"c1"});
            auto r = host.post("/api/v1/customers/" + b + "/unmerge", json{{"merge_id", aIntoB}}.dump(), host.auth());
            EXPECT_EQ(r.status, 200) << r.body;
        }
        EXPECT_EQ(timelineIds(host, a), std::vector<std::string>{"a1"});
        EXPECT_EQ(timelineIds(host, b), std::vector<std::string>{"b1"});
        EXPECT_EQ(timelineIds(host, c), std::vector<std::string>{"c1"});
    }
}

// Phones of several regions through the store: every form of one number is one customer,
// the same digits in another region are another person; an unparseable phone is kept,
// flagged, and links nobody.
TEST_P(CustomerModel, PhonesOfSeveralRegionsAndAnUnparseablePhone) {
    HostProcess host(kChannels, kIdentityPT);
    ASSERT_EQ(post(host, "wa", "us1", from({{"phone", "+1 (415) 555-2671"}}), 1000), 200);
    ASSERT_EQ(post(host, "wa", "us2", from({{"phone", "001 415 555 2671"}}), 2000), 200);
    ASSERT_EQ(post(host, "wa", "uk1", from({{"phone", "+44 20 7946 0958"}}), 3000), 200);
    ASSERT_EQ(post(host, "wa", "br1", from({{"phone", "+55 11 98765-4321"}}), 4000), 200);
    ASSERT_EQ(post(host, "wa", "pt1", from({{"phone", "912 345 678"}}), 5000), 200);  // national: default PT
    const std::string us = only(lookup(host, "phone:+14155552671"));
    EXPECT_EQ(timelineIds(host, us), (std::vector<std::string>{"us2", "us1"}));
    const std::string uk = only(lookup(host, "phone:+442079460958")), br = only(lookup(host, "phone:+5511987654321")),
                      pt = only(lookup(host, "phone:+351912345678"));
    EXPECT_EQ((std::set<std::string>{us, uk, br, pt}).size(), 4u);

    ASSERT_EQ(post(host, "mail", "x1", from({{"email", "one@x.example"}, {"phone", "+351 912 345 67"}}), 6000), 200);
    ASSERT_EQ(post(host, "mail", "x2", from({{"email", "two@x.example"}, {"phone", "+351 912 345 67"}}), 7000), 200);
    const std::string one = only(lookup(host, "email:one@x.example"));
    EXPECT_NE(one, only(lookup(host, "email:two@x.example")));
    json c = api(host, "/api/v1/customers/" + one);
    bool flagged = false;
    for (const auto& i : c["identities"])
        flagged |= i["type"] == "phone" && i["status"] == "unparseable_phone" && i["value"] == "+351 912 345 67";
    EXPECT_TRUE(flagged) << c.dump();
}

TEST_P(CustomerModel, SharedAndPlaceholderValuesNeverMergePeople) {
    HostProcess host(kChannels, kIdentityPT + "  shared:\n    phone: [ \"+351 211 000 000\" ]\n");
    // A listed family phone used by two people with their own emails.
    ASSERT_EQ(post(host, "mail", "f1", from({{"email", "mother@x.example"}, {"phone", "211 000 000"}})), 200);
    ASSERT_EQ(post(host, "mail", "f2", from({{"email", "son@x.example"}, {"phone", "+351211000000"}})), 200);
    EXPECT_NE(only(lookup(host, "email:mother@x.example")), only(lookup(host, "email:son@x.example")));
    // support@ (a role address, shared by default) and placeholders (blocked by default).
    ASSERT_EQ(post(host, "mail", "s1", from({{"email", "support@shop.example"}, {"phone", "+351 912 111 111"}})), 200);
    ASSERT_EQ(post(host, "mail", "s2", from({{"email", "support@shop.example"}, {"phone", "+351 912 222 222"}})), 200);
    ASSERT_EQ(post(host, "mail", "t1", from({{"email", "test@test.com"}, {"phone", "+351 912 333 333"}})), 200);
    ASSERT_EQ(post(host, "mail", "t2", from({{"email", "test@test.com"}, {"phone", "+351 912 444 444"}})), 200);
    EXPECT_NE(only(lookup(host, "phone:912 111 111")), only(lookup(host, "phone:912 222 222")));
    EXPECT_NE(only(lookup(host, "phone:912 333 333")), only(lookup(host, "phone:912 444 444")));
    // The decisions say why.
    json decisions = api(host, "/api/v1/match-decisions?limit=1")["match_decisions"];
    ASSERT_EQ(decisions.size(), 1u);
    EXPECT_EQ(decisions[0]["source_message_id"], "t2");
    bool blocked = false;
    for (const auto& i : decisions[0]["details"]["identities"]) blocked |= i["status"] == "blocked";
    EXPECT_TRUE(blocked) << decisions.dump();
}

// An admin checks the rules before turning auto-merge on: the preview says what a message
// from these identities would do, and stores nothing.
TEST_P(CustomerModel, MatchPreviewExplainsADecisionAndStoresNothing) {
    HostProcess host(kChannels, "identity:\n  default_region: PT\n  mode: match_only\n");
    ASSERT_EQ(post(host, "mail", "v1", from({{"email", "vera@x.example"}}), 1000), 200);
    ASSERT_EQ(post(host, "wa", "v2", from({{"phone", "+351 912 444 000"}}), 2000), 200);
    std::string byEmail = only(lookup(host, "email:vera@x.example"));
    std::string byPhone = only(lookup(host, "phone:912 444 000"));
    auto preview = [&](const json& identities) {
        return host.post("/api/v1/match-preview", json{{"identities", identities}, {"name", "Vera"}}.dump(),
                         host.auth());
    };
    auto linking = preview(json::array({{{"type", "email"}, {"value", "VERA@x.example"}},
                                        {{"type", "phone"}, {"value", "912 444 000"}}}));
    ASSERT_EQ(linking.status, 200) << linking.body;
    json p = json::parse(linking.body);
    EXPECT_EQ(p["decision"], "would_merge");
    EXPECT_EQ(p["details"]["customers"].size(), 2u);
    EXPECT_FALSE(p["stored"].get<bool>());
    json fresh = json::parse(preview(json::array({{{"type", "email"}, {"value", "new@x.example"}}})).body);
    EXPECT_EQ(fresh["decision"], "new_customer");
    EXPECT_TRUE(fresh["customer_id"].is_null());
    // Nothing of either preview was kept.
    EXPECT_TRUE(lookup(host, "email:new@x.example").empty());
    EXPECT_EQ(lookup(host, "email:vera@x.example"), std::vector<std::string>{byEmail});
    EXPECT_EQ(api(host, "/api/v1/customers/" + byPhone)["identities"].size(), 1u);
    EXPECT_EQ(api(host, "/api/v1/match-decisions?limit=500")["match_decisions"].size(), 2u);
    EXPECT_EQ(preview(json::array({{{"type", "fax"}, {"value", "1"}}})).status, 400);
    EXPECT_EQ(host.post("/api/v1/match-preview", "{}", host.auth()).status, 400);
    EXPECT_EQ(host.post("/api/v1/match-preview", "{}").status, 401);
}

TEST_P(CustomerModel, MatchOnlyModeRecordsWithoutMerging) {
    HostProcess host(kChannels, "identity:\n  default_region: PT\n  mode: match_only\n");
    ASSERT_EQ(post(host, "mail", "o1", from({{"email", "one@x.example"}}), 1000), 200);
    ASSERT_EQ(post(host, "mail", "o2", from({{"email", "two@x.example"}}), 2000), 200);
    ASSERT_EQ(post(host, "mail", "o3", from({{"email", "one@x.example"}, {"phone", "+351 912 555 555"}}), 3000), 200);
    ASSERT_EQ(post(host, "mail", "o4", from({{"email", "two@x.example"}, {"phone", "912 555 555"}}), 4000), 200);
    std::string one = only(lookup(host, "email:one@x.example")), two = only(lookup(host, "email:two@x.example"));
    EXPECT_NE(one, two);
    EXPECT_EQ(api(host, "/api/v1/customers/" + one + "/merges")["merges"].size(), 0u);
    json d = api(host, "/api/v1/match-decisions?limit=1")["match_decisions"][0];
    EXPECT_EQ(d["decision"], "would_merge");
    EXPECT_EQ(d["details"]["customers"].size(), 2u);
}

TEST_P(CustomerModel, ConcurrentFirstContactCreatesOneCustomer) {
    HostProcess host(kChannels, kIdentityPT);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            if (post(host, i % 2 ? "wa" : "site-chat", "first-" + std::to_string(i),
                     from({{"email", "new.person@x.example"}})) == 200)
                ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 8);
    std::string id = only(lookup(host, "email:new.person@x.example"));
    EXPECT_EQ(timelineIds(host, id).size(), 8u);
}

TEST_P(CustomerModel, TimelinePaginationIsStableWhileInteractionsArrive) {
    HostProcess host(kChannels, kIdentityPT);
    for (int i = 1; i <= 5; ++i)
        ASSERT_EQ(post(host, "mail", "p" + std::to_string(i), from({{"email", "pager@x.example"}}), i * 1000), 200);
    std::string id = only(lookup(host, "email:pager@x.example"));
    json page1 = api(host, "/api/v1/customers/" + id + "/timeline?limit=2");
    ASSERT_EQ(page1["interactions"].size(), 2u);
    EXPECT_EQ(page1["interactions"][0]["source_message_id"], "p5");
    // A newer and a late-arriving older interaction land between page requests.
    ASSERT_EQ(post(host, "mail", "p9", from({{"email", "pager@x.example"}}), 9000), 200);
    ASSERT_EQ(post(host, "mail", "p0", from({{"email", "pager@x.example"}}), 500), 200);
    std::vector<std::string> seen = {"p5", "p4"};
    std::string cursor = page1["next_cursor"];
    while (!cursor.empty()) {
        json page = api(host, "/api/v1/customers/" + id + "/timeline?limit=2&cursor=" + cursor);
        for (const auto& i : page["interactions"]) seen.push_back(i["source_message_id"]);
        cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    }
    // Nothing repeated, nothing skipped; the older late arrival sorts into its place.
    EXPECT_EQ(seen, (std::vector<std::string>{"p5", "p4", "p3", "p2", "p1", "p0"}));
    EXPECT_EQ(host.get("/api/v1/customers/" + id + "/timeline?cursor=garbage", host.auth()).status, 400);
}

TEST_P(CustomerModel, ExportThenEraseLeavesOnlyATombstoneAndRedeliveryDoesNotRecreate) {
    // With a cardinality threshold the store also remembers which values came together: the
    // erasure must take those rows too.
    HostProcess host(kChannels, kIdentityPT + "  cardinality: { phone: 5 }\n");
    ASSERT_EQ(post(host, "site-chat", "x1", from({{"name", "Eva Lopes"}, {"email", "eva@x.example"}}), 1000,
                   "my secret address is Rua 1"), 200);
    ASSERT_EQ(post(host, "wa", "x2", from({{"email", "eva@x.example"}, {"phone", "+351 912 777 777"}}), 2000), 200);
    std::string eva = only(lookup(host, "email:eva@x.example"));

    json exported = api(host, "/api/v1/customers/" + eva + "/export");
    EXPECT_EQ(exported["customer_id"], eva);
    EXPECT_EQ(exported["interactions"].size(), 2u);
    EXPECT_EQ(exported["identities"].size(), 2u);
    EXPECT_NE(exported.dump().find("my secret address is Rua 1"), std::string::npos);
    EXPECT_NE(exported.dump().find("Eva Lopes"), std::string::npos);
    // The raw payload (BLOB / BYTEA) comes back as its text on both stores, not as hex.
    ASSERT_TRUE(exported["interactions"][0]["raw"].is_string()) << exported["interactions"][0].dump();
    EXPECT_NE(exported["interactions"][0]["raw"].get<std::string>().find("Rua 1"), std::string::npos);
    EXPECT_TRUE(exported["interactions"][0]["occurred_at_ms"].is_number());

    auto erased = http("DELETE", host.port(), "/api/v1/customers/" + eva, "", host.auth());
    ASSERT_EQ(erased.status, 200) << erased.body;
    EXPECT_EQ(json::parse(erased.body)["interactions"], 2);
    EXPECT_EQ(host.get("/api/v1/customers/" + eva, host.auth()).status, 410);
    EXPECT_TRUE(lookup(host, "email:eva@x.example").empty());
    EXPECT_TRUE(lookup(host, "phone:912 777 777").empty());

    // Nothing identifying is left in the store, logically or (SQLite) in the bytes on disk
    // (free pages, the WAL): only ids and keyed hashes. On PostgreSQL the logical check is a
    // data dump; dead row versions are PostgreSQL's to VACUUM, not checked byte by byte here.
    auto dump = host.onPostgres() ? run({pgDump(), "--data-only", "-d", host.storeConfig().postgresqlUrl})
                                  : run({"sqlite3", host.dbPath(), ".dump"});
    ASSERT_EQ(dump.exitCode, 0) << dump.err;
    if (host.onPostgres()) {
        EXPECT_NE(dump.out.find("erased_keys"), std::string::npos);  // it did dump data
    }
    const std::string onDisk =
        host.onPostgres() ? std::string() : readFile(host.dbPath()) + readFile(host.dbPath() + "-wal");
    for (const char* pii : {"eva@x.example", "Eva Lopes", "Rua 1", "912777777", "912 777 777"}) {
        EXPECT_EQ(dump.out.find(pii), std::string::npos) << pii;
        EXPECT_EQ(onDisk.find(pii), std::string::npos) << pii << " is still in the file bytes";
    }

    // The provider redelivers an old message: acknowledged, not stored, nobody recreated.
    auto again = host.post("/webhooks/site-chat",
                           json{{"id", "x1"}, {"from", from({{"email", "eva@x.example"}})}, {"text", "hi"}}.dump());
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(json::parse(again.body)["status"], "duplicate");
    EXPECT_TRUE(lookup(host, "email:eva@x.example").empty());
    // A new message is a new contact: it creates a fresh customer, not the erased one.
    ASSERT_EQ(post(host, "mail", "x3", from({{"email", "eva@x.example"}})), 200);
    std::string fresh = only(lookup(host, "email:eva@x.example"));
    EXPECT_NE(fresh, eva);
    EXPECT_EQ(timelineIds(host, fresh), std::vector<std::string>{"x3"});
}

TEST_P(CustomerModel, ConsentBelongsToTheAddressAndSurvivesMergeAndUnmerge) {
    HostProcess host(kChannels, kIdentityPT);
    ASSERT_EQ(post(host, "mail", "k1", from({{"email", "kim@x.example"}, {"phone", "+351 912 888 888"}}), 1000), 200);
    ASSERT_EQ(post(host, "mail", "k2", from({{"email", "kim@other.example"}}), 2000), 200);
    std::string kim = only(lookup(host, "email:kim@x.example"));
    std::string other = only(lookup(host, "email:kim@other.example"));

    auto put = [&](const std::string& id, const json& body) {
        return http("PUT", host.port(), "/api/v1/customers/" + id + "/consent", body.dump(), host.auth());
    };
    auto optOut = put(kim, {{"identity", "phone:912 888 888"}, {"purpose", "marketing"}, {"status", "opted_out"},
                            {"evidence", "SMS STOP at 10:02"}});
    ASSERT_EQ(optOut.status, 200) << optOut.body;
    EXPECT_EQ(put(kim, {{"identity", "phone:912 888 888"}, {"purpose", "spam"}, {"status", "opted_out"}}).status, 400);
    EXPECT_EQ(put(kim, {{"identity", "email:kim@other.example"}, {"purpose", "service"}, {"status", "opted_in"}}).status,
              409);  // not this customer's address

    auto consentOf = [&](const std::string& id, const std::string& type) {
        json c = api(host, "/api/v1/customers/" + id);
        for (const auto& i : c["identities"])
            if (i["type"] == type) return i["consent"];
        return json();
    };
    EXPECT_EQ(consentOf(kim, "phone")["marketing"]["status"], "opted_out");
    EXPECT_TRUE(consentOf(kim, "email").empty());  // an opt-out on one number never silences email

    // Merge and unmerge: the phone's opt-out stays with the phone.
    auto merged = host.post("/api/v1/customers/" + other + "/merge", json{{"other_id", kim}}.dump(), host.auth());
    ASSERT_EQ(merged.status, 200) << merged.body;
    EXPECT_EQ(consentOf(other, "phone")["marketing"]["status"], "opted_out");
    ASSERT_EQ(host.post("/api/v1/customers/" + other + "/unmerge",
                        json{{"merge_id", json::parse(merged.body)["merge_id"]}}.dump(), host.auth()).status, 200);
    EXPECT_EQ(consentOf(kim, "phone")["marketing"]["status"], "opted_out");
    EXPECT_TRUE(consentOf(other, "email").empty());
}

TEST_P(CustomerModel, AttributeSurvivorshipHandEnteredThenSourcePriorityThenMostRecent) {
    HostProcess host(kChannels, kIdentityPT + "  source_priority: [ mail ]\n");
    auto withAttrs = [&](const std::string& instance, const std::string& id, int64_t at, const json& attrs) {
        json m{{"id", id}, {"from", {{"email", "lia@x.example"}}}, {"text", "hi"}, {"timestamp", at},
               {"attributes", attrs}};
        return host.post("/webhooks/" + instance, m.dump()).status;
    };
    ASSERT_EQ(withAttrs("mail", "l1", 1000, {{"customer.tier", "silver"}, {"customer.language", "pt"}}), 200);
    ASSERT_EQ(withAttrs("wa", "l2", 2000, {{"customer.tier", "gold"}, {"customer.language", "en"}, {"page", "/x"}}),
              200);
    std::string lia = only(lookup(host, "email:lia@x.example"));
    json a = api(host, "/api/v1/customers/" + lia)["attributes"];
    // `mail` is the preferred source: its tier and language win over the newer values from `wa`.
    EXPECT_EQ(a["tier"]["value"], "silver");
    EXPECT_EQ(a["tier"]["source"], "mail");
    EXPECT_EQ(a["tier"]["source_record"], "l1");
    EXPECT_EQ(a["tier"]["values_seen"], 2);
    EXPECT_EQ(a["language"]["value"], "pt");
    EXPECT_FALSE(a.contains("page"));  // a message attribute, not a customer one

    // Entered by hand beats every source.
    auto put = http("PUT", host.port(), "/api/v1/customers/" + lia + "/attributes",
                    json{{"name", "tier"}, {"value", "platinum"}}.dump(), host.auth());
    ASSERT_EQ(put.status, 200) << put.body;
    a = api(host, "/api/v1/customers/" + lia)["attributes"];
    EXPECT_EQ(a["tier"]["value"], "platinum");
    EXPECT_TRUE(a["tier"]["entered_by_hand"].get<bool>());
    EXPECT_EQ(http("PUT", host.port(), "/api/v1/customers/" + lia + "/attributes",
                   json{{"name", "tier"}, {"value", ""}}.dump(), host.auth()).status, 400);
}

TEST_P(CustomerModel, WithoutSourcePriorityTheMostRecentValueWins) {
    HostProcess host(kChannels, kIdentityPT);
    for (auto [instance, id, at, tier] : {std::tuple{"wa", "r2", 2000, "gold"}, std::tuple{"mail", "r1", 1000, "silver"}}) {
        json m{{"id", id}, {"from", {{"email", "rita@x.example"}}}, {"text", "hi"}, {"timestamp", at},
               {"attributes", {{"customer.tier", tier}}}};
        ASSERT_EQ(host.post(std::string("/webhooks/") + instance, m.dump()).status, 200);
    }
    std::string rita = only(lookup(host, "email:rita@x.example"));
    // r1 arrived last but happened first: observed time decides, not arrival order.
    EXPECT_EQ(api(host, "/api/v1/customers/" + rita)["attributes"]["tier"]["value"], "gold");
}

TEST_P(CustomerModel, AnIdentityOverItsTypeLimitIsAttachedButNeverLinks) {
    HostProcess host(kChannels, kIdentityPT + "  limits: { email: 2 }\n  limit_window: 8760h\n");
    // One phone, three emails within the window: the third email is over the limit.
    ASSERT_EQ(post(host, "wa", "q1", from({{"phone", "+351 912 999 001"}, {"email", "q1@x.example"}}), 1000), 200);
    ASSERT_EQ(post(host, "wa", "q2", from({{"phone", "+351 912 999 001"}, {"email", "q2@x.example"}}), 2000), 200);
    ASSERT_EQ(post(host, "wa", "q3", from({{"phone", "+351 912 999 001"}, {"email", "q3@x.example"}}), 3000), 200);
    std::string q = only(lookup(host, "phone:912 999 001"));
    json c = api(host, "/api/v1/customers/" + q);
    std::map<std::string, std::string> status;
    for (const auto& i : c["identities"]) status[i["normalized"]] = i["status"];
    EXPECT_EQ(status["q1@x.example"], "usable");
    EXPECT_EQ(status["q2@x.example"], "usable");
    EXPECT_EQ(status["q3@x.example"], "over_limit");
    // A message from the over-limit address alone does not reach this customer.
    ASSERT_EQ(post(host, "mail", "q4", from({{"email", "q3@x.example"}}), 4000), 200);
    EXPECT_EQ(timelineIds(host, q), (std::vector<std::string>{"q3", "q2", "q1"}));
}

TEST_P(CustomerModel, AValueSeenWithTooManyOthersStopsLinking) {
    HostProcess host(kChannels, kIdentityPT + "  cardinality: { phone: 2 }\n");
    // A family phone: two people's emails come with it, and they become one customer (the
    // threshold allows two); the third person's email makes the phone generic.
    ASSERT_EQ(post(host, "wa", "f1", from({{"phone", "+351 912 555 001"}, {"email", "ana@x.example"}}), 1000), 200);
    ASSERT_EQ(post(host, "wa", "f2", from({{"phone", "+351 912 555 001"}, {"email", "bea@x.example"}}), 2000), 200);
    std::string family = only(lookup(host, "email:ana@x.example"));
    EXPECT_EQ(only(lookup(host, "email:bea@x.example")), family);
    ASSERT_EQ(post(host, "wa", "f3", from({{"phone", "+351 912 555 001"}, {"email", "caio@x.example"}}), 3000), 200);
    std::string caio = only(lookup(host, "email:caio@x.example"));
    EXPECT_NE(caio, family);
    // The phone alone now links nobody: a new customer, and the family's timeline is untouched.
    ASSERT_EQ(post(host, "wa", "f4", from({{"phone", "+351 912 555 001"}}), 4000), 200);
    EXPECT_EQ(timelineIds(host, family), (std::vector<std::string>{"f2", "f1"}));
    EXPECT_EQ(timelineIds(host, caio), (std::vector<std::string>{"f3"}));
    // The customer API says why.
    const json familyRecord = api(host, "/api/v1/customers/" + family);
    for (const auto& i : familyRecord["identities"]) {
        if (i["type"] != "phone") continue;
        EXPECT_EQ(i["status"], "over_cardinality") << i.dump();
    }
    // Its other values still link as before.
    ASSERT_EQ(post(host, "mail", "f5", from({{"email", "ana@x.example"}}), 5000), 200);
    EXPECT_EQ(timelineIds(host, family), (std::vector<std::string>{"f5", "f2", "f1"}));
}

TEST_P(CustomerModel, ApiErrorsAreClear) {
    HostProcess host(kChannels, kIdentityPT);
    EXPECT_EQ(host.get("/api/v1/customers?identity=email:a@b.example").status, 401);
    EXPECT_EQ(host.get("/api/v1/customers?identity=fax:123", host.auth()).status, 400);
    EXPECT_EQ(host.get("/api/v1/customers", host.auth()).status, 400);
    EXPECT_EQ(host.get("/api/v1/customers/cus_nope", host.auth()).status, 404);
    EXPECT_EQ(host.get("/api/v1/customers?q=x&limit=0", host.auth()).status, 400);
    EXPECT_EQ(lookup(host, "email:nobody@x.example").size(), 0u);
}
