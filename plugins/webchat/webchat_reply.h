// Delivers outbound replies to the website: POST the reply JSON to the instance's reply_url,
// signed like inbound requests, and turn the answer into OK / RETRY / FAIL_DATA.
#pragma once

#include <switchboard/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Defined in <switchboard/http_client.hpp>; declared here so this header (included by
// webchat_plugin.cpp, also compiled into the payload fuzz target) needs no libcurl headers.
namespace switchboard::http {
struct Response;
class Client;
}

namespace webchat {

struct ReplyOptions {
    std::string url;     // http:// or https://
    std::string secret;  // HMAC key for X-Switchboard-Signature; never logged
    std::chrono::milliseconds timeout{10000};
    std::string caFile;  // extra CA bundle to trust; empty = the system's
};

// What the website answered (status 0 = no HTTP answer, see error).
// The body is at most kMaxAnswerBytes.
using ReplyAnswer = switchboard::http::Response;

inline constexpr size_t kMaxAnswerBytes = 64 * 1024;
inline constexpr size_t kMaxExcerptBytes = 200;

// The result mapping, pure: 2xx OK (provider id = the answer's JSON "id", else ourId);
// 408, 429, 5xx and transport errors RETRY (with Retry-After); any other status FAIL_DATA
// naming the status and a short, sanitized excerpt of the body.
switchboard::Result classifyAnswer(const ReplyAnswer& answer, const std::string& ourId,
                                   const std::string& where, switchboard::SendResult& sent);


// Thread-safe: send() may run on several threads at once (the SDK's HTTP client keeps
// connections alive between calls).
class ReplySender {
public:
    // Throws switchboard::ConfigError for a bad URL or an unreadable CA file.
    explicit ReplySender(ReplyOptions options);
    ~ReplySender();
    ReplySender(const ReplySender&) = delete;
    ReplySender& operator=(const ReplySender&) = delete;

    switchboard::Result send(const switchboard::Message& message, switchboard::SendResult& sent);
    // scheme://host[:port]/path of reply_url: no credentials, no query (they may hold tokens).
    const std::string& where() const { return where_; }

private:
    ReplyAnswer post(const std::string& id, const std::string& body);

    ReplyOptions options_;
    std::string where_;
    std::unique_ptr<switchboard::http::Client> http_;
};

}  // namespace webchat
