#include "switchboard/plugin_http.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <mutex>
#include <new>
#include <stdexcept>

namespace switchboard::plugin_http {

namespace {

struct BodySink {
    std::string* body;
    size_t maxBytes;
};

size_t collectBody(char* data, size_t size, size_t count, void* userdata) {
    auto* sink = static_cast<BodySink*>(userdata);
    const size_t n = size * count;
    // Keep reading past the cap (aborting would lose the status), but keep only the start.
    if (sink->body->size() < sink->maxBytes)
        sink->body->append(data, std::min(n, sink->maxBytes - sink->body->size()));
    return n;
}

}  // namespace

void initCurlOnce() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("libcurl initialization failed: ") + curl_easy_strerror(result));
}

EasyHandle newEasyHandle() {
    EasyHandle h(curl_easy_init());
    if (!h) throw std::runtime_error("libcurl could not create a handle");
    return h;
}

void addHeader(HeaderList& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    (void)list.release();  // next now owns the old nodes
    list.reset(next);
}

std::optional<UrlParts> parseUrl(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
    if (!u) throw std::bad_alloc();
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
    auto part = [&](CURLUPart which) {
        char* text = nullptr;
        std::string out;
        if (curl_url_get(u.get(), which, &text, 0) == CURLUE_OK && text) out = text;
        curl_free(text);
        return out;
    };
    return UrlParts{part(CURLUPART_SCHEME), part(CURLUPART_HOST), part(CURLUPART_PORT), part(CURLUPART_PATH),
                    part(CURLUPART_QUERY)};
}

std::string redactedUrl(const UrlParts& p) {
    return p.scheme + "://" + p.host + (p.port.empty() ? "" : ":" + p.port) + p.path;
}

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

std::optional<uint32_t> retryAfterOf(CURL* h) {
    curl_header* header = nullptr;
    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK && header)
        return parseRetryAfter(header->value);
    return std::nullopt;
}

std::string describeCurlError(CURLcode code, const char* errorBuffer) {
    std::string out = curl_easy_strerror(code);
    if (errorBuffer != nullptr && errorBuffer[0] != '\0') out += std::string(" (") + errorBuffer + ")";
    return out;
}

void setHttpBasics(CURL* h, const std::string& url, std::chrono::milliseconds timeout, const char* userAgent) {
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(h, CURLOPT_USERAGENT, userAgent);
}

HttpAnswer perform(CURL* h, size_t maxBodyBytes, CURLcode* code) {
    HttpAnswer answer;
    BodySink sink{&answer.body, maxBodyBytes};
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collectBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorBuffer);
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // the buffer dies with this frame
    if (code != nullptr) *code = rc;
    if (rc != CURLE_OK) {
        answer.transportError = describeCurlError(rc, errorBuffer);
        return answer;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
    answer.retryAfterMs = retryAfterOf(h);
    return answer;
}

}  // namespace switchboard::plugin_http
