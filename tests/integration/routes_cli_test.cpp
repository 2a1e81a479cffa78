// `switchboard routes test`: the real binary on a config and a message file — which rule
// matched and why, the actions it would take, --json, and exit codes 0 / 1 / 2. Nothing is
// stored or sent: the config's store file is never created.
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using switchboard::test::run;
using switchboard::test::switchboardBin;
using switchboard::test::TempDir;

namespace {

const char* const kConfig = R"Y(
store:
  sqlite: { path: never-created.db }
connectors:
  - { name: site-chat, plugin: webchat }
  - { name: sms-out, plugin: sms }
  - { name: mail, plugin: email }
  - { name: crm, plugin: salesforce }
routing:
  business_hours:
    lisbon:
      time_zone: Europe/Lisbon
      open: { mon-fri: "09:00-18:00", sat: "10:00-14:00" }
      holidays: ["2026-12-25"]
  rules:
    - name: replacement-card
      when:
        keywords: [card]
        text: "(?i)\\b(lost|stolen|replace(ment)?)\\b"
        business_hours: lisbon
      then:
        queue: cards
        priority: high
        tags: [card]
        reply:
          - { via: sms-out, text: "Hi {{customer.name}}, your replacement card request is registered." }
          - { via: mail, subject: "Request registered", text: "Dear {{customer.name}} ({{customer.attr.tier}})" }
        case: { via: crm, action: create }
    - name: products
      when: { text: "(?i)\\b(product|price)\\b" }
      then: { queue: product, team: product }
    - name: coupons
      when: { keywords: [coupon, discount code], channel: [webchat, email] }
      then: { queue: marketing, team: marketing }
    - name: business
      when: { text: "(?i)\\b(quote|partnership|bulk)\\b" }
      then: { queue: sales, team: sales }
)Y";

std::string messageJson(const std::string& text, const std::string& at = "2026-03-30T09:12:00Z") {
    nlohmann::json m = {{"connector", "site-chat"},
                        {"channel", "webchat"},
                        {"text", text},
                        {"sender", {{{"type", "email"}, {"value", "ana@example.com"}}}},
                        {"customer", {{"name", "Ana"}, {"attributes", {{"tier", "gold"}}}}},
                        {"occurred_at", at}};
    return m.dump();
}

class RoutesTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string config = dir.write("sb.yaml", kConfig);
    switchboard::test::ProcessResult routes(const std::string& messageText, std::vector<std::string> extra = {}) {
        std::string message = dir.write("m.json", messageText);
        std::vector<std::string> argv = {switchboardBin(), "routes", "test", "-c", config, "--message", message};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run(argv);
    }
};

}  // namespace

TEST_F(RoutesTest, PrintsWhichRuleMatchedWhyAndWhatItWouldDo) {
    auto r = routes(messageJson("My card was stolen!"));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("rule 'replacement-card': matched\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("yes  text ~ /(?i)\\b(lost|stolen|replace(ment)?)\\b/: matched \"stolen\" in \"My card was stolen!\""),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("yes  keywords [card]: found \"card\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("yes  business_hours 'lisbon': open (Mon 2026-03-30 10:12 Europe/Lisbon, within 09:00-18:00)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("rule 'products': not evaluated: rule 'replacement-card' matched first"), std::string::npos);
    EXPECT_NE(r.out.find("routing: queue=cards priority=high tags=card"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("actions (not sent):\n  1. reply via sms-out (service) [rule replacement-card]\n"
                         "      text: Hi Ana, your replacement card request is registered.\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("text: Dear Ana (gold)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3. case via crm [rule replacement-card]"), std::string::npos) << r.out;
    // Nothing stored: the store was never opened.
    EXPECT_FALSE(std::filesystem::exists(dir.file("never-created.db")));
}

TEST_F(RoutesTest, ExplainsEveryFailedConditionOutsideBusinessHours) {
    // Saturday 19:00 in Lisbon: the card rule's hours fail, the other rules are tried.
    auto r = routes(messageJson("I lost my card, also what is the price of a product?", "2026-03-28T19:00:00Z"));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("rule 'replacement-card': not matched"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no   business_hours 'lisbon': closed (Sat 2026-03-28 19:00 Europe/Lisbon, outside 10:00-14:00)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("rule 'products': matched"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("routing: queue=product team=product"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("actions: none"), std::string::npos) << r.out;
}

TEST_F(RoutesTest, SeedScenarioRoutesToProductMarketingAndSales) {
    EXPECT_NE(routes(messageJson("Which product fits me?")).out.find("queue=product team=product"), std::string::npos);
    EXPECT_NE(routes(messageJson("My DISCOUNT CODE fails")).out.find("queue=marketing team=marketing"),
              std::string::npos);
    EXPECT_NE(routes(messageJson("Could we discuss a partnership?")).out.find("queue=sales team=sales"),
              std::string::npos);
}

TEST_F(RoutesTest, ExitsOneWhenNoRuleMatched) {
    auto r = routes(messageJson("Good morning"));
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.out.find("rule 'business': not matched"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no rule matched"), std::string::npos) << r.out;
}

TEST_F(RoutesTest, JsonOutputForMachines) {
    auto r = routes(messageJson("my card was stolen"), {"--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["matched"], true);
    EXPECT_EQ(j["matched_rules"], nlohmann::json::array({"replacement-card"}));
    EXPECT_EQ(j["queue"], "cards");
    ASSERT_EQ(j["rules"].size(), 4u);  // skipped rules included, with why
    EXPECT_EQ(j["rules"][1]["evaluated"], false);
    ASSERT_EQ(j["actions"].size(), 3u);
    EXPECT_EQ(j["actions"][0]["status"], "planned");
    EXPECT_EQ(j["actions"][0]["connector"], "sms-out");
    EXPECT_EQ(j["actions"][2]["kind"], "case");
    EXPECT_EQ(j["actions"][2]["attributes"]["case.action"], "create");
}

TEST_F(RoutesTest, CustomerAttributesAlsoComeFromMessageAttributes) {
    auto r = routes(R"({"channel": "webchat", "connector": "site-chat", "text": "stolen card",
                        "sender_name": "Rui", "attributes": {"customer.tier": "silver"},
                        "occurred_at_ms": 1774861920000})");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("Dear Rui (silver)"), std::string::npos) << r.out;
}

TEST_F(RoutesTest, BadMessageOrConfigExitsTwoWithClearErrors) {
    auto noChannel = routes(R"({"text": "hi", "occurred_at": "yesterday"})");
    EXPECT_EQ(noChannel.exitCode, 2);
    EXPECT_NE(noChannel.err.find("m.json: channel: is required"), std::string::npos) << noChannel.err;
    EXPECT_NE(noChannel.err.find("m.json: occurred_at: expects RFC 3339"), std::string::npos) << noChannel.err;

    auto notJson = routes("{ not json");
    EXPECT_EQ(notJson.exitCode, 2);
    EXPECT_NE(notJson.err.find("expects a JSON object"), std::string::npos) << notJson.err;

    std::string bad = dir.write("bad.yaml", "routing:\n  rules:\n    - name: x\n      when: { text: \"(unclosed\" }\n");
    std::string message = dir.write("ok.json", messageJson("hi"));
    auto r = run({switchboardBin(), "routes", "test", "-c", bad, "--message", message});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find(bad + ":4:21: routing.rules[0].when.text: invalid RE2 pattern '(unclosed': missing )"),
              std::string::npos)
        << r.err;

    auto usage = run({switchboardBin(), "routes", "test", "-c", config});
    EXPECT_EQ(usage.exitCode, 2);
    EXPECT_NE(usage.err.find("expected --message FILE.json"), std::string::npos) << usage.err;
}

// The shipped quick start has routing rules; its sample message routes as documented.
TEST(RoutesQuickStart, SampleMessageMatchesTheReplacementCardRule) {
    const std::string root = SWITCHBOARD_SOURCE_DIR;
    auto r = run({switchboardBin(), "routes", "test", "-c", root + "/config/switchboard.yaml", "--message",
                  root + "/config/examples/card-message.json"},
                 {{"SWITCHBOARD_API_TOKEN", "quick-start-token"}});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("rule 'replacement-card': matched"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1. reply on the channel it came in on (service) [rule replacement-card]"), std::string::npos)
        << r.out;
}

// The README's walk-through config is valid as shipped.
TEST(RoutesQuickStart, TheConfirmationsWalkThroughConfigIsValid) {
    const std::string root = SWITCHBOARD_SOURCE_DIR;
    auto r = run({switchboardBin(), "check-config", "-c", root + "/config/examples/confirmations.yaml"},
                 {{"SWITCHBOARD_API_TOKEN", "quick-start-token"}, {"CHAT_SECRET", "walk-through-secret"}});
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}
