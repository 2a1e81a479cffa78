// The parameters of a Vonage SMS API webhook, however they came. Vonage calls the inbound
// and delivery-receipt URLs with GET (a query string) or POST, as the dashboard's "HTTP
// Method" says; POST is form-encoded or, with "POST-JSON", a JSON object
// (https://developer.vonage.com/en/messaging/sms/guides/inbound-sms).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vonage {

using Params = std::map<std::string, std::string>;

struct ParsedParams {
    Params params;
    std::string error;  // non-empty: the request could not be read (the reason, for a 400)
    std::string contentType;  // what the raw payload is: "application/json" or form
};

// GET: the query. POST: the body as JSON when the content type says so or the body starts
// with '{', else as a form; a POST without a body falls back to the query. JSON scalars
// become their text (numbers as written, true/false); nested values are refused. A repeated
// form name keeps its first value.
ParsedParams readParams(std::string_view method, std::string_view contentType, std::string_view query,
                        std::string_view body);

// params[name] or "" when absent.
std::string param(const Params& params, const std::string& name);

}  // namespace vonage
