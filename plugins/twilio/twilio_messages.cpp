#include "twilio_messages.h"

#include <sbcommon/form.h>
#include <sbcommon/http_answer.h>
#include <sbcommon/provider_request.h>
#include <sbcommon/url_option.h>
#include <sbcommon/utf8.h>

#include <nlohmann/json.hpp>

#include <string_view>

namespace twilio {

namespace {

using switchboard::Result;
using sbcommon::utf8::sanitizedExcerpt;
namespace http = switchboard::http;

constexpr size_t kMaxAnswerBytes = 64 * 1024;

}  // namespace

SendOutcome classifyAnswer(const MessagesAnswer& a) {
    SendOutcome out;
    if (a.status == 0) {
        out.result = Result::retry("Twilio did not answer: " + a.error);
        return out;
    }
    const auto json = nlohmann::json::parse(a.body, nullptr, false);
    if (sbcommon::isSuccess(a.status)) {
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
    out.result = sbcommon::failedAnswer(a.status, said, http::retryMs(a.retryAfter()), "(check account_sid and auth_token)");
    return out;
}

MessagesClient::MessagesClient(MessagesOptions options) : options_(std::move(options)) {
    while (!options_.apiBaseUrl.empty() && options_.apiBaseUrl.back() == '/') options_.apiBaseUrl.pop_back();
    sbcommon::checkedHttpUrl("api_base_url", options_.apiBaseUrl, sbcommon::Query::Refused);
    if (options_.accountSid.rfind("AC", 0) != 0)
        throw switchboard::ConfigError("option 'account_sid': a Twilio Account SID starts with AC");
    if (options_.from.empty() == options_.messagingServiceSid.empty())
        throw switchboard::ConfigError("options 'from' and 'messaging_service_sid': set exactly one of them");
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'timeout': must be more than 0");
    endpoint_ = options_.apiBaseUrl + "/2010-04-01/Accounts/" + sbcommon::form::urlEncode(options_.accountSid) +
                "/Messages.json";
}

SendOutcome MessagesClient::send(const std::string& to, const std::string& body) {
    namespace form = sbcommon::form;
    std::string fields = "To=" + form::urlEncode(to) + "&Body=" + form::urlEncode(body);
    fields += options_.messagingServiceSid.empty() ? "&From=" + form::urlEncode(options_.from)
                                                 : "&MessagingServiceSid=" + form::urlEncode(options_.messagingServiceSid);
    if (!options_.statusCallback.empty()) fields += "&StatusCallback=" + form::urlEncode(options_.statusCallback);

    http::Request post = sbcommon::providerRequest("POST", endpoint_, std::move(fields), options_.timeout,
                                                   "switchboard-twilio/1.0.0", kMaxAnswerBytes);
    post.username = options_.accountSid;
    post.password = options_.authToken;
    return classifyAnswer(http_.perform(post));
}

}  // namespace twilio
