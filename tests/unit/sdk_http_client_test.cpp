// The SDK's HTTP client against a real server on 127.0.0.1: what it sends (method, headers,
// body, Basic credentials) and what it hands back (status, headers, body, Retry-After, why
// no answer came).
#include "http_endpoint.h"
#include "test_support.h"

#include <switchboard/http_client.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace switchboard::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SdkHttpClient, PostsHeadersAndBodyAndReadsTheAnswer) {
    HttpEndpoint server;
    server.answer({201, R"({"id":"r-1"})", {{"X-Request-Id", "abc"}, {"Retry-After", "7"}}});
    http::Client client;
    http::Request req;
    req.method = "POST";
    req.url = server.url("/v1/messages?x=1");
    req.headers = {{"Content-Type", "application/json"}, {"X-Custom", "yes"}};
    req.body = R"({"text":"hi"})";
    req.userAgent = "sdk-test/1.0";
    const http::Response r = client.perform(req);

    ASSERT_EQ(r.status, 201) << r.error;
    EXPECT_EQ(r.body, R"({"id":"r-1"})");
    EXPECT_EQ(r.header("x-request-id"), "abc");  // any case
    EXPECT_EQ(r.header("X-REQUEST-ID"), "abc");
    EXPECT_EQ(r.header("x-absent"), std::nullopt);
    EXPECT_EQ(r.retryAfter(), std::chrono::seconds(7));
    EXPECT_EQ(http::retryMs(r.retryAfter()), 7000u);

    const ReceivedRequest got = server.only();
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.uri, "/v1/messages?x=1");
    EXPECT_EQ(got.body, R"({"text":"hi"})");
    EXPECT_EQ(got.headers.at("content-type"), "application/json");
    EXPECT_EQ(got.headers.at("x-custom"), "yes");
    EXPECT_EQ(got.headers.at("user-agent"), "sdk-test/1.0");
}

TEST(SdkHttpClient, GetWithBasicAuthAndOtherMethods) {
    HttpEndpoint server;
    server.answer({200, "ok", {}});
    http::Client client;
    http::Request req;
    req.url = server.url("/status");
    req.username = "AC123";
    req.password = "s3cret";
    EXPECT_EQ(client.perform(req).status, 200);
    req = {};
    req.method = "DELETE";
    req.url = server.url("/things/1");
    EXPECT_EQ(client.perform(req).status, 200);

    const auto got = server.received();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].method, "GET");
    EXPECT_EQ(got[0].headers.at("authorization"), "Basic QUMxMjM6czNjcmV0");  // base64("AC123:s3cret")
    EXPECT_EQ(got[1].method, "DELETE");
    // A reused handle forgets the last request's credentials.
    EXPECT_EQ(got[1].headers.count("authorization"), 0u);
}

TEST(SdkHttpClient, LongBodiesAreCutButTheStatusSurvives) {
    HttpEndpoint server;
    server.answer({503, std::string(10000, 'x'), {}});
    http::Client client;
    http::Request req;
    req.url = server.url();
    req.maxBodyBytes = 100;
    const http::Response r = client.perform(req);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, std::string(100, 'x'));
}

TEST(SdkHttpClient, NoAnswerWithinTheTimeoutIsAnErrorNotAStatus) {
    HttpEndpoint server;
    server.answer({200, "", {}, /*hang=*/true});
    http::Client client;
    http::Request req;
    req.url = server.url();
    req.timeout = std::chrono::milliseconds(300);
    const auto started = std::chrono::steady_clock::now();
    const http::Response r = client.perform(req);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
    EXPECT_THAT(r.error, HasSubstr("imeout"));
}

TEST(SdkHttpClient, RefusedConnectionNamesNoCredentials) {
    http::Client client;
    http::Request req;
    req.url = "http://user:pa55word@127.0.0.1:" + std::to_string(freePort()) + "/x?token=t0ken";
    req.password = "an0ther";
    const http::Response r = client.perform(req);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.code, CURLE_COULDNT_CONNECT);
    EXPECT_FALSE(r.error.empty());
    EXPECT_THAT(r.error, Not(HasSubstr("pa55word")));
    EXPECT_THAT(r.error, Not(HasSubstr("an0ther")));
    EXPECT_THAT(r.error, Not(HasSubstr("t0ken")));
}

TEST(SdkHttpClient, OnlyHttpSchemes) {
    http::Client client;
    http::Request req;
    req.url = "file:///etc/passwd";
    const http::Response r = client.perform(req);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.code, CURLE_UNSUPPORTED_PROTOCOL);
    EXPECT_TRUE(r.body.empty());
}

TEST(SdkHttpClient, RedactedUrlDropsCredentialsAndQuery) {
    const auto parts = http::parseUrl("https://user:pw@example.com:8443/a/b?token=x#frag");
    ASSERT_TRUE(parts);
    EXPECT_EQ(http::redactedUrl(*parts), "https://example.com:8443/a/b");
    EXPECT_TRUE(parts->hasCredentials);
    EXPECT_FALSE(http::parseUrl("https://example.com/a")->hasCredentials);
    EXPECT_EQ(http::parseUrl("not a url"), std::nullopt);
}

}  // namespace
}  // namespace switchboard::test
