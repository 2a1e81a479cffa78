#include "webchat_reply.h"

#include "webchat_reply_body.h"
#include "webchat_signature.h"
#include "webchat_version.h"

#include <switchboard/plugin_http.h>
#include <sbcommon/utf8.h>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace webchat {
namespace {

using switchboard::Result;
namespace http = switchboard::plugin_http;

// Idle easy handles kept for reuse (each keeps its connection alive).
constexpr size_t kMaxPooledHandles = 8;

// Validates reply_url and returns it without credentials or query, for messages.
std::string checkedWhere(const std::string& url) {
    const auto u = http::parseUrl(url);
    if (!u) throw switchboard::ConfigError("option 'reply_url': not a valid absolute URL (expected https://host/path)");
    if (u->scheme != "http" && u->scheme != "https")
        throw switchboard::ConfigError("option 'reply_url': scheme must be http or https, got '" + u->scheme + "'");
    if (u->host.empty()) throw switchboard::ConfigError("option 'reply_url': has no host");
    return http::redactedUrl(*u);
}

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// Idle easy handles: reusing one reuses its kept-alive connection to the website.
class ReplySender::HandlePool {
public:
    ~HandlePool() {
        for (CURL* h : idle_) curl_easy_cleanup(h);
    }
    CURL* take() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!idle_.empty()) {
                CURL* h = idle_.back();
                idle_.pop_back();
                return h;
            }
        }
        return http::newEasyHandle().release();
    }
    void give(CURL* h) {
        curl_easy_reset(h);  // forgets options, keeps the connection cache
        std::lock_guard<std::mutex> lock(mutex_);
        if (idle_.size() < kMaxPooledHandles) {
            idle_.push_back(h);
            return;
        }
        curl_easy_cleanup(h);
    }

private:
    std::mutex mutex_;
    std::vector<CURL*> idle_;
};

ReplySender::ReplySender(ReplyOptions options) : options_(std::move(options)) {
    http::initCurlOnce();
    where_ = checkedWhere(options_.url);
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'reply_timeout': must be more than 0");
    if (!options_.caFile.empty() && !std::ifstream(options_.caFile).good())
        throw switchboard::ConfigError("option 'reply_ca_file': cannot read '" + options_.caFile + "'");
    pool_ = std::make_unique<HandlePool>();
}

ReplySender::~ReplySender() = default;

Result ReplySender::send(const switchboard::Message& message, switchboard::SendResult& sent) {
    if (message.text.empty() && message.html.empty() && message.attachments.empty())
        return Result::failData("the reply has no text, html or attachments: nothing to send");
    const std::string id = replyId(message);
    const ReplyAnswer answer = post(id, replyBody(message, id, nowMs()));
    return classifyAnswer(answer, id, where_, sent);
}

ReplyAnswer ReplySender::post(const std::string& id, const std::string& body) {
    CURL* h = pool_->take();
    struct GiveBack {
        HandlePool* pool;
        CURL* h;
        ~GiveBack() { pool->give(h); }
    } giveBack{pool_.get(), h};

    http::HeaderList headers;
    http::addHeader(headers, "Content-Type: application/json");
    http::addHeader(headers, "Accept: application/json");
    http::addHeader(headers, std::string("X-Switchboard-Signature: ") + std::string(kSignaturePrefix) +
                                 hmacSha256Hex(options_.secret, body));
    // The id is also in the body; a header copy only when it cannot break the header block.
    if (std::none_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        http::addHeader(headers, "Idempotency-Key: " + id);
    http::addHeader(headers, "Expect:");  // no 100-continue round trip for larger bodies
    const std::string userAgent = std::string("switchboard-webchat/") + kVersion;

    http::setHttpBasics(h, options_.url, options_.timeout, userAgent.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (!options_.caFile.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.caFile.c_str());

    CURLcode rc = CURLE_OK;
    ReplyAnswer answer = http::perform(h, kMaxAnswerBytes, &rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        answer.transportError = "no answer within reply_timeout (" + std::to_string(options_.timeout.count()) + "ms)";
    return answer;
}

Result classifyAnswer(const ReplyAnswer& answer, const std::string& ourId, const std::string& where,
                      switchboard::SendResult& sent) {
    if (answer.status == 0) return Result::retry("could not deliver the reply to " + where + ": " + answer.transportError);
    const std::string status = std::to_string(answer.status);
    if (answer.status >= 200 && answer.status < 300) {
        sent.providerMessageId = ourId;
        const auto json = nlohmann::json::parse(answer.body, nullptr, false);
        if (json.is_object()) {
            auto it = json.find("id");
            if (it != json.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
                sent.providerMessageId = it->get<std::string>();
            else if (it != json.end() && it->is_number_integer())
                sent.providerMessageId = it->dump();
        }
        return Result::ok();
    }
    const std::string excerpt = sbcommon::utf8::sanitizedExcerpt(answer.body, kMaxExcerptBytes);
    const std::string said = where + " answered " + status + (excerpt.empty() ? "" : ": " + excerpt);
    if (answer.status == 408 || answer.status == 429 || answer.status >= 500)
        return Result::retry(said, answer.retryAfterMs.value_or(0));
    return Result::failData(said);
}

}  // namespace webchat
