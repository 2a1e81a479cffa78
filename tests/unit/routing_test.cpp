// Routing rules: the config section (every error at once, with file:line:col), each
// condition type, first-match-wins and continue, templated actions with idempotency keys,
// the seed scenario, and the in-transaction stage on a real store (SQLite and PostgreSQL).
#include "postgres_server.h"
#include "test_support.h"

#include "config/config.h"
#include "customer/resolver.h"
#include "customer/threading.h"
#include "metrics/metrics.h"
#include "routing/router.h"
#include "routing/routing_stage.h"
#include "routing/templates.h"
#include "store/store.h"

#include <Poco/Data/Statement.h>
#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace switchboard::host;
using nlohmann::json;
using routing::RoutingEngine;
using routing::RoutingInput;
using switchboard::test::TempDir;

namespace {

const char* const kConnectors = R"(
connectors:
  - { name: site-chat, plugin: webchat }
  - { name: mail, plugin: email }
  - { name: sms-out, plugin: sms }
  - { name: crm, plugin: salesforce }
)";

// The seed scenario of config/README.md ("routing").
const char* const kSeedRouting = R"(
routing:
  business_hours:
    lisbon:
      time_zone: Europe/Lisbon
      open: { mon-fri: "09:00-18:00", sat: "10:00-14:00" }
      holidays: ["2026-12-25", "2027-01-01"]
  rules:
    - name: replacement-card
      when:
        keywords: [card]
        text: "(?i)\\b(lost|stolen|replace(ment)?)\\b"
      then:
        queue: cards
        team: support
        priority: high
        tags: [card, replacement]
        reply:
          - via: sms-out
            text: "Hi {{customer.name}}, your replacement card request is registered."
          - channel: email
            subject: "Replacement card request registered"
            text: "Dear {{customer.name}}, we registered your request: {{message.text}}"
        case: { via: crm, action: create, subject: "Replacement card: {{customer.name}}" }
    - name: products
      when:
        text: "(?i)\\b(product|price|features?|specs?)\\b"
      then: { queue: product, team: product, tags: [product] }
    - name: coupons
      when:
        keywords: [coupon, voucher, promo code, discount code]
      then: { queue: marketing, team: marketing, tags: [coupon] }
    - name: business
      when:
        text: "(?i)\\b(quote|partnership|bulk|invoice|enterprise)\\b"
      then: { queue: sales, team: sales, tags: [business] }
)";

config::HostConfig load(const std::string& routingYaml) {
    config::LoadResult r = config::loadText(std::string(kConnectors) + routingYaml, "sb.yaml");
    if (!r.config) {
        std::string all;
        for (const auto& e : r.errors) all += e.format() + "\n";
        ADD_FAILURE() << all;
        return {};
    }
    return *r.config;
}

std::vector<std::string> errorsOf(const std::string& routingYaml) {
    config::LoadResult r = config::loadText(std::string(kConnectors) + routingYaml, "sb.yaml");
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.format());
    return out;
}

bool anyContains(const std::vector<std::string>& list, const std::string& needle) {
    for (const auto& s : list)
        if (s.find(needle) != std::string::npos) return true;
    return false;
}

int64_t utc(int y, int mo, int d, int h, int mi) {
    return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone()));
}

RoutingInput message(const std::string& text, const std::string& channel = "webchat") {
    RoutingInput in;
    in.messageId = 42;
    in.customerId = "c-1";
    in.customerName = "Ana Silva";
    in.channel = channel;
    in.connector = "site-chat";
    in.text = text;
    in.identityTypes = {"email"};
    in.atMs = utc(2026, 3, 30, 10, 0);  // Monday 11:00 in Lisbon
    return in;
}

// The single condition result of a one-condition rule named "r".
routing::ConditionResult only(const routing::RoutingOutcome& o) {
    EXPECT_EQ(o.rules.size(), 1u);
    EXPECT_EQ(o.rules[0].conditions.size(), 1u);
    return o.rules.at(0).conditions.at(0);
}

std::string oneRule(const std::string& when) {
    return "routing:\n  business_hours:\n    lisbon: { time_zone: Europe/Lisbon, open: { mon-fri: \"09:00-18:00\" } }\n"
           "  rules:\n    - name: r\n      when: " + when + "\n      then: { queue: q }\n";
}

}  // namespace

// --- config -----------------------------------------------------------------------------

TEST(RoutingConfig, ReadsTheSeedScenario) {
    config::HostConfig c = load(kSeedRouting);
    ASSERT_EQ(c.routing.rules.size(), 4u);
    ASSERT_EQ(c.routing.businessHours.size(), 1u);
    const auto& hours = c.routing.businessHours[0];
    EXPECT_EQ(hours.timeZone, "Europe/Lisbon");
    EXPECT_EQ(hours.open.at(0), (std::vector<std::pair<int, int>>{{540, 1080}}));
    EXPECT_EQ(hours.open.at(5), (std::vector<std::pair<int, int>>{{600, 840}}));
    EXPECT_EQ(hours.open.count(6), 0u);
    const auto& card = c.routing.rules[0];
    EXPECT_EQ(card.name, "replacement-card");
    EXPECT_EQ(card.then.replies.size(), 2u);
    EXPECT_EQ(card.then.replies[0].via, "sms-out");
    EXPECT_EQ(card.then.replies[1].channel, "email");
    ASSERT_EQ(card.then.cases.size(), 1u);
    EXPECT_EQ(card.then.cases[0].via, "crm");
}

TEST(RoutingConfig, ReportsEveryProblemAtOnceWithItsLocation) {
    auto errors = errorsOf(R"(
routing:
  business_hours:
    lisbon:
      time_zone: Europe/Lisbn
      open: { mon-fri: "09:00-18:60", funday: "10:00-11:00", sat: "14:00-10:00" }
      holidays: ["2026-02-30"]
    nowhere:
      open: { mon: "09:00-10:00" }
  rules:
    - name: cards
      when: { text: "(?i)card(", chanel: webchat, business_hours: lisboa, identities: [mail] }
      then:
        priority: highest
        reply:
          - { via: sms-outt, text: "Hi {{customer.nam}}" }
          - { channel: sms }
        case: { action: close }
        forward: [slack]
    - name: cards
      continue: yes
    - when: {}
)");
    const std::vector<std::string> expected = {
        "sb.yaml:11:18: routing.business_hours.lisbon.time_zone: unknown time zone 'Europe/Lisbn'",
        "sb.yaml:12:24: routing.business_hours.lisbon.open.mon-fri: expects an interval HH:MM-HH:MM",
        "routing.business_hours.lisbon.open.funday: expects weekdays such as mon, mon-fri",
        "routing.business_hours.lisbon.open.sat: the interval ends before it starts",
        "routing.business_hours.lisbon.holidays: expects a date YYYY-MM-DD",
        "routing.business_hours.nowhere: time_zone is required",
        "sb.yaml:18:21: routing.rules[0].when.text: invalid RE2 pattern '(?i)card(': missing )",
        "routing.rules[0].when.chanel: unknown key 'chanel' (did you mean 'channel'?",
        "routing.rules[0].when.identities: unknown identity type 'mail' (did you mean 'email'?",
        "routing.rules[0].then.priority: expects urgent, high, normal, low or an integer, got 'highest'",
        "routing.rules[0].then.reply[0].text: unknown placeholder {{customer.nam}}",
        "routing.rules[0].then.reply[1]: text is required",
        "routing.rules[0].then.case.action: expects create or update, got 'close'",
        "routing.rules[0].then.case: via is required",
        "routing.rules[1].name: rule name 'cards' is used twice",
        "routing.rules[1].continue: expects true or false, got 'yes'",
        "routing.rules[2]: name is required",
        "routing.rules[0].when.business_hours: unknown business hours 'lisboa' (did you mean 'lisbon'?",
        "routing.rules[0].then.reply[0].via: unknown connector instance 'sms-outt' (did you mean 'sms-out'?",
        "routing.rules[0].then.forward[0]: unknown connector instance 'slack'",
    };
    for (const auto& e : expected) EXPECT_TRUE(anyContains(errors, e)) << "missing: " << e;
    EXPECT_EQ(errors.size(), expected.size());
}

TEST(RoutingConfig, ConnectorsMayBeDeclaredAfterTheRulesThatUseThem) {
    config::LoadResult r = config::loadText(std::string(kSeedRouting) + kConnectors, "sb.yaml");
    EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].format());
    auto none = config::loadText("routing:\n  rules:\n    - { name: a, then: { forward: slack } }\n", "sb.yaml");
    ASSERT_EQ(none.errors.size(), 1u);
    EXPECT_EQ(none.errors[0].format(),
              "sb.yaml:3:35: routing.rules[0].then.forward: no connector instance named 'slack': declare it under "
              "connectors");
}

TEST(RoutingConfig, OverlappingWeekdaysAndIntervalsAreRefused) {
    auto errors = errorsOf(R"(
routing:
  business_hours:
    x: { time_zone: UTC, open: { mon-fri: "09:00-18:00", fri: ["09:00-12:00", "11:00-13:00"] } }
)");
    EXPECT_TRUE(anyContains(errors, "routing.business_hours.x.open.fri: intervals overlap"));
    EXPECT_TRUE(anyContains(errors, "routing.business_hours.x.open.fri: weekday 'fri' overlaps routing.business_hours.x.open.mon-fri"));
}

// --- conditions -------------------------------------------------------------------------

TEST(RoutingConditions, Channel) {
    RoutingEngine e(load(oneRule("{ channel: [email, sms] }")).routing);
    EXPECT_FALSE(e.evaluate(message("hi", "webchat")).matched());
    auto o = e.evaluate(message("hi", "sms"));
    EXPECT_TRUE(o.matched());
    EXPECT_EQ(only(o).condition, "channel in [email, sms]");
}

TEST(RoutingConditions, ConnectorInstance) {
    RoutingEngine e(load(oneRule("{ connector: site-chat }")).routing);
    EXPECT_TRUE(e.evaluate(message("hi")).matched());
    auto other = message("hi");
    other.connector = "mail";
    auto o = e.evaluate(other);
    EXPECT_FALSE(o.matched());
    EXPECT_EQ(only(o).detail, "is mail");
}

TEST(RoutingConditions, TextRegexIsRe2AndExplainsTheMatch) {
    RoutingEngine e(load(oneRule(R"({ text: "(?i)\\bcard\\b" })")).routing);
    auto o = e.evaluate(message("My CARD was stolen"));
    ASSERT_TRUE(o.matched());
    EXPECT_EQ(only(o).condition, "text ~ /(?i)\\bcard\\b/");
    EXPECT_EQ(only(o).detail, "matched \"CARD\" in \"My CARD was stolen\"");
    EXPECT_FALSE(e.evaluate(message("cardboard box")).matched());
    EXPECT_EQ(only(e.evaluate(message(""))).detail, "text is empty");
}

TEST(RoutingConditions, SubjectRegexAnyOfAList) {
    RoutingEngine e(load(oneRule(R"({ subject: ["^Invoice", "(?i)quote"] })")).routing);
    auto in = message("body");
    in.subject = "Request for QUOTE";
    auto o = e.evaluate(in);
    ASSERT_TRUE(o.matched());
    EXPECT_EQ(only(o).detail, "/(?i)quote/ matched \"QUOTE\" in \"Request for QUOTE\"");
    in.subject = "invoice 12";  // ^Invoice is case-sensitive
    EXPECT_FALSE(e.evaluate(in).matched());
}

TEST(RoutingConditions, KeywordsAreWholeWordsInAnyCaseInSubjectOrText) {
    RoutingEngine e(load(oneRule("{ keywords: [coupon, cupão, promo code] }")).routing);
    EXPECT_TRUE(e.evaluate(message("Do you have a COUPON?")).matched());
    EXPECT_EQ(only(e.evaluate(message("Do you have a COUPON?"))).detail, "found \"COUPON\"");
    EXPECT_FALSE(e.evaluate(message("I collect coupons")).matched());  // not the whole word
    EXPECT_FALSE(e.evaluate(message("supercoupon")).matched());
    EXPECT_TRUE(e.evaluate(message("Tenho um CUPÃO de desconto")).matched());  // Unicode case folding
    EXPECT_TRUE(e.evaluate(message("my promo\n  code failed")).matched());    // any white space between words
    auto inSubject = message("see subject");
    inSubject.subject = "coupon";
    EXPECT_TRUE(e.evaluate(inSubject).matched());
}

TEST(RoutingConditions, CustomerAttributes) {
    RoutingEngine e(load(oneRule(R"({ customer: { tier: [gold, platinum], language: pt, value: ">= 1000" } })")).routing);
    auto in = message("hi");
    in.customerAttributes = {{"tier", "Gold"}, {"language", "pt"}, {"value", "1500.50"}};
    auto o = e.evaluate(in);
    EXPECT_TRUE(o.matched());
    ASSERT_EQ(o.rules[0].conditions.size(), 3u);
    EXPECT_EQ(o.rules[0].conditions[0].condition, "customer.tier in [gold, platinum]");
    EXPECT_EQ(o.rules[0].conditions[2].condition, "customer.value >= 1000");

    in.customerAttributes["value"] = "999";
    EXPECT_FALSE(e.evaluate(in).matched());
    in.customerAttributes["value"] = "lots";
    EXPECT_EQ(e.evaluate(in).rules[0].conditions[2].detail, "is \"lots\", not a number");
    in.customerAttributes.erase("tier");
    in.customerAttributes["value"] = "1000";
    auto missing = e.evaluate(in);
    EXPECT_FALSE(missing.matched());
    EXPECT_EQ(missing.rules[0].conditions[0].detail, "is not set");
}

TEST(RoutingConditions, IdentityTypesPresent) {
    RoutingEngine e(load(oneRule("{ identities: [phone] }")).routing);
    auto in = message("hi");
    EXPECT_FALSE(e.evaluate(in).matched());
    in.identityTypes = {"email", "phone"};
    EXPECT_TRUE(e.evaluate(in).matched());
    in.identityTypes.clear();
    EXPECT_EQ(only(e.evaluate(in)).detail, "the message has no sender identity");
}

TEST(RoutingConditions, BusinessHoursAndOutside) {
    RoutingEngine open(load(oneRule("{ business_hours: lisbon }")).routing);
    RoutingEngine closed(load(oneRule("{ outside_business_hours: lisbon }")).routing);
    auto in = message("hi");
    in.atMs = utc(2026, 3, 30, 8, 0);  // Monday 09:00 WEST
    auto o = open.evaluate(in);
    EXPECT_TRUE(o.matched());
    EXPECT_EQ(only(o).detail, "open (Mon 2026-03-30 09:00 Europe/Lisbon, within 09:00-18:00)");
    EXPECT_FALSE(closed.evaluate(in).matched());
    in.atMs = utc(2026, 3, 30, 7, 59);  // 08:59 local
    EXPECT_FALSE(open.evaluate(in).matched());
    EXPECT_TRUE(closed.evaluate(in).matched());
}

TEST(RoutingConditions, AllConditionsMustHold) {
    RoutingEngine e(load(oneRule(R"({ channel: webchat, keywords: [coupon] })")).routing);
    EXPECT_TRUE(e.evaluate(message("coupon")).matched());
    auto o = e.evaluate(message("coupon", "email"));
    EXPECT_FALSE(o.matched());
    ASSERT_EQ(o.rules[0].conditions.size(), 2u);  // every condition is explained, not just the first miss
    EXPECT_FALSE(o.rules[0].conditions[0].matched);
    EXPECT_TRUE(o.rules[0].conditions[1].matched);
}

// --- rule order, continue, actions ---------------------------------------------------------

TEST(RoutingRules, FirstMatchWinsUnlessItSaysContinue) {
    RoutingEngine e(load(R"(
routing:
  rules:
    - name: vip
      when: { customer: { tier: gold } }
      then: { priority: high, tags: [vip] }
      continue: true
    - name: off
      enabled: false
      then: { queue: never }
    - name: coupons
      when: { keywords: [coupon] }
      then: { queue: marketing, priority: normal, tags: [coupon] }
    - name: fallback
      then: { queue: general }
)").routing);
    auto in = message("a coupon please");
    in.customerAttributes = {{"tier", "gold"}};
    auto o = e.evaluate(in);
    EXPECT_EQ(o.matchedRules, (std::vector<std::string>{"vip", "coupons"}));
    EXPECT_EQ(o.queue, "marketing");
    EXPECT_EQ(o.priority, "high");  // the earlier rule keeps what it set
    EXPECT_EQ(o.tags, (std::vector<std::string>{"vip", "coupon"}));
    EXPECT_EQ(o.rules[1].note, "disabled");
    EXPECT_FALSE(o.rules[3].evaluated);
    EXPECT_EQ(o.rules[3].note, "not evaluated: rule 'coupons' matched first");

    auto plain = e.evaluate(message("hello"));
    EXPECT_EQ(plain.matchedRules, (std::vector<std::string>{"fallback"}));  // no conditions: matches all
    EXPECT_EQ(plain.queue, "general");
}

TEST(RoutingRules, NoRuleMatched) {
    RoutingEngine e(load(kSeedRouting).routing);
    auto o = e.evaluate(message("good morning"));
    EXPECT_FALSE(o.matched());
    EXPECT_TRUE(o.actions.empty());
    json j = o.toJson();
    EXPECT_EQ(j["matched"], false);
    EXPECT_EQ(j["rules"].size(), 4u);
    EXPECT_TRUE(j["queue"].is_null());
}

TEST(RoutingTemplates, RenderKnownPlaceholdersAndRefuseUnknownOnes) {
    routing::TemplateValues v = {{"customer.name", "Ana"}, {"customer.attr.tier", "gold"}};
    EXPECT_EQ(routing::renderTemplate("Hi {{customer.name}} ({{ customer.attr.tier }}){{message.subject}}!", v),
              "Hi Ana (gold)!");
    EXPECT_FALSE(routing::templateError("Hi {{customer.attr.anything}}"));
    EXPECT_TRUE(routing::templateError("Hi {{customer.nme}}"));
    EXPECT_TRUE(routing::templateError("Hi {{customer.name"));
    EXPECT_EQ(routing::renderTemplate("no placeholders", v), "no placeholders");
}

// --- the seed scenario ---------------------------------------------------------------------

TEST(RoutingSeedScenario, ProductCouponAndBusinessQuestionsGoToTheirTeams) {
    RoutingEngine e(load(kSeedRouting).routing);
    auto product = e.evaluate(message("What is the price of the X200 product?"));
    EXPECT_EQ(product.matchedRules, (std::vector<std::string>{"products"}));
    EXPECT_EQ(product.team, "product");
    EXPECT_EQ(product.queue, "product");

    auto coupon = e.evaluate(message("My discount code does not work", "email"));
    EXPECT_EQ(coupon.matchedRules, (std::vector<std::string>{"coupons"}));
    EXPECT_EQ(coupon.team, "marketing");

    auto business = e.evaluate(message("We would like a quote for 500 units (bulk order)"));
    EXPECT_EQ(business.matchedRules, (std::vector<std::string>{"business"}));
    EXPECT_EQ(business.team, "sales");
    EXPECT_TRUE(business.actions.empty());
}

TEST(RoutingSeedScenario, ReplacementCardSendsSmsAndEmailConfirmationsAndOpensACase) {
    RoutingEngine e(load(kSeedRouting).routing);
    auto o = e.evaluate(message("My card was stolen, I need a replacement"));
    EXPECT_EQ(o.matchedRules, (std::vector<std::string>{"replacement-card"}));
    EXPECT_EQ(o.priority, "high");
    ASSERT_EQ(o.actions.size(), 3u);

    const auto& sms = o.actions[0].request;
    EXPECT_EQ(sms.kind, "message");
    EXPECT_EQ(sms.connector, "sms-out");
    EXPECT_EQ(sms.customerId, "c-1");
    EXPECT_EQ(sms.text, "Hi Ana Silva, your replacement card request is registered.");
    EXPECT_EQ(sms.replyToMessageId, 42);
    EXPECT_EQ(sms.origin, "rule:replacement-card");
    EXPECT_EQ(sms.idempotencyKey, "rule:replacement-card:42:0");
    EXPECT_EQ(sms.purpose, "service");

    const auto& email = o.actions[1].request;
    EXPECT_EQ(email.channel, "email");
    EXPECT_TRUE(email.connector.empty());
    EXPECT_EQ(email.subject, "Replacement card request registered");
    EXPECT_EQ(email.text, "Dear Ana Silva, we registered your request: My card was stolen, I need a replacement");
    EXPECT_EQ(email.idempotencyKey, "rule:replacement-card:42:1");

    const auto& crmCase = o.actions[2].request;
    EXPECT_EQ(crmCase.kind, "case");
    EXPECT_EQ(crmCase.connector, "crm");
    auto attr = [&](const std::string& k) {
        for (const auto& [key, v] : crmCase.attributes)
            if (key == k) return v;
        return std::string("(absent)");
    };
    EXPECT_EQ(attr("case.action"), "create");
    EXPECT_EQ(attr("case.queue"), "cards");  // the rule's queue
    EXPECT_EQ(attr("case.priority"), "high");
    EXPECT_EQ(attr("case.subject"), "Replacement card: Ana Silva");
    EXPECT_EQ(crmCase.idempotencyKey, "rule:replacement-card:42:2");
}

TEST(RoutingRules, ForwardCarriesTheOriginalText) {
    RoutingEngine e(load("routing:\n  rules:\n    - { name: fw, then: { forward: [{ via: crm }, mail] } }\n").routing);
    auto in = message("original words");
    in.subject = "subj";
    auto o = e.evaluate(in);
    ASSERT_EQ(o.actions.size(), 2u);
    EXPECT_EQ(o.actions[0].request.kind, "forward");
    EXPECT_EQ(o.actions[0].request.connector, "crm");
    EXPECT_EQ(o.actions[0].request.text, "original words");
    EXPECT_EQ(o.actions[0].request.subject, "subj");
    EXPECT_EQ(o.actions[1].request.connector, "mail");
    EXPECT_EQ(o.actions[1].request.idempotencyKey, "rule:fw:42:1");
}

// --- the stage on a real store ---------------------------------------------------------------

namespace {

class RoutingStageOn : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    config::StoreConfig storeConfig = switchboard::test::testStoreConfig(GetParam(), dir);
    Metrics metrics;
    std::vector<outbox::OutboundRequest> sent;
    std::set<std::string> keys;
    std::string refuseChannel;  // requests on this channel are refused

    routing::RoutingStage::Enqueue fakeEnqueue() {
        return [this](Sql&, const outbox::OutboundRequest& r) {
            outbox::EnqueueResult result;
            if (!refuseChannel.empty() && r.channel == refuseChannel) {
                result.httpStatus = 409;
                result.error = "no consent for service messages on " + r.channel;
                return result;
            }
            result.accepted = true;
            if (keys.insert(r.idempotencyKey).second) sent.push_back(r);
            result.outboxId = static_cast<int64_t>(sent.size());
            return result;
        };
    }

    std::unique_ptr<Store> open(const routing::RoutingStage& stage) {
        auto resolver = std::make_shared<customer::IdentityResolver>(config::IdentityConfig{});
        auto threader = std::make_shared<customer::ConversationThreader>(std::chrono::minutes(30));
        auto store = std::make_unique<Store>(storeConfig, resolver, threader);
        store->setInboundHook([&stage, enqueue = fakeEnqueue()](Sql& s, const StoredInbound& in) {
            stage.process(s, in, enqueue);
        });
        return store;
    }

    static MessageRecord inbound(const std::string& id, const std::string& text,
                                 std::vector<std::pair<std::string, std::string>> attrs = {}) {
        MessageRecord m;
        m.connector = "site-chat";
        m.channel = "webchat";
        m.direction = "inbound";
        m.sourceId = id;
        m.text = text;
        m.occurredAtMs = utc(2026, 3, 30, 10, 0);
        m.receivedAtMs = m.occurredAtMs + 5;
        m.normalizedJson = "{}";
        m.senderName = "Ana Silva";
        m.sender = {{"email", "ana@example.com", ""}};
        m.customerAttributes = std::move(attrs);
        return m;
    }

    json routingOf(Store& store, const std::string& sourceId) {
        std::vector<std::string> text;
        std::string id = sourceId;
        store.withSession([&](Sql& s) {
            using namespace Poco::Data::Keywords;
            s << "SELECT COALESCE(routing_json, '') FROM messages WHERE source_id = ?", use(id), into(text), now;
        });
        if (text.empty() || text[0].empty()) return nullptr;
        return json::parse(text[0]);
    }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Engines, RoutingStageOn, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(RoutingStageOn, EnqueuesActionsAndStoresTheOutcomeInTheSameTransaction) {
    config::HostConfig c = load(std::string(kSeedRouting) + R"Y(
    - name: gold-coupons
      when: { customer: { tier: gold } }
      then: { reply: { text: "Hello {{customer.name}} ({{customer.attr.tier}})" } }
)Y");
    routing::RoutingStage stage(c.routing, metrics);
    auto store = open(stage);

    store->commit({inbound("m1", "My card was stolen")}, std::nullopt, "site-chat");
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0].connector, "sms-out");
    EXPECT_EQ(sent[0].text, "Hi Ana Silva, your replacement card request is registered.");
    EXPECT_FALSE(sent[0].customerId.empty());
    EXPECT_GT(sent[0].replyToMessageId, 0);
    EXPECT_EQ(sent[0].idempotencyKey, "rule:replacement-card:" + std::to_string(sent[0].replyToMessageId) + ":0");
    EXPECT_EQ(sent[2].kind, "case");

    json r = routingOf(*store, "m1");
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r["matched_rules"], json::array({"replacement-card"}));
    EXPECT_EQ(r["queue"], "cards");
    EXPECT_EQ(r["actions"].size(), 3u);
    EXPECT_EQ(r["actions"][0]["status"], "accepted");
    EXPECT_EQ(r["actions"][0]["outbox_id"], 1);
    EXPECT_EQ(metrics.value("switchboard_routed_total", {{"instance", "site-chat"}, {"rule", "replacement-card"}}), 1);

    // A redelivery is a duplicate: not routed again, nothing enqueued twice.
    store->commit({inbound("m1", "My card was stolen")}, std::nullopt, "site-chat");
    EXPECT_EQ(sent.size(), 3u);
    EXPECT_EQ(metrics.value("switchboard_routed_total", {{"instance", "site-chat"}, {"rule", "replacement-card"}}), 1);
}

TEST_P(RoutingStageOn, RulesSeeTheCustomersSurvivingAttributes) {
    config::HostConfig c = load(R"Y(
routing:
  rules:
    - name: gold
      when: { customer: { tier: gold } }
      then: { queue: vip, reply: { text: "Hello {{customer.name}} ({{customer.attr.tier}})" } }
)Y");
    routing::RoutingStage stage(c.routing, metrics);
    auto store = open(stage);
    // The first message brings the attribute; the customer now has it for later messages too.
    store->commit({inbound("a1", "hi", {{"tier", "gold"}})}, std::nullopt, "site-chat");
    store->commit({inbound("a2", "hello again")}, std::nullopt, "site-chat");
    json second = routingOf(*store, "a2");
    ASSERT_TRUE(second.is_object());
    EXPECT_EQ(second["queue"], "vip");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[1].text, "Hello Ana Silva (gold)");
    EXPECT_TRUE(sent[1].connector.empty() && sent[1].channel.empty());  // the channel it came in on
}

TEST_P(RoutingStageOn, RecordsARefusedActionWithItsReason) {
    config::HostConfig c = load(kSeedRouting);
    routing::RoutingStage stage(c.routing, metrics);
    refuseChannel = "email";
    auto store = open(stage);
    store->commit({inbound("r1", "I lost my card")}, std::nullopt, "site-chat");
    json r = routingOf(*store, "r1");
    ASSERT_EQ(r["actions"].size(), 3u);
    EXPECT_EQ(r["actions"][0]["status"], "accepted");
    EXPECT_EQ(r["actions"][1]["status"], "refused");
    EXPECT_EQ(r["actions"][1]["error"], "no consent for service messages on email");
    EXPECT_EQ(r["actions"][2]["status"], "accepted");
    EXPECT_EQ(sent.size(), 2u);
}

TEST_P(RoutingStageOn, NoMatchIsStoredAndCounted) {
    config::HostConfig c = load(kSeedRouting);
    routing::RoutingStage stage(c.routing, metrics);
    auto store = open(stage);
    store->commit({inbound("n1", "good morning")}, std::nullopt, "site-chat");
    json r = routingOf(*store, "n1");
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r["matched"], false);
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(metrics.value("switchboard_routed_total", {{"instance", "site-chat"}, {"rule", "(none)"}}), 1);
}

TEST_P(RoutingStageOn, WithoutRulesDoesNothing) {
    routing::RoutingStage stage(config::RoutingConfig{}, metrics);
    auto store = open(stage);
    store->commit({inbound("z1", "My card was stolen")}, std::nullopt, "site-chat");
    EXPECT_TRUE(routingOf(*store, "z1").is_null());
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(metrics.renderPrometheus().find("switchboard_routed_total"), std::string::npos);
}
