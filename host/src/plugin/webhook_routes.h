// The webhook routes a 1.4 plugin declares (sb_webhook_route): read and checked when the
// plugin loads, matched by the host before a request reaches the plugin, so a method or
// path the plugin does not serve is answered 405 or 404 without running plugin code.
#pragma once

#include <switchboard/plugin.h>

#include <string>
#include <vector>

namespace switchboard::host {

struct WebhookRoute {
    std::vector<std::string> methods;  // upper case
    std::string path;                  // "" or "/x"; for a prefix, without the trailing "*"
    bool prefix = false;               // declared as "/x/*": any path below /x/
    std::string description;

    std::string display() const;  // "POST|GET /status", "/media/*"
};

// Reads the descriptor's routes; returns what is wrong or "".
std::string readWebhookRoutes(const sb_webhook_route* routes, size_t count, std::vector<WebhookRoute>& out);

struct RouteDecision {
    enum Kind { Serve, NoSuchPath, MethodNotAllowed } kind = Serve;
    std::string allow;  // with MethodNotAllowed: the Allow header ("GET, POST")
};

// No declared routes: every request is served (plugins built before 1.4).
RouteDecision decideRoute(const std::vector<WebhookRoute>& routes, const std::string& method, const std::string& path);

}  // namespace switchboard::host
