// application/x-www-form-urlencoded data as SMS gateways send it (Kannel's get-url and dlr-url
// queries, Twilio's webhook bodies) and as their HTTP APIs take it. Part of sbcommon.
#pragma once

#include <map>
#include <utility>
#include <vector>
#include <string>
#include <string_view>

namespace sbcommon::form {

// name → value, percent-decoded with '+' as a space (Kannel's get-url escaping: space → '+',
// '+' → %2B, other bytes %XX). Values are bytes: a UCS-2 text stays UTF-16BE. A repeated
// name keeps its first value; a malformed %-escape is kept literally.
std::map<std::string, std::string> parseQuery(std::string_view query);
// Every pair in order, repeats included (what a signature over all parameters needs).
std::vector<std::pair<std::string, std::string>> parseFormPairs(std::string_view form);

// The query without the pairs named name (a token must not be stored with the raw message).
std::string withoutParam(std::string_view query, std::string_view name);

// Percent-encodes every byte except unreserved characters (RFC 3986 §2.3).
std::string urlEncode(std::string_view bytes);

}  // namespace sbcommon::form
