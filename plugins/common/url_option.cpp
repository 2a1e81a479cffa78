#include "sbcommon/url_option.h"

#include <switchboard/curl.hpp>
#include <switchboard/plugin.hpp>

namespace sbcommon {

std::string checkedHttpUrl(const std::string& option, const std::string& url, Query query) {
    const auto u = switchboard::http::parseUrl(url);
    if (!u)
        throw switchboard::ConfigError("option '" + option + "': not a valid absolute URL (expected https://host/path)");
    if (u->scheme != "http" && u->scheme != "https")
        throw switchboard::ConfigError("option '" + option + "': scheme must be http or https, got '" + u->scheme + "'");
    if (u->host.empty()) throw switchboard::ConfigError("option '" + option + "': has no host");
    if (query == Query::Refused && !u->query.empty())
        throw switchboard::ConfigError("option '" + option + "': must not have a query string");
    return switchboard::http::redactedUrl(*u);
}

}  // namespace sbcommon
