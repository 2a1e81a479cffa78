// server: where the HTTP API and webhooks listen, and how they are protected.
#include "config/parse_context.h"
#include "config/value_parsing.h"

#include <cstdint>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kServerKeys = {"listen", "api_token", "public_url", "max_body_bytes",
                                              "threads"};

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

void parseServer(ParseContext& ctx, const MapEntry& section, ServerConfig& server) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, kServerKeys)) {
        auto value = ctx.scalar(entry);
        if (!value) continue;
        bool hidden = value->fromReference;
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
            auto bytes = parseByteSize(value->text);
            if (!bytes || *bytes > SIZE_MAX) {
                ctx.error(value->where, entry.path,
                          "expects a positive byte count such as 1048576, 512KiB or 1MiB, got " +
                              showValue(value->text, hidden));
            } else {
                server.maxBodyBytes = static_cast<size_t>(*bytes);
            }
        } else if (entry.key == "threads") {
            auto threads = parseInt64(value->text);
            if (!threads || *threads < 1 || *threads > 256) {
                ctx.error(value->where, entry.path,
                          "expects a whole number from 1 to 256, got " + showValue(value->text, hidden));
            } else {
                server.threads = static_cast<unsigned>(*threads);
            }
        }
    }
}

}  // namespace switchboard::host::config
