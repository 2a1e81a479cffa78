#include "plugin/webhook_routes.h"

#include "plugin/option_schema.h"

#include <algorithm>

namespace switchboard::host {

namespace {

bool isMethod(const std::string& m) {
    return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool pathMatches(const WebhookRoute& route, const std::string& path) {
    if (!route.prefix) return path == route.path;
    return path.size() > route.path.size() && path.compare(0, route.path.size(), route.path) == 0;
}

}  // namespace

std::string WebhookRoute::display() const {
    std::string out;
    for (const auto& m : methods) out += (out.empty() ? "" : "|") + m;
    return out + " /webhooks/{instance}" + path + (prefix ? "*" : "");
}

std::string readWebhookRoutes(const sb_webhook_route* routes, size_t count, std::vector<WebhookRoute>& out) {
    if (count > 0 && routes == nullptr) return "webhook_route_count is " + std::to_string(count) + " but webhook_routes is NULL";
    if (count > 100) return "webhook_route_count " + std::to_string(count) + " is implausible";
    for (size_t i = 0; i < count; ++i) {
        const sb_webhook_route& r = *SB_ARRAY_AT(sb_webhook_route, routes, i);
        const std::string at = "webhook route #" + std::to_string(i);
        if (r.struct_size < sizeof(sb_webhook_route))
            return at + ": struct_size " + std::to_string(r.struct_size) + " is smaller than sb_webhook_route";
        WebhookRoute route;
        route.methods = splitOptionList(r.methods, '|');
        if (route.methods.empty()) return at + ": methods is empty; expected e.g. \"POST\" or \"GET|POST\"";
        for (const auto& m : route.methods)
            if (!isMethod(m)) return at + ": method '" + m + "' must be upper-case letters, e.g. POST";
        route.path = r.path ? r.path : "";
        if (route.path.size() >= 2 && route.path.compare(route.path.size() - 2, 2, "/*") == 0) {
            route.prefix = true;
            route.path.pop_back();  // keep the slash: "/media/" matches "/media/x" only
        }
        if (!route.path.empty() && route.path.front() != '/')
            return at + ": path '" + route.path + "' must be empty or start with '/'";
        if (route.path.find('*') != std::string::npos)
            return at + ": path '" + std::string(r.path) + "': '*' is allowed only as a final \"/*\"";
        route.description = r.description ? r.description : "";
        out.push_back(std::move(route));
    }
    return "";
}

RouteDecision decideRoute(const std::vector<WebhookRoute>& routes, const std::string& method, const std::string& path) {
    if (routes.empty()) return {};
    std::vector<std::string> allowed;
    for (const auto& route : routes) {
        if (!pathMatches(route, path)) continue;
        for (const auto& m : route.methods) {
            if (m == method) return {};
            if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) allowed.push_back(m);
        }
    }
    if (allowed.empty()) return {RouteDecision::NoSuchPath, {}};
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    return {RouteDecision::MethodNotAllowed, allow};
}

}  // namespace switchboard::host
