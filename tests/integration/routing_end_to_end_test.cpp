// A routing rule end to end on the running host, as the README shows it: a signed chat
// message asking for a replacement card is stored, routed to the cards queue, and the
// rule's confirmation is sent through the outbox back to the website's reply endpoint (a
// real HTTP server here); the timeline shows the routing outcome and the sent reply. A
// product question is routed to the product team and answered by nobody automatically.
#include "http_endpoint.h"
#include "host_store_test.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

using namespace switchboard::test;
using nlohmann::json;

namespace {

constexpr const char* kSecret = "e2e-chat-secret-7f3a";

const char* kRouting = R"(identity:
  default_region: PT
outbox:
  poll_interval: 50ms
  initial_backoff: 50ms
  max_backoff: 200ms
routing:
  rules:
    - name: replacement-card
      when:
        keywords: [card]
        text: "(?i)\\b(lost|stolen|replace(ment)?)\\b"
      then:
        queue: cards
        team: support
        priority: high
        tags: [card]
        reply:
          - text: "Hi {{customer.name}}, your replacement card request is registered."
    - name: products
      when: { text: "(?i)\\b(product|price)\\b" }
      then: { queue: product, team: product }
)";

HttpResponse postSigned(const HostProcess& host, const json& message) {
    const std::string body = message.dump();
    return host.post("/webhooks/site-chat", body,
                     {{"Content-Type", "application/json"},
                      {"X-Switchboard-Signature", "sha256=" + hmacSha256Hex(kSecret, body)}});
}

json apiGet(const HostProcess& host, const std::string& uri) {
    auto r = host.get(uri, host.auth());
    EXPECT_EQ(r.status, 200) << uri << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
}

json interactionBySource(const json& timeline, const std::string& direction, const std::string& sourceId = "") {
    for (const auto& i : timeline["interactions"])
        if (i["direction"] == direction && (sourceId.empty() || i["source_message_id"] == sourceId)) return i;
    return json();
}

class RoutingEndToEnd : public OnEachHostStore {};

}  // namespace

SWITCHBOARD_ON_EACH_HOST_STORE(RoutingEndToEnd);

TEST_P(RoutingEndToEnd, ACardRequestIsRoutedAndConfirmedOnTheChannelItCameFrom) {
    HttpEndpoint site;
    site.answer({200, R"({"id":"site-reply-7"})", {}, false});
    HostProcess host("  - name: site-chat\n    plugin: webchat\n    options:\n      secret: \"" + std::string(kSecret) +
                         "\"\n      reply_url: \"" + site.url("/chat/replies") + "\"\n",
                     kRouting);

    const json card = {{"id", "m-card"},
                       {"conversation", "chat-42"},
                       {"from", {{"name", "Ana Silva"}, {"email", "ana@example.com"}}},
                       {"text", "Hello, I lost my card"}};
    ASSERT_EQ(postSigned(host, card).status, 200);

    // The confirmation reaches the website, signed, threaded into the chat it answers.
    ASSERT_TRUE(waitFor([&] { return !site.received().empty(); })) << host.output();
    ReceivedRequest sent = site.only();
    EXPECT_EQ(sent.headers["x-switchboard-signature"], "sha256=" + hmacSha256Hex(kSecret, sent.body));
    json reply = json::parse(sent.body);
    EXPECT_EQ(reply["text"], "Hi Ana Silva, your replacement card request is registered.");
    EXPECT_EQ(reply["conversation_id"], "chat-42");
    EXPECT_EQ(reply["in_reply_to"], "m-card");
    EXPECT_EQ(reply["to"]["email"], "ana@example.com");

    json found = apiGet(host, "/api/v1/customers?identity=email:ana@example.com");
    ASSERT_EQ(found["customers"].size(), 1u) << found.dump();
    const std::string customer = found["customers"][0]["id"];
    const std::string timelineUri = "/api/v1/customers/" + customer + "/timeline";

    // The inbound interaction carries the routing outcome: rule, queue, team, the action.
    json inbound = interactionBySource(apiGet(host, timelineUri), "inbound", "m-card");
    ASSERT_TRUE(inbound.is_object());
    const json& routing = inbound["routing"];
    EXPECT_EQ(routing["matched_rules"], json::array({"replacement-card"})) << routing.dump();
    EXPECT_EQ(routing["queue"], "cards");
    EXPECT_EQ(routing["team"], "support");
    EXPECT_EQ(routing["priority"], "high");
    ASSERT_EQ(routing["actions"].size(), 1u);
    EXPECT_EQ(routing["actions"][0]["status"], "accepted") << routing["actions"][0].dump();

    // The reply is in the same timeline, sent, with the site's id as its provider id.
    json outbound;
    ASSERT_TRUE(waitFor([&] {
        outbound = interactionBySource(apiGet(host, timelineUri), "outbound");
        return outbound.is_object() && outbound["delivery_status"] == "sent";
    })) << outbound.dump();
    EXPECT_EQ(outbound["text"], "Hi Ana Silva, your replacement card request is registered.");
    EXPECT_EQ(outbound["connector"], "site-chat");
    EXPECT_EQ(outbound["conversation_id"], inbound["conversation_id"]);

    // The same message delivered again is a duplicate: no second confirmation.
    ASSERT_EQ(postSigned(host, card).status, 200);
    // A product question goes to the product team; that rule sends nothing.
    ASSERT_EQ(postSigned(host, {{"id", "m-price"},
                                {"conversation", "chat-42"},
                                {"from", {{"email", "ana@example.com"}}},
                                {"text", "What is the price of the premium plan?"}})
                  .status,
              200);
    json price;
    ASSERT_TRUE(waitFor([&] {
        price = interactionBySource(apiGet(host, timelineUri), "inbound", "m-price");
        return price.is_object();
    }));
    EXPECT_EQ(price["routing"]["matched_rules"], json::array({"products"}));
    EXPECT_EQ(price["routing"]["team"], "product");
    EXPECT_TRUE(price["routing"]["actions"].empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a wrong second send would show by now
    EXPECT_EQ(site.received().size(), 1u);

    const std::string metrics = host.get("/metrics").body;
    EXPECT_NE(metrics.find("switchboard_routed_total{instance=\"site-chat\",rule=\"replacement-card\"} 1"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("switchboard_routed_total{instance=\"site-chat\",rule=\"products\"} 1"), std::string::npos);
}
