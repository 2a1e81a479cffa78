#include "twilio_messages.h"

#include <sbcommon/form.h>
#include <sbcommon/utf8.h>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <string_view>

namespace twilio {

namespace {

using switchboard::Result;
using sbcommon::utf8::sanitizedExcerpt;
namespace http = switchboard::plugin_http;

constexpr size_t kMaxAnswerBytes = 64 * 1024;

}  // namespace

SendOutcome classifyAnswer(const MessagesAnswer& a) {
    SendOutcome out;
    if (a.status == 0) {
        out.result = Result::retry("Twilio did not answer: " + a.transportError);
        return out;
    }
    const auto json = nlohmann::json::parse(a.body, nullptr, false);
    if (a.status >= 200 && a.status < 300) {
        if (json.is_object() && json.contains("sid") && json["sid"].is_string()) out.sid = json["sid"];
        return out;
    }
    std::string said = "Twilio answered " + std::to_string(a.status);
    if (json.is_object() && json.contains("code") && json["code"].is_number_integer()) {
        out.errorCode = json["code"].get<int>();
        said += ", error " + std::to_string(out.errorCode);
    }
    if (json.is_object() && json.contains("message") && json["message"].is_string())
        said += ": " + sanitizedExcerpt(json["message"].get<std::string>());
    else if (!a.body.empty())
        said += ": " + sanitizedExcerpt(a.body);
    if (a.status == 408 || a.status == 429 || a.status >= 500) out.result = Result::retry(said, a.retryAfterMs.value_or(0));
    else if (a.status == 401 || a.status == 403) out.result = Result::fatal(said + " (check account_sid and auth_token)");
    else out.result = Result::failData(said);
    return out;
}

MessagesClient::MessagesClient(MessagesOptions options) : options_(std::move(options)) {
    http::initCurlOnce();
    while (!options_.apiBaseUrl.empty() && options_.apiBaseUrl.back() == '/') options_.apiBaseUrl.pop_back();
    if (options_.apiBaseUrl.rfind("https://", 0) != 0 && options_.apiBaseUrl.rfind("http://", 0) != 0)
        throw switchboard::ConfigError("option 'api_base_url': must start with https:// (or http:// for a test double)");
    if (options_.accountSid.rfind("AC", 0) != 0)
        throw switchboard::ConfigError("option 'account_sid': a Twilio Account SID starts with AC");
    if (options_.from.empty() == options_.messagingServiceSid.empty())
        throw switchboard::ConfigError("options 'from' and 'messaging_service_sid': set exactly one of them");
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'timeout': must be more than 0");
    endpoint_ = options_.apiBaseUrl + "/2010-04-01/Accounts/" + sbcommon::form::urlEncode(options_.accountSid) +
                "/Messages.json";
}

SendOutcome MessagesClient::send(const std::string& to, const std::string& body) const {
    namespace form = sbcommon::form;
    std::string fields = "To=" + form::urlEncode(to) + "&Body=" + form::urlEncode(body);
    fields += options_.messagingServiceSid.empty() ? "&From=" + form::urlEncode(options_.from)
                                                 : "&MessagingServiceSid=" + form::urlEncode(options_.messagingServiceSid);
    if (!options_.statusCallback.empty()) fields += "&StatusCallback=" + form::urlEncode(options_.statusCallback);

    const http::EasyHandle h = http::newEasyHandle();
    http::setHttpBasics(h.get(), endpoint_, options_.timeout, "switchboard-twilio/1.0.0");
    curl_easy_setopt(h.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h.get(), CURLOPT_USERNAME, options_.accountSid.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PASSWORD, options_.authToken.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, fields.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(fields.size()));
    const MessagesAnswer answer = http::perform(h.get(), kMaxAnswerBytes);
    return classifyAnswer(answer);
}

}  // namespace twilio
