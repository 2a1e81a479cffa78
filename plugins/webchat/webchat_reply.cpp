#include "webchat_reply.h"

#include "webchat_reply_body.h"
#include "webchat_signature.h"
#include "webchat_version.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace webchat {
namespace {

using switchboard::Result;

// A server's Retry-After is honoured up to a day; beyond that it is a bug or hostile.
constexpr uint32_t kMaxRetryAfterMs = 24u * 3600u * 1000u;
// Idle easy handles kept for reuse (each keeps its connection alive).
constexpr size_t kMaxPooledHandles = 8;

// The host does not use libcurl, so nobody else initializes it for us. curl_global_init is
// not guaranteed thread-safe on every libcurl build: run it once per process (per load of
// this plugin), before the first easy handle. It is never cleaned up: another library in
// the process may share libcurl, and the cost is a few static allocations.
void initCurlOnce() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("libcurl initialization failed: ") + curl_easy_strerror(result));
}

// Validates reply_url and returns it without credentials or query, for messages.
std::string checkedWhere(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
    if (!u) throw std::bad_alloc();
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
        throw switchboard::ConfigError("option 'reply_url': not a valid absolute URL (expected https://host/path)");
    auto part = [&](CURLUPart which) {
        char* text = nullptr;
        std::string out;
        if (curl_url_get(u.get(), which, &text, 0) == CURLUE_OK && text) out = text;
        curl_free(text);
        return out;
    };
    const std::string scheme = part(CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https")
        throw switchboard::ConfigError("option 'reply_url': scheme must be http or https, got '" + scheme + "'");
    const std::string host = part(CURLUPART_HOST);
    if (host.empty()) throw switchboard::ConfigError("option 'reply_url': has no host");
    const std::string port = part(CURLUPART_PORT);
    return scheme + "://" + host + (port.empty() ? "" : ":" + port) + part(CURLUPART_PATH);
}

size_t collectBody(char* data, size_t size, size_t count, void* userdata) {
    auto* body = static_cast<std::string*>(userdata);
    const size_t n = size * count;
    // Keep reading past the cap (aborting would lose the status), but keep only the start.
    if (body->size() < kMaxAnswerBytes) body->append(data, std::min(n, kMaxAnswerBytes - body->size()));
    return n;
}

// "120" (seconds) or an HTTP date; nullopt when absent or unparsable.
std::optional<uint32_t> parseRetryAfter(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size())
        return static_cast<uint32_t>(std::min<uint64_t>(seconds, kMaxRetryAfterMs / 1000) * 1000);
    if (ec == std::errc::result_out_of_range) return kMaxRetryAfterMs;
    const time_t at = curl_getdate(std::string(value).c_str(), nullptr);
    if (at == -1) return std::nullopt;
    const time_t now = std::time(nullptr);
    if (at <= now) return 0;
    return static_cast<uint32_t>(std::min<int64_t>(static_cast<int64_t>(at - now) * 1000, kMaxRetryAfterMs));
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
size_t utf8Length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return n;
}

struct CurlListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using HeaderList = std::unique_ptr<curl_slist, CurlListDeleter>;

void addHeader(HeaderList& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    (void)list.release();
    list.reset(next);
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
        CURL* h = curl_easy_init();
        if (h == nullptr) throw std::runtime_error("libcurl could not create a handle");
        return h;
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
    initCurlOnce();
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
    ReplyAnswer answer;
    CURL* h = pool_->take();
    struct GiveBack {
        HandlePool* pool;
        CURL* h;
        ~GiveBack() { pool->give(h); }
    } giveBack{pool_.get(), h};

    HeaderList headers;
    addHeader(headers, "Content-Type: application/json");
    addHeader(headers, "Accept: application/json");
    addHeader(headers, std::string("X-Switchboard-Signature: ") + std::string(kSignaturePrefix) +
                           hmacSha256Hex(options_.secret, body));
    // The id is also in the body; a header copy only when it cannot break the header block.
    if (std::none_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        addHeader(headers, "Idempotency-Key: " + id);
    addHeader(headers, "Expect:");  // no 100-continue round trip for larger bodies
    const std::string userAgent = std::string("switchboard-webchat/") + kVersion;
    char curlError[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // several threads: no SIGALRM-based DNS timeouts
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_USERAGENT, userAgent.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collectBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlError);
    if (!options_.caFile.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.caFile.c_str());

    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            answer.transportError = "no answer within reply_timeout (" + std::to_string(options_.timeout.count()) + "ms)";
        } else {
            answer.transportError = curl_easy_strerror(rc);
            if (curlError[0] != '\0') answer.transportError += std::string(" (") + curlError + ")";
        }
        return answer;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_header* retryAfter = nullptr;
    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &retryAfter) == CURLHE_OK && retryAfter)
        answer.retryAfterMs = parseRetryAfter(retryAfter->value);
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
    const std::string excerpt = sanitizedExcerpt(answer.body);
    const std::string said = where + " answered " + status + (excerpt.empty() ? "" : ": " + excerpt);
    if (answer.status == 408 || answer.status == 429 || answer.status >= 500)
        return Result::retry(said, answer.retryAfterMs.value_or(0));
    return Result::failData(said);
}

std::string sanitizedExcerpt(std::string_view text, size_t maxBytes) {
    std::string out;
    bool truncated = false;
    for (size_t i = 0; i < text.size();) {
        const size_t n = utf8Length(text, i);
        std::string_view piece = n == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(i, n);
        const auto c = static_cast<unsigned char>(text[i]);
        if (n == 1 && (c < 0x20 || c == 0x7F)) piece = " ";  // one line, no control characters
        if (piece == " " && (out.empty() || out.back() == ' ')) {
            i += n == 0 ? 1 : n;
            continue;
        }
        if (out.size() + piece.size() > maxBytes) {
            truncated = true;
            break;
        }
        out += piece;
        i += n == 0 ? 1 : n;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (truncated) out += "...";
    return out;
}

}  // namespace webchat
