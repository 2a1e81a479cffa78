#include "twilio_messages.h"

#include <switchboard/sms_form.h>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace twilio {

namespace {

using switchboard::Result;

constexpr size_t kMaxAnswerBytes = 64 * 1024;
constexpr uint32_t kMaxRetryAfterMs = 24u * 3600u * 1000u;

void initCurlOnce() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("libcurl initialization failed: ") + curl_easy_strerror(result));
}

size_t collectBody(char* data, size_t size, size_t count, void* userdata) {
    auto* body = static_cast<std::string*>(userdata);
    const size_t n = size * count;
    if (body->size() < kMaxAnswerBytes) body->append(data, std::min(n, kMaxAnswerBytes - body->size()));
    return n;
}

std::optional<uint32_t> parseRetryAfter(std::string_view value) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size())
        return static_cast<uint32_t>(std::min<uint64_t>(seconds, kMaxRetryAfterMs / 1000) * 1000);
    const time_t at = curl_getdate(std::string(value).c_str(), nullptr);
    if (at == -1) return std::nullopt;
    const time_t now = std::time(nullptr);
    return at <= now ? 0 : static_cast<uint32_t>(std::min<int64_t>((at - now) * 1000, kMaxRetryAfterMs));
}

std::string oneLine(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
    return out;
}

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
        said += ": " + oneLine(json["message"].get<std::string>());
    else if (!a.body.empty())
        said += ": " + oneLine(a.body);
    if (a.status == 408 || a.status == 429 || a.status >= 500) out.result = Result::retry(said, a.retryAfterMs.value_or(0));
    else if (a.status == 401 || a.status == 403) out.result = Result::fatal(said + " (check account_sid and auth_token)");
    else out.result = Result::failData(said);
    return out;
}

MessagesClient::MessagesClient(MessagesOptions options) : options_(std::move(options)) {
    initCurlOnce();
    while (!options_.apiBaseUrl.empty() && options_.apiBaseUrl.back() == '/') options_.apiBaseUrl.pop_back();
    if (options_.apiBaseUrl.rfind("https://", 0) != 0 && options_.apiBaseUrl.rfind("http://", 0) != 0)
        throw switchboard::ConfigError("option 'api_base_url': must start with https:// (or http:// for a test double)");
    if (options_.accountSid.rfind("AC", 0) != 0)
        throw switchboard::ConfigError("option 'account_sid': a Twilio Account SID starts with AC");
    if (options_.from.empty() == options_.messagingServiceSid.empty())
        throw switchboard::ConfigError("options 'from' and 'messaging_service_sid': set exactly one of them");
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'timeout': must be more than 0");
    endpoint_ = options_.apiBaseUrl + "/2010-04-01/Accounts/" + switchboard::sms::urlEncode(options_.accountSid) +
                "/Messages.json";
}

SendOutcome MessagesClient::send(const std::string& to, const std::string& body) const {
    namespace sms = switchboard::sms;
    std::string form = "To=" + sms::urlEncode(to) + "&Body=" + sms::urlEncode(body);
    form += options_.messagingServiceSid.empty() ? "&From=" + sms::urlEncode(options_.from)
                                                 : "&MessagingServiceSid=" + sms::urlEncode(options_.messagingServiceSid);
    if (!options_.statusCallback.empty()) form += "&StatusCallback=" + sms::urlEncode(options_.statusCallback);

    MessagesAnswer answer;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
    if (!h) throw std::runtime_error("libcurl could not create a handle");
    char curlError[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h.get(), CURLOPT_URL, endpoint_.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h.get(), CURLOPT_USERNAME, options_.accountSid.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PASSWORD, options_.authToken.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
    curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "switchboard-twilio/1.0.0");
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &collectBody);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(h.get(), CURLOPT_ERRORBUFFER, curlError);
    const CURLcode rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) {
        answer.transportError = curl_easy_strerror(rc);
        if (curlError[0] != '\0') answer.transportError += std::string(" (") + curlError + ")";
    } else {
        curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &answer.status);
        curl_header* retryAfter = nullptr;
        if (curl_easy_header(h.get(), "Retry-After", 0, CURLH_HEADER, -1, &retryAfter) == CURLHE_OK && retryAfter)
            answer.retryAfterMs = parseRetryAfter(retryAfter->value);
    }
    return classifyAnswer(answer);
}

}  // namespace twilio
