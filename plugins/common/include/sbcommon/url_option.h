// An http(s) URL option checked once, in create(), with one wording for every bundled
// connector. The error never repeats the URL: it may hold a password or a token.
#pragma once

#include <string>

namespace sbcommon {

enum class Query { Allowed, Refused };

// Throws switchboard::ConfigError naming the option when url is not an absolute http:// or
// https:// URL with a host (or has a query string where that is refused). Returns the URL
// safe to log: scheme://host[:port]/path, no credentials, query or fragment.
std::string checkedHttpUrl(const std::string& option, const std::string& url, Query query = Query::Allowed);

}  // namespace sbcommon
