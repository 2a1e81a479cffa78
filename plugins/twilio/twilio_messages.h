// Outbound SMS through Twilio's Messages REST API
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
// POST {api_base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic auth
// AccountSid:AuthToken, form fields To, From or MessagingServiceSid, Body, StatusCallback.
#pragma once

#include <switchboard/plugin.hpp>
#include <switchboard/http_client.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace twilio {

// Twilio error 21610: "Attempt to send to unsubscribed recipient" (the number replied STOP).
inline constexpr int kUnsubscribedRecipient = 21610;

struct MessagesOptions {
    std::string apiBaseUrl = "https://api.twilio.com";
    std::string accountSid;
    std::string authToken;  // never logged
    std::string from;
    std::string messagingServiceSid;
    std::string statusCallback;  // "" = none
    std::chrono::milliseconds timeout{10000};
};

// What Twilio answered (status 0: no HTTP answer, see error).
using MessagesAnswer = switchboard::http::Response;

struct SendOutcome {
    switchboard::Result result = switchboard::Result::ok();
    std::string sid;         // the Message SID on success
    int errorCode = 0;       // Twilio's error code on failure, 0 when none
};

// 2xx: OK with the JSON "sid"; 408, 429, 5xx and no answer: RETRY (Retry-After honoured);
// 401/403: FATAL (wrong credentials fail every message); other 4xx: FAIL_DATA with Twilio's
// code and message (JSON {"code", "message", "more_info", "status"}).
SendOutcome classifyAnswer(const MessagesAnswer& answer);

class MessagesClient {
public:
    explicit MessagesClient(MessagesOptions options);  // throws switchboard::ConfigError
    // One message to one phone number.
    SendOutcome send(const std::string& to, const std::string& body);

private:
    MessagesOptions options_;
    std::string endpoint_;
    switchboard::http::Client http_;
};

}  // namespace twilio
