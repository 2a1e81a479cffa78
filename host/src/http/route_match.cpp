#include "http/route_match.h"

#include "http/http_types.h"

#include <vector>

namespace switchboard::host::http {

namespace {

std::vector<std::string_view> splitSegments(std::string_view s) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        size_t slash = s.find('/', start);
        out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) return out;
        start = slash + 1;
    }
}

RouteMatch matchApi(std::string_view afterApi) {
    RouteMatch m;
    m.kind = RouteKind::ApiUnknown;
    auto seg = splitSegments(afterApi);
    if (seg.size() < 2 || seg[0] != "v1") return m;
    for (auto s : seg)
        if (s.empty()) return m;  // "//" or a trailing slash is not a route
    if (seg[1] == "match-decisions" && seg.size() == 2) {
        m.kind = RouteKind::ApiMatchDecisions;
        m.label = "/api/v1/match-decisions";
        return m;
    }
    if (seg[1] == "match-preview" && seg.size() == 2) {
        m.kind = RouteKind::ApiMatchPreview;
        m.label = "/api/v1/match-preview";
        return m;
    }
    if ((seg[1] == "messages" || seg[1] == "outbox") && seg.size() == 2) {
        m.kind = RouteKind::ApiOutbound;
        m.label = "/api/v1/" + std::string(seg[1]);
        return m;
    }
    if (seg[1] == "deadletters" && seg.size() <= 4) {
        m.kind = RouteKind::ApiOutbound;
        m.label = seg.size() == 2 ? "/api/v1/deadletters"
                  : seg.size() == 3 ? "/api/v1/deadletters/{id}"
                                    : "/api/v1/deadletters/{id}/{action}";
        if (seg.size() >= 3) m.name = seg[2];
        if (seg.size() == 4) m.action = seg[3];
        return m;
    }
    if (seg[1] == "customers" && seg.size() <= 4) {
        m.kind = RouteKind::ApiCustomers;
        m.label = seg.size() == 2 ? "/api/v1/customers"
                  : seg.size() == 3 ? "/api/v1/customers/{id}"
                                    : "/api/v1/customers/{id}/{action}";
        if (seg.size() >= 3) m.name = seg[2];
        if (seg.size() == 4) m.action = seg[3];
        return m;
    }
    if (seg[1] != "connectors") return m;
    if (seg.size() == 2) {
        m.kind = RouteKind::ApiList;
        m.label = "/api/v1/connectors";
    } else if (seg.size() == 3) {
        m.kind = RouteKind::ApiOne;
        m.label = "/api/v1/connectors/{name}";
        m.name = seg[2];
    } else if (seg.size() == 4) {
        m.kind = RouteKind::ApiAction;
        m.label = "/api/v1/connectors/{name}/{action}";
        m.name = seg[2];
        m.action = seg[3];
    }
    return m;
}

}  // namespace

RouteMatch matchRoute(std::string_view path) {
    RouteMatch m;
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
        m.kind = path == "/healthz" ? RouteKind::Healthz : path == "/readyz" ? RouteKind::Readyz : RouteKind::Metrics;
        m.label = std::string(path);
        return m;
    }
    constexpr std::string_view webhooks = "/webhooks/";
    if (path.substr(0, webhooks.size()) == webhooks) {
        std::string_view rest = path.substr(webhooks.size());
        size_t slash = rest.find('/');
        m.kind = RouteKind::Webhook;
        m.label = "/webhooks/{instance}";
        m.name = std::string(rest.substr(0, slash));
        if (slash != std::string_view::npos) m.rest = std::string(rest.substr(slash));
        return m;
    }
    if (path == "/api") {
        m.kind = RouteKind::ApiUnknown;
        return m;
    }
    if (path.substr(0, 5) == "/api/") return matchApi(path.substr(5));
    return m;
}

bool isApiRoute(RouteKind kind) {
    return kind == RouteKind::ApiList || kind == RouteKind::ApiOne || kind == RouteKind::ApiAction ||
           kind == RouteKind::ApiCustomers || kind == RouteKind::ApiMatchDecisions ||
           kind == RouteKind::ApiMatchPreview || kind == RouteKind::ApiOutbound ||
           kind == RouteKind::ApiUnknown;
}

bool isValidInstanceName(std::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok) return false;
    }
    return true;
}

std::optional<std::string> decodeInstanceName(std::string_view raw) {
    auto decoded = percentDecode(raw);
    if (!decoded || !isValidInstanceName(*decoded)) return std::nullopt;
    return decoded;
}

}  // namespace switchboard::host::http
