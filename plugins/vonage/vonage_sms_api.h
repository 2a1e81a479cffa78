// Outbound SMS through Vonage's SMS API
// (https://developer.vonage.com/en/api/sms#send-an-sms): POST {base_url}/sms/json, form
// parameters api_key, api_secret, from, to, text, type (unicode for UCS-2 text),
// status-report-req, callback, client-ref. Vonage splits a long text itself and answers 200
// with {"message-count": "N", "messages": [{"status": "0", "message-id": ...}, ...]}, one
// object per part; a non-zero status is an error with "error-text"
// (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms).
#pragma once

#include <switchboard/plugin.hpp>
#include <switchboard/http_client.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace vonage {

struct SmsApiOptions {
    std::string baseUrl = "https://rest.nexmo.com";
    std::string apiKey;
    std::string apiSecret;  // never logged
    std::string from;
    std::string callbackUrl;  // "" = the account's default delivery receipt URL
    bool deliveryReceipts = true;
    std::chrono::milliseconds timeout{10000};
};

struct SendOutcome {
    switchboard::Result result = switchboard::Result::ok();
    std::vector<std::string> messageIds;  // one per part Vonage accepted, in part order
    std::string status;                   // Vonage's status of the failing part ("" when none)
};

// How long to wait after status 1 "Throttled", which carries no Retry-After.
inline constexpr uint32_t kThrottledRetryMs = 1000;

// HTTP 200 with every part status 0: OK. Status 1 (throttled), 5 (internal error), 10 (too
// many binds), 13 (communication failure), HTTP 429 (after Retry-After), 5xx and no answer:
// RETRY. Status 4 (invalid credentials), 8 (account barred), 14 (invalid signature) and HTTP
// 401/403: FATAL, every send would fail alike. Any other status (2 missing and 3 invalid
// parameters, 6 invalid message, 7 number barred, 9 quota, 15 invalid sender, ...) and other
// HTTP errors: FAIL_DATA with Vonage's error-text. When some parts were accepted before one
// failed, a retry would send those parts twice: FAIL_DATA instead.
SendOutcome classifyAnswer(const switchboard::http::Response& answer);

class SmsApiClient {
public:
    explicit SmsApiClient(SmsApiOptions options);  // throws switchboard::ConfigError
    // to: E.164, with or without '+'.
    SendOutcome send(const std::string& to, const std::string& text, const std::string& clientRef);

private:
    SmsApiOptions options_;
    std::string endpoint_;
    switchboard::http::Client http_;
};

}  // namespace vonage
