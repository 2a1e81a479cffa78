#include "kannel_sendsms.h"

#include <sbcommon/sms.h>
#include <sbcommon/form.h>
#include <sbcommon/utf8.h>

#include <random>

namespace kannel {

namespace {

using switchboard::Result;
using sbcommon::utf8::sanitizedExcerpt;
namespace sms = sbcommon::sms;
namespace form = sbcommon::form;
namespace http = switchboard::plugin_http;

constexpr size_t kMaxAnswerBytes = 16 * 1024;

// Validates an http(s) URL option; returns it without credentials or query, for messages.
std::string checkedUrl(const std::string& option, const std::string& url) {
    const auto u = http::parseUrl(url);
    if (!u) throw switchboard::ConfigError("option '" + option + "': not a valid absolute URL: '" + url + "'");
    if (u->scheme != "http" && u->scheme != "https")
        throw switchboard::ConfigError("option '" + option + "': scheme must be http or https, got '" + u->scheme +
                                       "'");
    if (!u->query.empty()) throw switchboard::ConfigError("option '" + option + "': must not have a query string");
    return http::redactedUrl(*u);
}

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
    if (a.status == 0) return Result::retry("Kannel at " + where + " did not answer: " + a.transportError);
    const std::string said = "Kannel at " + where + " answered " + std::to_string(a.status) +
                             (a.body.empty() ? "" : ": " + sanitizedExcerpt(a.body));
    if (a.status >= 200 && a.status < 300) return Result::ok();
    if (a.status == 408 || a.status == 429 || a.status >= 500) return Result::retry(said, a.retryAfterMs.value_or(0));
    if (a.status == 401 || a.status == 403) return Result::fatal(said + " (check username and password)");
    return Result::failData(said);
}

SendsmsClient::SendsmsClient(SendsmsOptions options) : options_(std::move(options)) {
    http::initCurlOnce();
    where_ = checkedUrl("sendsms_url", options_.url);
    checkedUrl("callback_url", options_.callbackUrl);
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
    Result r = classifyAnswer(get(url), where_);
    if (r.isOk()) sent.providerMessageId = request.ourId;
    return r;
}

SendsmsAnswer SendsmsClient::get(const std::string& url) const {
    const http::EasyHandle h = http::newEasyHandle();
    http::setHttpBasics(h.get(), url, options_.timeout, "switchboard-kannel/1.0.0");
    // The URL holds the password: errors name the endpoint (libcurl's texts do), never the URL.
    return http::perform(h.get(), kMaxAnswerBytes);
}

}  // namespace kannel
