// Outbound SMS through Kannel's sendsms HTTP interface (smsbox "sendsms-port",
// /cgi-bin/sendsms; Kannel user guide, "SMS Push (send-sms) CGI Variables").
#pragma once

#include <switchboard/plugin.hpp>
#include <switchboard/http_client.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kannel {

struct SendsmsOptions {
    std::string url;       // http(s)://host:port/cgi-bin/sendsms
    std::string username;  // a sendsms-user group
    std::string password;  // never logged
    std::string from;      // sender number or name; empty: the smsbox's global-sender
    std::string smsc;      // route through this smsc-id; empty: Kannel routes
    std::string callbackUrl;  // this instance's webhook URL, as Kannel reaches it
    std::string token;        // appended to the dlr-url so our webhook accepts the report
    int dlrMask = 31;
    int maxSegments = 10;
    std::chrono::milliseconds timeout{10000};
};

// One sendsms request, ready to go: query parameters (values raw; encoded when sent).
struct SendsmsRequest {
    std::vector<std::pair<std::string, std::string>> params;
    std::string ourId;  // the provider message id: ours, also in the dlr-url
    size_t segments = 1;
};

// Builds the request for message, or returns FAIL_DATA (no phone recipient, empty text, too
// many segments). GSM-7 text goes as coding=0 charset=UTF-8; anything else as coding=2 with
// the text as UTF-16BE (charset=UTF-16BE), since Kannel mangles non-GSM text at coding 0.
switchboard::Result buildRequest(const SendsmsOptions& options, const switchboard::Message& message,
                                 SendsmsRequest& out);

// What sendsms answered (status 0: no HTTP answer, see error).
using SendsmsAnswer = switchboard::http::Response;

// 2xx ("0: Accepted for delivery", "3: Queued for later delivery") OK; 408, 429, 5xx and no
// answer RETRY (honouring Retry-After); 401/403 ("Authorization failed") FATAL: the instance's
// credentials are wrong for every message; any other status FAIL_DATA with Kannel's reason.
switchboard::Result classifyAnswer(const SendsmsAnswer& answer, const std::string& where);

// Thread-safe sender (libcurl, one easy handle per call).
class SendsmsClient {
public:
    explicit SendsmsClient(SendsmsOptions options);  // throws switchboard::ConfigError
    switchboard::Result send(const switchboard::Message& message, switchboard::SendResult& sent);
    const SendsmsOptions& options() const { return options_; }

private:
    SendsmsOptions options_;
    std::string where_;  // scheme://host:port/path, without credentials
    switchboard::http::Client http_;
};

}  // namespace kannel
