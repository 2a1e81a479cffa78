#include "http/webhook_handler.h"

#include "log/log.h"

#include <array>

namespace switchboard::host::http {

namespace {

bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isSafeHeader(const std::string& name, const std::string& value) {
    if (name.empty()) return false;
    for (char c : name)
        if (!isTokenChar(c)) return false;
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

constexpr std::array kServerOwned = {"content-length", "transfer-encoding", "connection", "keep-alive",
                                     "upgrade",        "date",              "te",         "trailer"};

}  // namespace

HeaderList safeResponseHeaders(const HeaderList& headers) {
    HeaderList out;
    for (const auto& [name, value] : headers) {
        std::string lower = toLower(name);
        bool owned = false;
        for (const char* o : kServerOwned) owned = owned || lower == o;
        if (owned) continue;
        if (!isSafeHeader(name, value)) {
            logWarn("dropped an unsafe header from a webhook response", {{"header", name}});
            continue;
        }
        out.emplace_back(name, value);
    }
    return out;
}

WebhookHandler::WebhookHandler(HostControl& control, std::string baseUrl)
    : control_(control), baseUrl_(std::move(baseUrl)) {}

Reply WebhookHandler::handle(const RequestContext& request, const RouteMatch& route) const {
    auto name = decodeInstanceName(route.name);
    if (!name) return errorReply(404, "invalid connector instance name: expected [a-z0-9][a-z0-9_-]*");

    WebhookRequest in;
    in.method = request.method;
    in.path = route.rest;
    in.query = request.query;
    in.headers = request.headers;
    in.body = request.body;
    in.remoteAddr = request.remoteAddr;
    in.publicUrl = baseUrl_ + request.target;

    WebhookResponse out;
    switch (control_.dispatchWebhook(*name, in, out)) {
        case WebhookOutcome::Handled: break;
        case WebhookOutcome::NotFound:
            return errorReply(404, out.body.empty() ? "no connector instance named '" + *name + "'" : out.body);
        case WebhookOutcome::Unavailable: {
            Reply r = errorReply(503, out.body.empty() ? "connector instance '" + *name + "' is not running" : out.body);
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
    }
    if (out.status < 200 || out.status > 599) {
        // A 1xx would break the framing of this exchange: the plugin is at fault.
        throw std::runtime_error("connector instance '" + *name + "' answered a webhook with status " +
                                 std::to_string(out.status));
    }
    Reply r;
    r.status = out.status;
    r.headers = safeResponseHeaders(out.headers);
    r.body = std::move(out.body);
    if (r.status == 503) {
        // A 503 tells the sender to come back: say when, so providers retry instead of giving up.
        bool hasRetryAfter = false;
        for (const auto& [name, value] : r.headers) hasRetryAfter = hasRetryAfter || toLower(name) == "retry-after";
        if (!hasRetryAfter) r.headers.emplace_back("Retry-After", "1");
    }
    return r;
}

}  // namespace switchboard::host::http
