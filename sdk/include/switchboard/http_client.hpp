// An HTTP(S) client for connectors, on libcurl: one request in, the status, headers and body
// out, with connect and total timeouts and certificate checks. Thread-safe; idle handles are
// kept so later requests reuse their connections. Header-only: link Switchboard::http
// (find_package(SwitchboardSDK 1 REQUIRED COMPONENTS http)).
//
//   switchboard::http::Client client;
//   switchboard::http::Request req;
//   req.method = "POST";
//   req.url = "https://api.example.com/v1/messages";
//   req.headers = {{"Content-Type", "application/json"}};
//   req.body = payload;
//   const switchboard::http::Response r = client.perform(req);
//   if (r.status == 0) return Result::retry("no answer: " + r.error);
//   if (r.status == 429) return Result::retry("throttled", retryMs(r.retryAfter()));
#pragma once

#include <switchboard/curl.hpp>
#include <switchboard/retry_after.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::http {

struct Request {
    std::string method = "GET";  // a body is sent with any method when set (POST by default)
    std::string url;             // http:// or https:// only
    // Sent as "Name: value"; an empty value removes a header libcurl would add ("Expect").
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds connectTimeout{10000};
    std::chrono::milliseconds timeout{30000};  // the whole exchange, connecting included
    std::string userAgent;
    std::string username;  // HTTP Basic authentication when set
    std::string password;  // never in logs or errors
    std::string caFile;    // a CA bundle to trust instead of the system's; empty: the system's
    size_t maxBodyBytes = 1024 * 1024;  // the rest of a longer body is read and dropped
};

struct Response {
    long status = 0;  // 0: no HTTP answer came, see error
    std::vector<std::pair<std::string, std::string>> headers;  // of the final response, in order
    std::string body;                                           // at most Request::maxBodyBytes
    std::string error;                                          // why no answer came
    CURLcode code = CURLE_OK;                                   // libcurl's code for that

    // The first header of that name (case-insensitive).
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                    return (a >= 'A' && a <= 'Z' ? a + 32 : a) == (b >= 'A' && b <= 'Z' ? b + 32 : b);
                }))
                return v;
        return std::nullopt;
    }
    // Retry-After, parsed (see retry_after.hpp).
    std::optional<std::chrono::seconds> retryAfter(
        std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const {
        const auto value = header("Retry-After");
        return value ? parseRetryAfter(*value, now) : std::nullopt;
    }
};

class Client {
public:
    Client() { initCurlOnce(); }
    ~Client() {
        for (CURL* h : idle_) curl_easy_cleanup(h);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Never throws for what the network or server does (that is Response::error); throws
    // std::bad_alloc or std::runtime_error when libcurl cannot be set up.
    Response perform(const Request& request) {
        EasyHandle h = take();
        Response response;
        HeaderList headers;
        for (const auto& [name, value] : request.headers)
            addHeader(headers, value.empty() ? name + ":" : name + ": " + value);
        BodySink sink{&response.body, request.maxBodyBytes};
        char errorBuffer[CURL_ERROR_SIZE] = {0};
        CURL* c = h.get();
        curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // several threads: no SIGALRM for DNS timeouts
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connectTimeout.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
        if (!request.userAgent.empty()) curl_easy_setopt(c, CURLOPT_USERAGENT, request.userAgent.c_str());
        if (!request.username.empty()) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
            curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
        }
        if (!request.caFile.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.caFile.c_str());
        if (request.method == "POST" || !request.body.empty()) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        }
        if (request.method != "GET" && request.method != "POST")
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collectBody);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
        response.code = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);  // the buffer dies with this frame
        if (response.code != CURLE_OK) {
            response.error = describeCurlError(response.code, errorBuffer);
        } else {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
            // Request -1: the last one, so a 100 Continue's headers are not mixed in.
            for (curl_header* prev = nullptr; (prev = curl_easy_nextheader(c, CURLH_HEADER, -1, prev)) != nullptr;)
                response.headers.emplace_back(prev->name, prev->value);
        }
        give(std::move(h));
        return response;
    }

private:
    struct BodySink {
        std::string* body;
        size_t maxBytes;
    };
    static size_t collectBody(char* data, size_t size, size_t count, void* userdata) {
        auto* sink = static_cast<BodySink*>(userdata);
        const size_t n = size * count;
        // Keep reading past the cap (stopping would lose the status), but keep only the start.
        if (sink->body->size() < sink->maxBytes)
            sink->body->append(data, std::min(n, sink->maxBytes - sink->body->size()));
        return n;
    }

    // An idle handle keeps its connection alive for the next request to the same server.
    static constexpr size_t kMaxIdleHandles = 8;
    EasyHandle take() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!idle_.empty()) {
                EasyHandle h(idle_.back());
                idle_.pop_back();
                return h;
            }
        }
        return newEasyHandle();
    }
    void give(EasyHandle h) {
        curl_easy_reset(h.get());  // forgets the options (and the credentials), keeps the connection
        std::lock_guard<std::mutex> lock(mutex_);
        if (idle_.size() < kMaxIdleHandles) idle_.push_back(h.release());
    }

    std::mutex mutex_;
    std::vector<CURL*> idle_;
};

// A Retry-After as the milliseconds Result::retry takes (0 when there was none).
inline uint32_t retryMs(std::optional<std::chrono::seconds> after) {
    return after ? static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(*after).count()) : 0;
}

}  // namespace switchboard::http
