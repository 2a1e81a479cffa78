// libcurl plumbing shared by the bundled connectors, so each one does not carry its own copy:
// one-time global init, owned easy handles and header lists, a capped body collector,
// Retry-After parsing, error text from a CURLcode, and URLs safe to log (scheme, host, port and
// path only: never credentials or the query, which may hold passwords or tokens).
//
// Used by webchat (replies), kannel (sendsms) and twilio (Messages API). Nothing here is
// HTTP-only except perform()/setHttpBasics(): IMAP/SMTP code on libcurl easy handles can use
// the rest. Linked statically into plugins (target switchboard_plugin_http); not part of the
// installed SDK and never linked by the host.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::plugin_http {

// curl_global_init is not thread-safe on every libcurl build and the host does not use libcurl:
// run it once per load of the plugin, before the first handle. Throws std::runtime_error when
// it fails. Never cleaned up: another library in the process may share libcurl.
void initCurlOnce();

struct EasyHandleDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyHandleDeleter>;
// A fresh easy handle; throws std::runtime_error when libcurl cannot make one.
EasyHandle newEasyHandle();

struct HeaderListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;
// Appends "Name: value" (or "Name:" to suppress a default header); throws std::bad_alloc.
void addHeader(HeaderList& list, const std::string& line);

// The parts of an absolute URL, as libcurl parses it (port only when the URL names one).
struct UrlParts {
    std::string scheme;
    std::string host;
    std::string port;
    std::string path;
    std::string query;
};
// nullopt when url is not a valid absolute URL.
std::optional<UrlParts> parseUrl(const std::string& url);
// "scheme://host[:port]/path": for logs and error messages; drops credentials, query, fragment.
std::string redactedUrl(const UrlParts& parts);

// A server's Retry-After is honoured up to a day; beyond that it is a bug or hostile.
inline constexpr uint32_t kMaxRetryAfterMs = 24u * 3600u * 1000u;
// "120" (seconds) or an HTTP date, in milliseconds from now, capped at kMaxRetryAfterMs;
// nullopt when absent or unparsable. A date in the past is 0.
std::optional<uint32_t> parseRetryAfter(std::string_view value);
// The Retry-After header of the last response on h, parsed as above.
std::optional<uint32_t> retryAfterOf(CURL* h);

// "<libcurl's reason>[ (<error buffer>)]". libcurl's texts name hosts, never passwords.
std::string describeCurlError(CURLcode code, const char* errorBuffer);

// What a server answered (status 0: no HTTP answer, see transportError).
struct HttpAnswer {
    long status = 0;
    std::string body;                      // at most the cap given to perform()
    std::optional<uint32_t> retryAfterMs;  // from Retry-After (seconds or HTTP date)
    std::string transportError;            // why no answer came (refused, timeout, TLS)
};

// The options every bundled HTTP request sets: the URL, http/https only, no signals (several
// threads: no SIGALRM-based DNS timeouts), a total timeout and the User-Agent. The strings must
// outlive the request.
void setHttpBasics(CURL* h, const std::string& url, std::chrono::milliseconds timeout, const char* userAgent);

// Performs the request set up on h and collects the answer: at most maxBodyBytes of the body
// (the rest is read and dropped, so the status survives), the status and Retry-After. When no
// answer came, transportError says why and *code (if given) keeps the CURLcode for callers that
// word some failures themselves.
HttpAnswer perform(CURL* h, size_t maxBodyBytes, CURLcode* code = nullptr);

}  // namespace switchboard::plugin_http
