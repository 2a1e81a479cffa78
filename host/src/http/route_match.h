// Maps a raw request path to a route. The route's label is a template
// ("/webhooks/{instance}") so metrics never get one series per URL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host::http {

enum class RouteKind {
    Healthz, Readyz, Metrics, Webhook, ApiList, ApiOne, ApiAction, ApiCustomers, ApiMatchDecisions, ApiMatchPreview,
    ApiOutbound,  // /api/v1/messages, /api/v1/outbox, /api/v1/deadletters[/{id}[/{action}]]
    ApiUnknown,
    Unknown
};

struct RouteMatch {
    RouteKind kind = RouteKind::Unknown;
    std::string label = "other";
    std::string name;    // webhook instance or API connector name, still percent-encoded
    std::string action;  // API action segment, still percent-encoded
    std::string rest;    // webhook: path after the instance, "" or "/..."
};

RouteMatch matchRoute(std::string_view path);

bool isApiRoute(RouteKind kind);

// An instance name as the config allows it: [a-z0-9][a-z0-9_-]*.
bool isValidInstanceName(std::string_view name);

// Percent-decodes a name segment; nullopt when the escape or the decoded name is invalid.
std::optional<std::string> decodeInstanceName(std::string_view raw);

}  // namespace switchboard::host::http
