// Every 503 on a webhook tells the sender when to come back (Retry-After), whoever wrote it:
// a connector that answers 503 without the header gets one added; its own value is kept.
#include "http/webhook_handler.h"

#include <gtest/gtest.h>

using namespace switchboard::host;

namespace {

// A host with one instance, "chat", that answers what the test sets.
class FakeControl : public HostControl {
public:
    WebhookResponse answer;
    std::vector<ConnectorStatus> connectors() const override { return {}; }
    std::optional<ConnectorStatus> connector(const std::string&) const override { return std::nullopt; }
    ControlResult pause(const std::string&) override { return {}; }
    ControlResult resume(const std::string&) override { return {}; }
    ControlResult restart(const std::string&) override { return {}; }
    WebhookOutcome dispatchWebhook(const std::string& instance, const WebhookRequest&,
                                   WebhookResponse& response) override {
        if (instance != "chat") return WebhookOutcome::NotFound;
        response = answer;
        return WebhookOutcome::Handled;
    }
    bool ready(std::string&) const override { return true; }
};

http::Reply post(FakeControl& control) {
    http::WebhookHandler handler(control, "http://127.0.0.1:8080");
    http::RequestContext request;
    request.method = "POST";
    request.target = request.path = "/webhooks/chat";
    http::RouteMatch route;
    route.kind = http::RouteKind::Webhook;
    route.name = "chat";
    return handler.handle(request, route);
}

std::vector<std::string> retryAfter(const http::Reply& reply) {
    std::vector<std::string> values;
    for (const auto& [name, value] : reply.headers)
        if (http::toLower(name) == "retry-after") values.push_back(value);
    return values;
}

}  // namespace

TEST(WebhookRetryAfter, APlugin503WithoutRetryAfterGetsOne) {
    FakeControl control;
    control.answer = {503, {{"Content-Type", "application/json"}}, R"({"error":"busy"})"};
    auto reply = post(control);
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(retryAfter(reply), std::vector<std::string>{"1"});
    EXPECT_EQ(reply.body, R"({"error":"busy"})");
}

TEST(WebhookRetryAfter, APluginsOwnRetryAfterIsKept) {
    FakeControl control;
    control.answer = {503, {{"retry-after", "30"}}, ""};
    EXPECT_EQ(retryAfter(post(control)), std::vector<std::string>{"30"});
}

TEST(WebhookRetryAfter, OtherStatusesAreLeftAlone) {
    FakeControl control;
    control.answer = {500, {}, ""};
    EXPECT_TRUE(retryAfter(post(control)).empty());
    control.answer = {200, {}, ""};
    EXPECT_TRUE(retryAfter(post(control)).empty());
}
