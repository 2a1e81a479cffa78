// libcurl plumbing for connectors that speak HTTP, IMAP, SMTP... through libcurl easy handles:
// one-time global init, owned handles and header lists, error text, and URLs safe to log.
// Header-only: link Switchboard::http (find_package(SwitchboardSDK 1 REQUIRED COMPONENTS http)).
// For plain HTTP requests use <switchboard/http_client.hpp>, built on this.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>

namespace switchboard::http {

// curl_global_init is not thread-safe on every libcurl build and the host does not use libcurl:
// run it once per load of the plugin, before the first handle. Throws std::runtime_error when
// it fails. Never cleaned up: another library in the process may share libcurl.
inline void initCurlOnce() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK)
        throw std::runtime_error(std::string("libcurl initialization failed: ") + curl_easy_strerror(result));
}

struct EasyHandleDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyHandleDeleter>;
// A fresh easy handle (libcurl initialized first); throws std::runtime_error when libcurl
// cannot make one.
inline EasyHandle newEasyHandle() {
    initCurlOnce();
    EasyHandle h(curl_easy_init());
    if (!h) throw std::runtime_error("libcurl could not create a handle");
    return h;
}

struct HeaderListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;
// Appends "Name: value" (or "Name:" to suppress a header libcurl adds); throws std::bad_alloc.
inline void addHeader(HeaderList& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    (void)list.release();  // next now owns the old nodes
    list.reset(next);
}

// "<libcurl's reason>[ (<error buffer>)]". libcurl's texts name hosts, never passwords.
inline std::string describeCurlError(CURLcode code, const char* errorBuffer) {
    std::string out = curl_easy_strerror(code);
    if (errorBuffer != nullptr && errorBuffer[0] != '\0' && out != errorBuffer) out += std::string(" (") + errorBuffer + ")";
    return out;
}

// The parts of an absolute URL, as libcurl parses it (port only when the URL names one).
struct UrlParts {
    std::string scheme;
    std::string host;
    std::string port;
    std::string path;
    std::string query;
    bool hasCredentials = false;  // the URL names a user or password
};
// nullopt when url is not a valid absolute URL.
inline std::optional<UrlParts> parseUrl(const std::string& url) {
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
    return UrlParts{part(CURLUPART_SCHEME), part(CURLUPART_HOST),  part(CURLUPART_PORT),
                    part(CURLUPART_PATH),   part(CURLUPART_QUERY), !part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty()};
}
// "scheme://host[:port]/path": for logs and error messages. Drops user and password, query and
// fragment, which may hold credentials or tokens.
inline std::string redactedUrl(const UrlParts& p) {
    return p.scheme + "://" + p.host + (p.port.empty() ? "" : ":" + p.port) + p.path;
}

}  // namespace switchboard::http
