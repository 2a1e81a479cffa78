// A request to a provider's API as every bundled connector sends it: one timeout for the
// whole exchange (connecting included), its own User-Agent, and a cap on the answer kept.
#pragma once

#include <switchboard/http_client.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

namespace sbcommon {

inline switchboard::http::Request providerRequest(std::string method, std::string url, std::string body,
                                                  std::chrono::milliseconds timeout, std::string userAgent,
                                                  size_t maxAnswerBytes) {
    switchboard::http::Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);  // a POST body is form-encoded unless a Content-Type header says otherwise
    r.connectTimeout = r.timeout = timeout;
    r.userAgent = std::move(userAgent);
    r.maxBodyBytes = maxAnswerBytes;
    return r;
}

}  // namespace sbcommon
