// The vonage connector in the real host, with a local double of Vonage's SMS API
// (tests/fixtures/vonage/vonage_double.h): a signed GET webhook (Vonage's default method)
// reaches the customer's timeline and a forged one stores nothing; a concatenated SMS survives
// a host crash between its parts; parts that never complete are stored after concat_timeout;
// a send goes to the API and its delivery receipt updates the delivery status. Signatures are
// computed here with OpenSSL (HMAC-SHA256, Vonage's "sha256" method), never with the plugin.
#include "../fixtures/vonage/vonage_double.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

using namespace switchboard::test;
using nlohmann::json;

namespace {

constexpr const char* kApiKey = "hostkey1";
constexpr const char* kApiSecret = "host-api-secret-31";
constexpr const char* kSigSecret = "host-signature-secret-77";
using Params = std::map<std::string, std::string>;

std::string query(const Params& p) { return vonage_test::formEncode(p); }

// Signed as Vonage signs with the sha256 method (HMAC-SHA256, upper-case hex).
Params signedNow(Params p) {
    p["timestamp"] = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    p["nonce"] = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    p["sig"] = vonage_test::sign(p, "sha256", kSigSecret);
    return p;
}

Params inbound(const std::string& from, const std::string& id, const std::string& text) {
    return {{"msisdn", from}, {"to", "447700900000"}, {"messageId", id}, {"text", text}, {"type", "unicode"},
            {"keyword", text.substr(0, text.find(' '))}, {"message-timestamp", "2026-01-01 12:00:00"}};
}

Params part(const std::string& id, const std::string& text, int n, int total) {
    Params p = inbound("447911123456", id, text);
    p["concat"] = "true";
    p["concat-ref"] = "A1";
    p["concat-total"] = std::to_string(total);
    p["concat-part"] = std::to_string(n);
    return p;
}

class VonageHost : public ::testing::Test {
protected:
    void start(const std::string& concatTimeout = "15m") {
        host_ = std::make_unique<HostProcess>(
            "  - name: sms-vonage\n    plugin: vonage\n    options:\n"
            "      api_key: " + std::string(kApiKey) + "\n"
            "      api_secret: ${env:VONAGE_API_SECRET}\n"
            "      from: \"447700900000\"\n"
            "      signature_secret: ${env:VONAGE_SIGNATURE_SECRET}\n"
            "      signature_method: sha256\n"
            "      concat_timeout: " + concatTimeout + "\n"
            "      base_url: " + api_.baseUrl() + "\n",
            "identity:\n  default_region: GB\noutbox:\n  poll_interval: 50ms\n  initial_backoff: 100ms\n",
            std::map<std::string, std::string>{{"VONAGE_API_SECRET", kApiSecret}, {"VONAGE_SIGNATURE_SECRET", kSigSecret}});
    }
    HttpResponse get(const Params& p, const std::string& path = "") {
        return host_->get("/webhooks/sms-vonage" + path + "?" + query(p));
    }
    HttpResponse postForm(const Params& p) {
        return host_->post("/webhooks/sms-vonage", query(p), {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
    json api(const std::string& uri) {
        auto r = host_->get(uri, host_->auth());
        return r.status == 200 ? json::parse(r.body, nullptr, false) : json();
    }
    std::string customer(const std::string& phone) {  // phone: "+..."
        json found = api("/api/v1/customers?identity=phone:%2B" + phone.substr(1));
        return found.is_object() && !found["customers"].empty() ? found["customers"][0]["id"].get<std::string>() : "";
    }
    // The texts of the customer's inbound interactions, newest first.
    std::vector<std::string> texts(const std::string& id) {
        std::vector<std::string> out;
        const json page = api("/api/v1/customers/" + id + "/timeline?limit=50");
        if (page.is_object())
            for (const auto& i : page["interactions"])
                if (i.value("direction", "") == "inbound" && i["text"].is_string()) out.push_back(i["text"]);
        return out;
    }
    vonage_test::VonageSmsDouble api_{kApiKey, kApiSecret};
    std::unique_ptr<HostProcess> host_;
};

}  // namespace

TEST_F(VonageHost, SignedGetWebhookReachesTheTimelineAndAForgedOneStoresNothing) {
    start();
    auto in = get(signedNow(inbound("447911123456", "0A00000011112222", "Olá, where is my order? 📦")));
    ASSERT_EQ(in.status, 200) << in.body << host_->output();
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer("+447911123456")).empty(); })) << host_->output();
    ASSERT_TRUE(waitFor([&] { return texts(id) == std::vector<std::string>{"Olá, where is my order? 📦"}; }));

    Params forged = signedNow(inbound("447911123999", "0A00000011113333", "STOP"));
    forged["text"] = "START";
    EXPECT_EQ(get(forged).status, 403);
    Params unsignedParams = inbound("447911123999", "0A00000011114444", "hello");
    EXPECT_EQ(postForm(unsignedParams).status, 403);
    EXPECT_TRUE(customer("+447911123999").empty());
    EXPECT_EQ(host_->output().find(kSigSecret), std::string::npos);
    EXPECT_EQ(host_->output().find(kApiSecret), std::string::npos);
}

TEST_F(VonageHost, AConcatenatedSmsSurvivesACrashBetweenItsParts) {
    start();
    ASSERT_EQ(postForm(signedNow(part("0C00000000000002", "the second half.", 2, 2))).status, 200) << host_->output();
    // The 200 promised the part is stored: a crash right after must not lose it.
    host_->crashAndRestart();
    ASSERT_EQ(get(signedNow(part("0C00000000000001", "Olá, the first half and ", 1, 2))).status, 200) << host_->output();
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer("+447911123456")).empty(); })) << host_->output();
    ASSERT_TRUE(waitFor([&] { return !texts(id).empty(); }));
    EXPECT_EQ(texts(id), std::vector<std::string>{"Olá, the first half and the second half."});
    // Vonage delivers a part again after another crash (our 200 was lost): still one message.
    host_->crashAndRestart();
    ASSERT_EQ(postForm(signedNow(part("0C00000000000002", "the second half.", 2, 2))).status, 200);
    Params thanks = inbound("447911123456", "0A00000011116666", "thanks");
    thanks["message-timestamp"] = "2026-01-01 12:05:00";
    ASSERT_EQ(get(signedNow(thanks)).status, 200);
    ASSERT_TRUE(waitFor([&] { return texts(id).size() == 2; }));
    EXPECT_EQ(texts(id), (std::vector<std::string>{"thanks", "Olá, the first half and the second half."}));
}

TEST_F(VonageHost, PartsThatNeverCompleteAreStoredAfterTheTimeout) {
    start("1s");
    ASSERT_EQ(postForm(signedNow(part("0C00000000000011", "only the first part ", 1, 3))).status, 200) << host_->output();
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer("+447911123456")).empty(); })) << host_->output();
    json interaction;
    ASSERT_TRUE(waitFor([&] {
        const json page = api("/api/v1/customers/" + id + "/timeline?limit=50");
        if (!page.is_object() || page["interactions"].empty()) return false;
        interaction = page["interactions"][0];
        return true;
    }));
    EXPECT_EQ(interaction["text"], "only the first part ");
    EXPECT_EQ(interaction["attributes"]["sms.concat.incomplete"], "true") << interaction.dump();
    EXPECT_EQ(interaction["attributes"]["sms.concat.missing"], "2,3") << interaction.dump();
}

TEST_F(VonageHost, SendAndDeliveryReceipt) {
    start();
    ASSERT_EQ(get(signedNow(inbound("447911123456", "0A00000011115555", "hi"))).status, 200);
    std::string id;
    ASSERT_TRUE(waitFor([&] { return !(id = customer("+447911123456")).empty(); })) << host_->output();
    json body{{"customer_id", id}, {"connector", "sms-vonage"}, {"text", "It ships today"}};
    auto sent = http("POST", host_->port(), "/api/v1/messages", body.dump(), host_->auth());
    ASSERT_EQ(sent.status, 202) << sent.body;
    const int64_t messageId = json::parse(sent.body)["message_id"];
    ASSERT_TRUE(waitFor([&] { return api_.issuedIds().size() == 1; })) << host_->output();
    EXPECT_EQ(api_.requests().at(0).form.at("to"), "447911123456");

    const std::string providerId = api_.issuedIds()[0];
    std::string status;
    ASSERT_TRUE(waitFor([&] {
        get(signedNow({{"msisdn", "447911123456"}, {"to", "447700900000"}, {"messageId", providerId},
                       {"status", "delivered"}, {"err-code", "0"}, {"scts", "2601011200"},
                       {"message-timestamp", "2026-01-01 12:00:00"}}),
            "/dlr");
        const json page = api("/api/v1/customers/" + id + "/timeline?limit=50");
        if (page.is_object())
            for (const auto& i : page["interactions"])
                if (i["id"] == messageId && i["delivery_status"].is_string()) status = i["delivery_status"];
        return status == "delivered";
    })) << status << host_->output();
}

TEST(VonageDescribe, DocumentsEveryOption) {
    auto describe = run({switchboardBin(), "plugins", "describe", "vonage"});
    ASSERT_EQ(describe.exitCode, 0) << describe.err;
    for (const char* option : {"api_key", "api_secret", "from", "signature_secret", "signature_method", "signature_max_age",
                               "concat_timeout", "delivery_receipts", "delivery_receipt_url", "base_url", "timeout", "channel"})
        EXPECT_NE(describe.out.find(option), std::string::npos) << option;
}
