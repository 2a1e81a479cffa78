#include "vonage_sms_api.h"

#include <sbcommon/sms.h>
#include <sbcommon/form.h>
#include <sbcommon/http_answer.h>
#include <sbcommon/provider_request.h>
#include <sbcommon/url_option.h>
#include <sbcommon/utf8.h>

#include <nlohmann/json.hpp>

#include <string_view>

namespace vonage {

namespace {

using switchboard::Result;
using sbcommon::utf8::sanitizedExcerpt;
namespace http = switchboard::http;
namespace sms = sbcommon::sms;
namespace form = sbcommon::form;

constexpr size_t kMaxAnswerBytes = 64 * 1024;
constexpr size_t kMaxClientRef = 100;  // Vonage's limit for client-ref

// Vonage sends numbers as strings ("0"); accept a JSON number too.
std::string field(const nlohmann::json& o, const char* name) {
    if (!o.is_object() || !o.contains(name)) return {};
    const auto& v = o[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return {};
}

Result classifyStatus(const std::string& status, const std::string& said) {
    if (status == "1" || status == "5" || status == "10" || status == "13") return Result::retry(said, status == "1" ? kThrottledRetryMs : 0);
    if (status == "4" || status == "8" || status == "14")
        return Result::fatal(said + " (check api_key and api_secret, and the account in the Vonage dashboard)");
    return Result::failData(said);
}

}  // namespace

SendOutcome classifyAnswer(const http::Response& a) {
    SendOutcome out;
    if (a.status == 0) {
        out.result = Result::retry("Vonage did not answer: " + a.error);
        return out;
    }
    const auto json = nlohmann::json::parse(a.body, nullptr, false);
    if (a.status != 200) {
        const std::string said = "Vonage answered HTTP " + std::to_string(a.status) + (a.body.empty() ? "" : ": " + sanitizedExcerpt(a.body));
        out.result = sbcommon::failedAnswer(a.status, said, http::retryMs(a.retryAfter()), "(check api_key and api_secret)");
        return out;
    }
    if (!json.is_object() || !json.contains("messages") || !json["messages"].is_array() || json["messages"].empty()) {
        // Not the SMS API's answer (a proxy's page?): try again rather than lose the message.
        out.result = Result::retry("Vonage answered 200 without a messages array: " + sanitizedExcerpt(a.body));
        return out;
    }
    const auto& messages = json["messages"];
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        const std::string status = field(m, "status");
        if (status == "0") {
            out.messageIds.push_back(field(m, "message-id"));
            continue;
        }
        out.status = status;
        std::string said = "Vonage status " + (status.empty() ? std::string("(none)") : status);
        if (const std::string text = field(m, "error-text"); !text.empty()) said += ": " + sanitizedExcerpt(text);
        if (messages.size() > 1) said += " (part " + std::to_string(i + 1) + " of " + std::to_string(messages.size()) + ")";
        out.result = classifyStatus(status, said);
        if (!out.messageIds.empty() && out.result.status() == SB_RETRY)
            out.result = Result::failData(said + "; " + std::to_string(out.messageIds.size()) +
                                          " part(s) were already accepted, so it is not retried (the recipient would "
                                          "get them twice)");
        return out;
    }
    return out;
}

SmsApiClient::SmsApiClient(SmsApiOptions options) : options_(std::move(options)) {
    while (!options_.baseUrl.empty() && options_.baseUrl.back() == '/') options_.baseUrl.pop_back();
    sbcommon::checkedHttpUrl("base_url", options_.baseUrl, sbcommon::Query::Refused);
    if (options_.apiKey.empty()) throw switchboard::ConfigError("option 'api_key' must not be empty");
    if (options_.apiSecret.empty()) throw switchboard::ConfigError("option 'api_secret' must not be empty");
    if (options_.from.empty()) throw switchboard::ConfigError("option 'from' must not be empty");
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'timeout': must be more than 0");
    endpoint_ = options_.baseUrl + "/sms/json";
}

SendOutcome SmsApiClient::send(const std::string& to, const std::string& text, const std::string& clientRef) {
    // Vonage documents numbers in E.164 without the leading '+' (447700900000).
    const std::string number = to.rfind('+', 0) == 0 ? to.substr(1) : to;
    std::string fields = "api_key=" + form::urlEncode(options_.apiKey) + "&api_secret=" + form::urlEncode(options_.apiSecret) +
                       "&from=" + form::urlEncode(options_.from) + "&to=" + form::urlEncode(number) +
                       "&text=" + form::urlEncode(text);
    // GSM-7 text is "text" (Vonage's default); anything else must be sent as "unicode" or
    // Vonage replaces the characters it cannot encode.
    if (sms::encodingFor(text) == sms::Encoding::Ucs2) fields += "&type=unicode";
    fields += std::string("&status-report-req=") + (options_.deliveryReceipts ? "1" : "0");
    if (options_.deliveryReceipts && !options_.callbackUrl.empty()) fields += "&callback=" + form::urlEncode(options_.callbackUrl);
    if (!clientRef.empty() && clientRef.size() <= kMaxClientRef) fields += "&client-ref=" + form::urlEncode(clientRef);

    return classifyAnswer(http_.perform(sbcommon::providerRequest("POST", endpoint_, std::move(fields), options_.timeout,
                                                                   "switchboard-vonage/1.0.0", kMaxAnswerBytes)));
}

}  // namespace vonage
