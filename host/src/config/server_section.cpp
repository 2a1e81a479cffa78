// server: where the HTTP API and webhooks listen, and how they are protected.
#include "config/parse_context.h"
#include "config/value_parsing.h"

#include <cstdint>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kServerKeys = {"listen",
                                              "api_token",
                                              "public_url",
                                              "max_body_bytes",
                                              "threads",
                                              "io_threads",
                                              "max_connections",
                                              "max_connections_per_client",
                                              "header_timeout",
                                              "keepalive_timeout",
                                              "body_timeout",
                                              "min_body_rate",
                                              "max_header_bytes",
                                              "max_buffered_body_bytes",
                                              "trusted_proxies",
                                              "webhook_concurrency",
                                              "webhook_queue",
                                              "webhook_timeout"};

constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;  // a day: longer is a mistake, not a setting

void parseListen(ParseContext& ctx, const ScalarValue& value, const std::string& path, ServerConfig& server) {
    const std::string& text = value.text;
    auto fail = [&](const std::string& why) {
        ctx.error(value.where, path, "expects HOST:PORT such as 127.0.0.1:8080, got " +
                                         showValue(text, value.fromReference) + ": " + why);
    };
    std::string host;
    std::string portText;
    if (text.starts_with('[')) {  // [::1]:8080
        size_t close = text.find("]:");
        if (close == std::string::npos) return fail("an IPv6 address in brackets must be followed by :PORT");
        host = text.substr(1, close - 1);
        portText = text.substr(close + 2);
    } else {
        size_t colon = text.rfind(':');
        if (colon == std::string::npos) return fail("the port is missing");
        host = text.substr(0, colon);
        portText = text.substr(colon + 1);
        if (host.find(':') != std::string::npos) {
            return fail("write an IPv6 address in brackets, e.g. [::1]:8080");
        }
    }
    if (host.empty()) return fail("the host is missing (0.0.0.0 listens on every interface)");
    auto port = parseInt64(portText);
    if (!port || *port < 0 || *port > 65535) {
        return fail("the port must be a number from 0 to 65535 (0 picks a free one)");
    }
    server.host = host;
    server.port = static_cast<uint16_t>(*port);
}

void parsePublicUrl(ParseContext& ctx, const ScalarValue& value, const std::string& path,
                    ServerConfig& server) {
    std::string url = value.text;
    bool http = url.starts_with("http://");
    bool https = url.starts_with("https://");
    if ((!http && !https) || url.size() == (https ? 8u : 7u)) {
        ctx.error(value.where, path, "expects a URL starting with http:// or https://, got " +
                                         showValue(url, value.fromReference));
        return;
    }
    // Webhook signatures are computed over public_url + path: a trailing '/' would double it.
    while (url.ends_with('/')) url.pop_back();
    server.publicUrl = url;
}

}  // namespace

std::optional<int64_t> parseWholeNumber(ParseContext& ctx, const ScalarValue& value, const std::string& path,
                                        int64_t min, int64_t max) {
    auto n = parseInt64(value.text);
    if (n && *n >= min && *n <= max) return n;
    ctx.error(value.where, path,
              "expects a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                  showValue(value.text, value.fromReference));
    return std::nullopt;
}

std::optional<int64_t> parseTimeoutMs(ParseContext& ctx, const ScalarValue& value, const std::string& path) {
    DurationError why = DurationError::None;
    auto ms = parseDurationMs(value.text, &why);
    if (ms && *ms > 0 && *ms <= kMaxTimeoutMs) return ms;
    ctx.error(value.where, path,
              std::string(why == DurationError::MissingUnit
                              ? "expects a duration, and a plain number has no unit: add ms, s, m or h (e.g. 10s)"
                              : "expects a positive duration of at most 24h: a whole number with a unit ms, s, "
                                "m or h (e.g. 500ms, 10s)") +
                  ", got " + showValue(value.text, value.fromReference));
    return std::nullopt;
}

std::optional<uint64_t> parseBytes(ParseContext& ctx, const ScalarValue& value, const std::string& path,
                                   uint64_t min) {
    auto bytes = parseByteSize(value.text);
    if (bytes && *bytes >= min && *bytes <= SIZE_MAX) return bytes;
    ctx.error(value.where, path,
              "expects a byte count of at least " + std::to_string(min) +
                  " such as 1048576, 512KiB or 1MiB, got " + showValue(value.text, value.fromReference));
    return std::nullopt;
}

namespace {

void parseTrustedProxies(ParseContext& ctx, const MapEntry& entry, ServerConfig& server) {
    for (const auto& [node, path] : ctx.listItems(entry)) {
        auto value = ctx.scalar(node, ctx.locate(node), path, "an IP address or CIDR block");
        if (!value) continue;
        std::string why;
        auto range = parseAddressRange(value->text, &why);
        if (!range) {
            ctx.error(value->where, path,
                      "expects an IP address or CIDR block such as 10.0.0.0/8 or ::1, got " +
                          showValue(value->text, value->fromReference) + ": " + why);
            continue;
        }
        server.trustedProxies.push_back(*range);
    }
}

}  // namespace

void parseServer(ParseContext& ctx, const MapEntry& section, ServerConfig& server) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, kServerKeys)) {
        if (entry.key == "trusted_proxies") {
            parseTrustedProxies(ctx, entry, server);
            continue;
        }
        auto value = ctx.scalar(entry);
        if (!value) continue;
        if (entry.key == "listen") {
            parseListen(ctx, *value, entry.path, server);
        } else if (entry.key == "api_token") {
            // A secret: no message here ever quotes it.
            if (value->text.empty()) {
                ctx.error(value->where, entry.path, "is empty (the API would accept no token)");
            } else {
                server.apiToken = value->text;
            }
        } else if (entry.key == "public_url") {
            parsePublicUrl(ctx, *value, entry.path, server);
        } else if (entry.key == "max_body_bytes") {
            if (auto b = parseBytes(ctx, *value, entry.path, 1)) server.maxBodyBytes = static_cast<size_t>(*b);
        } else if (entry.key == "threads") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 1, 256)) server.threads = static_cast<unsigned>(*n);
        } else if (entry.key == "io_threads") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 1, 64)) server.ioThreads = static_cast<unsigned>(*n);
        } else if (entry.key == "max_connections") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 1, 1000000))
                server.maxConnections = static_cast<size_t>(*n);
        } else if (entry.key == "max_connections_per_client") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 0, 1000000))
                server.maxConnectionsPerClient = static_cast<size_t>(*n);
        } else if (entry.key == "header_timeout") {
            if (auto ms = parseTimeoutMs(ctx, *value, entry.path)) server.headerTimeoutMs = *ms;
        } else if (entry.key == "keepalive_timeout") {
            if (auto ms = parseTimeoutMs(ctx, *value, entry.path)) server.keepAliveTimeoutMs = *ms;
        } else if (entry.key == "body_timeout") {
            if (auto ms = parseTimeoutMs(ctx, *value, entry.path)) server.bodyTimeoutMs = *ms;
        } else if (entry.key == "min_body_rate") {
            if (auto b = parseBytes(ctx, *value, entry.path, 1)) server.minBodyRate = *b;
        } else if (entry.key == "max_header_bytes") {
            // Below 1 KiB ordinary clients (cookies, signatures) would be refused.
            if (auto b = parseBytes(ctx, *value, entry.path, 1024)) server.maxHeaderBytes = static_cast<size_t>(*b);
        } else if (entry.key == "max_buffered_body_bytes") {
            if (auto b = parseBytes(ctx, *value, entry.path, 1)) server.maxBufferedBodyBytes = *b;
        } else if (entry.key == "webhook_concurrency") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 1, 1024))
                server.webhooks.concurrency = static_cast<unsigned>(*n);
        } else if (entry.key == "webhook_queue") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 0, 100000))
                server.webhooks.queue = static_cast<unsigned>(*n);
        } else if (entry.key == "webhook_timeout") {
            if (auto ms = parseTimeoutMs(ctx, *value, entry.path)) server.webhooks.timeoutMs = *ms;
        }
    }
}

}  // namespace switchboard::host::config
