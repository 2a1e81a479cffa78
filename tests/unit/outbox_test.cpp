// The outbox below the HTTP layer: backoff bounds, the choice of sink, channel and recipient,
// consent, idempotency, merged ids, and the dispatcher's retry budget, on SQLite and
// PostgreSQL. Sinks are a fake HostControl, so each outcome is chosen by the test.
#include "config/config.h"
#include "customer/merges.h"
#include "customer/privacy.h"
#include "customer/resolver.h"
#include "outbox/backoff.h"
#include "outbox/outbox.h"
#include "runtime/time_format.h"
#include "store/sql.h"
#include "store/store.h"
#include "test_support.h"

#include <Poco/Data/Statement.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>

// Requests name only the fields a test is about; GCC 12 warns about the rest even with
// designated initializers, whose omitted members keep their defaults by definition.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace switchboard::host;
using namespace Poco::Data::Keywords;
using switchboard::test::TempDir;
using switchboard::test::testStoreConfig;

namespace {

TEST(Backoff, CapDoublesFromInitialAndStopsAtMax) {
    config::OutboxConfig c;
    c.initialBackoff = std::chrono::milliseconds(100);
    c.maxBackoff = std::chrono::milliseconds(1000);
    EXPECT_EQ(outbox::backoffCap(c, 1).count(), 100);
    EXPECT_EQ(outbox::backoffCap(c, 2).count(), 200);
    EXPECT_EQ(outbox::backoffCap(c, 4).count(), 800);
    EXPECT_EQ(outbox::backoffCap(c, 5).count(), 1000);
    EXPECT_EQ(outbox::backoffCap(c, 1'000'000).count(), 1000);  // no overflow on a huge budget
}

TEST(Backoff, FullJitterStaysWithinTheCapAndHonoursRetryAfter) {
    config::OutboxConfig c;
    c.initialBackoff = std::chrono::milliseconds(100);
    c.maxBackoff = std::chrono::milliseconds(1000);
    std::mt19937_64 rng(42);
    int64_t lowest = INT64_MAX, highest = 0;
    for (int i = 0; i < 2000; ++i) {
        int64_t d = outbox::retryDelay(c, 3, 0, rng).count();
        ASSERT_GE(d, 0);
        ASSERT_LE(d, 400);
        lowest = std::min(lowest, d);
        highest = std::max(highest, d);
    }
    // Spread over the whole range, not clustered at the cap: that is what full jitter means.
    EXPECT_LT(lowest, 50);
    EXPECT_GT(highest, 350);
    for (int i = 0; i < 200; ++i) EXPECT_GE(outbox::retryDelay(c, 1, 5000, rng).count(), 5000);
}

// Connector instances as the outbox sees them; sendMessage answers from a script.
class FakeSinks : public HostControl {
public:
    std::map<std::string, ConnectorStatus> instances;
    std::deque<SinkSendResult> script;  // consumed in order; OK when empty
    std::vector<std::string> sentTexts;

    void add(const std::string& name, const std::string& kind, const std::string& channel = "") {
        ConnectorStatus st;
        st.name = name;
        st.plugin = "fake_" + name;
        st.kind = kind;
        st.state = "running";
        if (!channel.empty()) st.options = {{"channel", channel}};
        instances[name] = st;
    }
    std::vector<ConnectorStatus> connectors() const override { return {}; }
    std::optional<ConnectorStatus> connector(const std::string& name) const override {
        auto it = instances.find(name);
        if (it == instances.end()) return std::nullopt;
        return it->second;
    }
    ControlResult pause(const std::string&) override { return {}; }
    ControlResult resume(const std::string&) override { return {}; }
    ControlResult restart(const std::string&) override { return {}; }
    WebhookOutcome dispatchWebhook(const std::string&, const WebhookRequest&, WebhookResponse&) override {
        return WebhookOutcome::NotFound;
    }
    bool ready(std::string&) const override { return true; }
    SinkSendResult sendMessage(const std::string&, const sb_message& m) override {
        SinkSendResult r;
        if (!script.empty()) {
            r = script.front();
            script.pop_front();
        }
        if (r.call == SinkCall::Called && r.status == SB_OK) {
            sentTexts.emplace_back(m.text.data, m.text.size);
            r.providerMessageId = "p-" + std::to_string(sentTexts.size());
        }
        return r;
    }
};

class OutboxOn : public ::testing::TestWithParam<std::string> {
protected:
    OutboxOn() {
        config::IdentityConfig identity;
        identity.defaultRegion = "PT";
        resolver = std::make_shared<customer::IdentityResolver>(identity);
        store = std::make_unique<Store>(storeConfig, resolver);
        sinks.add("chat", "source");
        sinks.add("sms", "sink", "sms");
        sinks.add("mail", "source+sink");
        cfg.initialBackoff = std::chrono::milliseconds(1);
        cfg.maxBackoff = std::chrono::milliseconds(1);
        cfg.maxAttempts = 3;
        box = std::make_unique<outbox::Outbox>(*store, sinks, metrics, resolver, cfg);
    }

    // An inbound message from these identities, at time t; returns its customer.
    std::string inbound(const std::string& connector, const std::string& channel, const std::string& id, int64_t t,
                        std::vector<customer::SenderIdentity> sender,
                        std::vector<std::pair<std::string, std::string>> attributes = {}) {
        MessageRecord m;
        m.connector = connector;
        m.channel = channel;
        m.direction = "inbound";
        m.sourceId = id;
        m.occurredAtMs = t;
        m.receivedAtMs = t;
        nlohmann::json senders = nlohmann::json::array();
        for (const auto& s : sender) senders.push_back({{"type", s.type}, {"value", s.value}, {"scope", s.scope}});
        m.normalizedJson = nlohmann::json{{"sender", senders}}.dump();
        m.sender = sender;
        m.customerAttributes = attributes;
        store->commit({m}, std::nullopt, connector);
        std::string customer;
        store->withSession([&](Sql& s) {
            std::string c = connector, sid = id;
            s << "SELECT customer_id FROM messages WHERE connector = ? AND source_id = ?", use(c), use(sid),
                into(customer), now;
        });
        return customer;
    }

    outbox::EnqueueResult enqueue(outbox::OutboundRequest r) {
        if (r.text.empty()) r.text = "hello";
        return box->submit(r);
    }

    std::string outboxState(int64_t id, int64_t* attempts = nullptr) {
        std::string state;
        int64_t n = 0;
        store->withSession([&](Sql& s) {
            int64_t rowId = id;
            s << "SELECT state, attempts FROM outbox WHERE id = ?", use(rowId), into(state), into(n), now;
        });
        if (attempts) *attempts = n;
        return state;
    }

    TempDir dir;
    config::StoreConfig storeConfig = testStoreConfig(GetParam(), dir);
    std::shared_ptr<customer::IdentityResolver> resolver;
    std::unique_ptr<Store> store;
    FakeSinks sinks;
    Metrics metrics;
    config::OutboxConfig cfg;
    std::unique_ptr<outbox::Outbox> box;
};

INSTANTIATE_TEST_SUITE_P(Engines, OutboxOn, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(OutboxOn, NamedSinkUsesItsChannelOptionAndTheCustomersAddressOfThatType) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "912 345 678", ""}, {"email", "a@x.pt", ""}});
    auto r = enqueue({.customerId = ana, .connector = "sms"});
    ASSERT_TRUE(r.accepted) << r.error;
    EXPECT_EQ(r.connector, "sms");
    EXPECT_EQ(r.channel, "sms");
    std::string payload;
    store->withSession([&](Sql& s) {
        int64_t id = r.outboxId;
        s << "SELECT payload_json FROM outbox WHERE id = ?", use(id), into(payload), now;
    });
    auto p = nlohmann::json::parse(payload);
    ASSERT_EQ(p["recipients"].size(), 1u);
    EXPECT_EQ(p["recipients"][0]["value"], "+351912345678");  // normalized: what a gateway dials
}

TEST_P(OutboxOn, ChannelGoesToTheInstanceOfTheLatestInboundThereOrIsRefused) {
    std::string ana = inbound("mail", "email", "e1", 1000, {{"email", "ana@x.pt", ""}});
    inbound("chat", "webchat", "c1", 2000, {{"email", "ana@x.pt", ""}});
    auto byEmail = enqueue({.customerId = ana, .channel = "email"});
    ASSERT_TRUE(byEmail.accepted) << byEmail.error;
    EXPECT_EQ(byEmail.connector, "mail");
    // Latest inbound overall is webchat, through a source that cannot send.
    auto latest = enqueue({.customerId = ana});
    EXPECT_FALSE(latest.accepted);
    EXPECT_EQ(latest.httpStatus, 409);
    EXPECT_NE(latest.error.find("connector"), std::string::npos) << latest.error;
    auto sms = enqueue({.customerId = ana, .channel = "sms"});
    EXPECT_EQ(sms.httpStatus, 409);
    // A named instance that is not a sink, or does not exist.
    EXPECT_EQ(enqueue({.customerId = ana, .connector = "chat"}).httpStatus, 400);
    EXPECT_EQ(enqueue({.customerId = ana, .connector = "nope"}).httpStatus, 400);
    // No phone: nothing the sms sink can reach.
    auto noPhone = enqueue({.customerId = ana, .connector = "sms"});
    EXPECT_EQ(noPhone.httpStatus, 409);
    EXPECT_NE(noPhone.error.find("no address"), std::string::npos) << noPhone.error;
}

TEST_P(OutboxOn, FollowPreferenceUsesThePreferredChannel) {
    std::string ana = inbound("mail", "email", "e1", 1000, {{"email", "ana@x.pt", ""}}, {{"preferred_channel", "email"}});
    inbound("chat", "webchat", "c1", 2000, {{"email", "ana@x.pt", ""}});
    auto r = enqueue({.customerId = ana, .followPreference = true});
    ASSERT_TRUE(r.accepted) << r.error;
    EXPECT_EQ(r.channel, "email");
    EXPECT_EQ(r.connector, "mail");
    std::string bob = inbound("chat", "webchat", "c2", 3000, {{"email", "bob@x.pt", ""}});
    EXPECT_EQ(enqueue({.customerId = bob, .followPreference = true}).httpStatus, 409);
}

TEST_P(OutboxOn, ConsentAndCustomerStateAreChecked) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    const std::string key = resolver->normalizer().normalize(customer::IdentityType::Phone, "+351912345678").matchKey;
    store->withSession([&](Sql& s) {
        std::string k = key;
        s << "INSERT INTO consents (match_key, purpose, status, source, updated_at_ms) VALUES (?, 'service', "
             "'opted_out', 'test', 1)",
            use(k), now;
    });
    auto refused = enqueue({.customerId = ana, .connector = "sms"});
    EXPECT_EQ(refused.httpStatus, 409);
    EXPECT_NE(refused.error.find("opted out"), std::string::npos) << refused.error;
    EXPECT_EQ(enqueue({.customerId = ana, .connector = "sms", .purpose = "marketing"}).httpStatus, 409);
    EXPECT_EQ(enqueue({.customerId = "cus_unknown", .connector = "sms"}).httpStatus, 404);
    EXPECT_EQ(enqueue({.customerId = ana, .connector = "sms", .purpose = "spam"}).httpStatus, 400);
    int64_t rows = -1;
    store->withSession([&](Sql& s) { s << "SELECT COUNT(*) FROM outbox", into(rows), now; });
    EXPECT_EQ(rows, 0);  // nothing refused left anything behind
}

TEST_P(OutboxOn, MergedIdSendsToTheSurvivorAndIdempotencyKeyEnqueuesOnce) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    std::string other = inbound("chat", "webchat", "c2", 2000, {{"phone", "+351911111111", ""}});
    store->inTransaction([&](Sql& s) { customer::mergeCustomers(s, ana, other, "{}", 3000); });
    auto first = enqueue({.customerId = other, .connector = "sms", .idempotencyKey = "k-1"});
    ASSERT_TRUE(first.accepted) << first.error;
    auto again = enqueue({.customerId = other, .connector = "sms", .idempotencyKey = "k-1"});
    EXPECT_EQ(again.outboxId, first.outboxId);
    EXPECT_EQ(again.messageId, first.messageId);
    std::string owner;
    store->withSession([&](Sql& s) {
        int64_t id = first.messageId;
        s << "SELECT customer_id FROM messages WHERE id = ?", use(id), into(owner), now;
    });
    EXPECT_EQ(owner, ana);
}

TEST_P(OutboxOn, SinkFailingNTimesThenSucceedingIsSentOnce) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    sinks.script = {{SinkCall::Called, SB_RETRY, "busy", {}, 0}, {SinkCall::Called, SB_RETRY, "busy", {}, 0}};
    auto r = enqueue({.customerId = ana, .connector = "sms", .text = "once"});
    ASSERT_TRUE(r.accepted);
    int64_t attempts = 0;
    for (int i = 0; i < 200 && outboxState(r.outboxId, &attempts) == "pending"; ++i) {
        box->dispatchDue();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(outboxState(r.outboxId, &attempts), "sent");
    EXPECT_EQ(attempts, 3);
    EXPECT_EQ(sinks.sentTexts, std::vector<std::string>{"once"});
    EXPECT_EQ(metrics.value("switchboard_outbound_retried_total", {{"instance", "sms"}}), 2);
}

TEST_P(OutboxOn, RetryBudgetSpentOrPermanentFailureDeadLettersAndReplayRestoresTheBudget) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    for (int i = 0; i < 3; ++i) sinks.script.push_back({SinkCall::Called, SB_RETRY, "down", {}, 0});
    auto r = enqueue({.customerId = ana, .connector = "sms"});
    for (int i = 0; i < 200 && outboxState(r.outboxId) == "pending"; ++i) {
        box->dispatchDue();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    int64_t attempts = 0;
    EXPECT_EQ(outboxState(r.outboxId, &attempts), "dead");
    EXPECT_EQ(attempts, 3);
    auto listed = box->list("dead", 10, INT64_MAX);
    ASSERT_EQ(listed.body["items"].size(), 1u);
    EXPECT_NE(listed.body["items"][0]["last_error"].get<std::string>().find("down"), std::string::npos);
    EXPECT_EQ(box->replay(r.outboxId).status, 202);
    box->dispatchDue();
    EXPECT_EQ(outboxState(r.outboxId), "sent");
    EXPECT_EQ(box->replay(r.outboxId).status, 409);
    EXPECT_EQ(box->remove(r.outboxId).status, 409);

    sinks.script = {{SinkCall::Called, SB_FAIL_DATA, "bad number", {}, 0}};
    auto bad = enqueue({.customerId = ana, .connector = "sms"});
    box->dispatchDue();
    EXPECT_EQ(outboxState(bad.outboxId, &attempts), "dead");
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(box->remove(bad.outboxId).status, 200);
    EXPECT_EQ(box->remove(bad.outboxId).status, 404);
}

TEST_P(OutboxOn, StoppedSinkWaitsWithoutSpendingAttempts) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    sinks.script = {{SinkCall::NotRunning, SB_RETRY, "paused", {}, 0}};
    auto r = enqueue({.customerId = ana, .connector = "sms"});
    box->dispatchDue();
    int64_t attempts = -1;
    EXPECT_EQ(outboxState(r.outboxId, &attempts), "pending");
    EXPECT_EQ(attempts, 0);
}

TEST_P(OutboxOn, FatalSinkErrorKeepsTheBacklogPendingAndSendsNothingMoreInThatPass) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    // The sink's credentials are revoked: its send says the instance is broken. Had the rest
    // of the pass reached the fake, it would have "delivered" the next two at once.
    sinks.script = {{SinkCall::Called, SB_FAIL_FATAL, "provider answered 401: credentials revoked", {}, 0}};
    std::vector<int64_t> ids;
    for (const char* text : {"one", "two", "three"})
        ids.push_back(enqueue({.customerId = ana, .connector = "sms", .text = text}).outboxId);
    box->dispatchDue();
    for (int64_t id : ids) {
        int64_t attempts = -1;
        EXPECT_EQ(outboxState(id, &attempts), "pending") << "not the message's fault";
        EXPECT_EQ(attempts, 0) << "no attempt spent on a broken instance";
    }
    EXPECT_TRUE(sinks.sentTexts.empty()) << "nothing else went to the failed instance";
    auto pending = box->list("pending", 10, INT64_MAX);
    ASSERT_EQ(pending.body["items"].size(), 3u);
    EXPECT_NE(pending.body["items"][2]["last_error"].get<std::string>().find("FAIL_FATAL: provider answered 401"),
              std::string::npos)
        << pending.body.dump();
    EXPECT_EQ(metrics.value("switchboard_outbound_deadlettered_total", {{"instance", "sms"}}), 0);
    EXPECT_EQ(metrics.value("switchboard_outbound_failed_total", {{"instance", "sms"}}), 1);

    // The instance runs again: everything pending goes once, in order.
    store->withSession([&](Sql& s) { s << "UPDATE outbox SET next_attempt_at_ms = 0 WHERE state = 'pending'", now; });
    box->dispatchDue();
    for (int64_t id : ids) {
        int64_t attempts = -1;
        EXPECT_EQ(outboxState(id, &attempts), "sent");
        EXPECT_EQ(attempts, 1);
    }
    EXPECT_EQ(sinks.sentTexts, (std::vector<std::string>{"one", "two", "three"}));
}

}  // namespace

TEST_P(OutboxOn, ErasureRemovesTheCustomersOutboxRowsAndTheirPayloads) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    std::string bob = inbound("chat", "webchat", "c2", 1000, {{"phone", "+351913333333", ""}});
    sinks.script = {{SinkCall::Called, SB_FAIL_DATA, "rejected", {}, 0}};
    auto dead = enqueue({.customerId = ana, .connector = "sms", .text = "your card PIN is on its way"});
    box->dispatchDue();
    ASSERT_EQ(outboxState(dead.outboxId), "dead");
    auto waiting = enqueue({.customerId = ana, .connector = "sms", .text = "still waiting"});
    auto other = enqueue({.customerId = bob, .connector = "sms", .text = "bob's"});
    ASSERT_TRUE(waiting.accepted && other.accepted);

    store->inTransaction([&](Sql& s) { customer::eraseCustomer(s, ana, store->erasureKey(), 5000); });

    int64_t anaRows = -1, bobRows = -1;
    store->withSession([&](Sql& s) {
        int64_t a = dead.outboxId, w = waiting.outboxId, b = other.outboxId;
        s << "SELECT COUNT(*) FROM outbox WHERE id IN (?, ?)", use(a), use(w), into(anaRows), now;
        s << "SELECT COUNT(*) FROM outbox WHERE id = ?", use(b), into(bobRows), now;
    });
    EXPECT_EQ(anaRows, 0);  // neither the dead letter nor the pending message keeps the address or text
    EXPECT_EQ(bobRows, 1);
    EXPECT_EQ(box->replay(dead.outboxId).status, 404);
}

TEST_P(OutboxOn, AWithheldOrUnusableNumberIsNeverARecipient) {
    // The customer wrote once from a withheld number, later from a real one.
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"email", "ana@x.pt", ""}, {"phone", "anonymous", ""}});
    auto none = enqueue({.customerId = ana, .connector = "sms"});
    EXPECT_EQ(none.httpStatus, 409) << none.error;
    EXPECT_NE(none.error.find("no address"), std::string::npos) << none.error;
    inbound("chat", "webchat", "c2", 2000, {{"email", "ana@x.pt", ""}, {"phone", "912 345 678", ""}});
    auto r = enqueue({.customerId = ana, .connector = "sms"});
    ASSERT_TRUE(r.accepted) << r.error;
    std::string payload;
    store->withSession([&](Sql& s) {
        int64_t id = r.outboxId;
        s << "SELECT payload_json FROM outbox WHERE id = ?", use(id), into(payload), now;
    });
    auto p = nlohmann::json::parse(payload);
    ASSERT_EQ(p["recipients"].size(), 1u) << payload;
    EXPECT_EQ(p["recipients"][0]["value"], "+351912345678");
}

TEST_P(OutboxOn, TheKeyOfADeletedDeadLetterStaysSpent) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    sinks.script = {{SinkCall::Called, SB_FAIL_DATA, "rejected", {}, 0}};
    auto dead = enqueue({.customerId = ana, .connector = "sms", .idempotencyKey = "order-1"});
    box->dispatchDue();
    ASSERT_EQ(outboxState(dead.outboxId), "dead");
    ASSERT_EQ(box->remove(dead.outboxId).status, 200);
    auto again = enqueue({.customerId = ana, .connector = "sms", .idempotencyKey = "order-1"});
    EXPECT_FALSE(again.accepted);
    EXPECT_EQ(again.httpStatus, 409);
    EXPECT_NE(again.error.find("use a new key"), std::string::npos) << again.error;
    EXPECT_TRUE(enqueue({.customerId = ana, .connector = "sms", .idempotencyKey = "order-2"}).accepted);
}

TEST_P(OutboxOn, AnOptOutWhileTheMessageWaitsStopsItsRetries) {
    std::string ana = inbound("chat", "webchat", "c1", 1000, {{"phone", "+351912345678", ""}});
    sinks.script = {{SinkCall::Called, SB_RETRY, "gateway busy", {}, 0}};
    auto r = enqueue({.customerId = ana, .connector = "sms", .text = "your code is 1234"});
    ASSERT_TRUE(r.accepted) << r.error;
    box->dispatchDue();
    ASSERT_EQ(outboxState(r.outboxId), "pending");
    ASSERT_EQ(sinks.sentTexts.size(), 0u);
    // The customer texts STOP before the retry.
    const std::string key = resolver->normalizer().normalize(customer::IdentityType::Phone, "+351912345678").matchKey;
    store->withSession([&](Sql& s) {
        std::string k = key;
        s << "INSERT INTO consents (match_key, purpose, status, source, updated_at_ms) VALUES (?, 'service', "
             "'opted_out', 'sms STOP', 2)",
            use(k), now;
    });
    int64_t attemptsBefore = 0, attemptsAfter = 0;
    outboxState(r.outboxId, &attemptsBefore);
    for (int i = 0; i < 200 && outboxState(r.outboxId) == "pending"; ++i) {
        box->dispatchDue();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(outboxState(r.outboxId, &attemptsAfter), "dead");
    EXPECT_EQ(attemptsAfter, attemptsBefore);  // the sink was not called again
    EXPECT_TRUE(sinks.sentTexts.empty());
    auto dead = box->list("dead", 10, INT64_MAX);
    ASSERT_EQ(dead.body["items"].size(), 1u);
    EXPECT_NE(dead.body["items"][0]["last_error"].get<std::string>().find("opted out of service"), std::string::npos)
        << dead.body.dump();
}
