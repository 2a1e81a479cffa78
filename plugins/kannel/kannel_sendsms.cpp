#include "kannel_sendsms.h"

#include <sbcommon/form.h>
#include <sbcommon/http_answer.h>
#include <sbcommon/provider_request.h>
#include <sbcommon/sms.h>
#include <sbcommon/url_option.h>
#include <sbcommon/utf8.h>

#include <random>

namespace kannel {

namespace {

using switchboard::Result;
using sbcommon::utf8::sanitizedExcerpt;
namespace sms = sbcommon::sms;
namespace form = sbcommon::form;
namespace http = switchboard::http;

constexpr size_t kMaxAnswerBytes = 16 * 1024;

std::string randomId() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::random_device rd;
    std::string out = "sb-";
    for (int i = 0; i < 24; ++i) out += kHex[rd() & 15];
    return out;
}

}  // namespace

Result buildRequest(const SendsmsOptions& o, const switchboard::Message& m, SendsmsRequest& out) {
    std::string to;
    for (const auto& r : m.recipients)
        if (r.type == "phone" && !r.value.empty()) to += (to.empty() ? "" : " ") + r.value;  // Kannel: space-separated
    if (to.empty()) return Result::failData("the message has no phone recipient");
    if (m.text.empty()) return Result::failData("the message has no text: an SMS needs some");
    const auto measure = sms::measure(m.text);
    out.segments = measure.segments;
    if (measure.segments > static_cast<size_t>(o.maxSegments))
        return Result::failData("the text needs " + std::to_string(measure.segments) + " SMS segments (" +
                                sms::encodingName(measure.encoding) + "), more than max_segments (" +
                                std::to_string(o.maxSegments) + ")");
    out.ourId.clear();
    for (const auto& [k, v] : m.attributes)
        if (k == "outbox.idempotency_key") out.ourId = v;  // stable across the outbox's retries
    if (out.ourId.empty()) out.ourId = randomId();

    auto& p = out.params;
    p = {{"username", o.username}, {"password", o.password}, {"to", to}};
    if (!o.from.empty()) p.emplace_back("from", o.from);
    if (!o.smsc.empty()) p.emplace_back("smsc", o.smsc);
    if (measure.encoding == sms::Encoding::Gsm7) {
        p.emplace_back("text", m.text);
        p.emplace_back("charset", "UTF-8");
        p.emplace_back("coding", "0");
    } else {
        p.emplace_back("text", sms::toUtf16Be(m.text));
        p.emplace_back("charset", "UTF-16BE");
        p.emplace_back("coding", "2");
    }
    if (o.dlrMask > 0) {
        // %d (the DLR type), %A (the SMSC's answer) and %T (its Unix time) are expanded by
        // Kannel when it fetches the URL (user guide, "Parameters (Escape Codes)").
        std::string dlr = o.callbackUrl + "/dlr?id=" + form::urlEncode(out.ourId) + "&type=%d&answer=%A&time=%T";
        if (!o.token.empty()) dlr += "&token=" + form::urlEncode(o.token);
        p.emplace_back("dlr-mask", std::to_string(o.dlrMask));
        p.emplace_back("dlr-url", dlr);
    }
    return Result::ok();
}

Result classifyAnswer(const SendsmsAnswer& a, const std::string& where) {
    if (a.status == 0) return Result::retry("Kannel at " + where + " did not answer: " + a.error);
    if (sbcommon::isSuccess(a.status)) return Result::ok();
    const std::string said = "Kannel at " + where + " answered " + std::to_string(a.status) +
                             (a.body.empty() ? "" : ": " + sanitizedExcerpt(a.body));
    return sbcommon::failedAnswer(a.status, said, http::retryMs(a.retryAfter()), "(check username and password)");
}

SendsmsClient::SendsmsClient(SendsmsOptions options) : options_(std::move(options)) {
    where_ = sbcommon::checkedHttpUrl("sendsms_url", options_.url, sbcommon::Query::Refused);
    sbcommon::checkedHttpUrl("callback_url", options_.callbackUrl, sbcommon::Query::Refused);
    while (!options_.callbackUrl.empty() && options_.callbackUrl.back() == '/') options_.callbackUrl.pop_back();
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'timeout': must be more than 0");
    if (options_.maxSegments < 1) throw switchboard::ConfigError("option 'max_segments': must be at least 1");
    if (options_.dlrMask < 0 || options_.dlrMask > 31)
        throw switchboard::ConfigError("option 'dlr_mask': must be 0..31 (a sum of 1, 2, 4, 8, 16)");
}

Result SendsmsClient::send(const switchboard::Message& message, switchboard::SendResult& sent) {
    SendsmsRequest request;
    Result built = buildRequest(options_, message, request);
    if (!built.isOk()) return built;
    std::string url = options_.url + "?";
    for (size_t i = 0; i < request.params.size(); ++i)
        url += (i ? "&" : "") + request.params[i].first + "=" + form::urlEncode(request.params[i].second);
    // The URL holds the password: errors name the endpoint (libcurl's texts do), never the URL.
    Result r = classifyAnswer(
        http_.perform(sbcommon::providerRequest("GET", url, "", options_.timeout, "switchboard-kannel/1.0.0", kMaxAnswerBytes)),
        where_);
    if (r.isOk()) sent.providerMessageId = request.ourId;
    return r;
}

}  // namespace kannel
