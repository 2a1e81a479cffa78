#include "vonage_params.h"

#include <sbcommon/form.h>

#include <nlohmann/json.hpp>

namespace vonage {

namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

bool looksLikeJson(std::string_view contentType, std::string_view body) {
    if (contentType.find("json") != std::string_view::npos) return true;
    const size_t first = body.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && body[first] == '{';
}

ParsedParams fromJson(std::string_view body) {
    ParsedParams out;
    out.contentType = "application/json";
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object()) {
        out.error = "the body is not a JSON object";
        return out;
    }
    for (auto it = json.begin(); it != json.end(); ++it) {
        const auto& v = it.value();
        if (v.is_string()) out.params[it.key()] = v.get<std::string>();
        else if (v.is_number() || v.is_boolean()) out.params[it.key()] = v.dump();
        else if (v.is_null()) out.params[it.key()] = "";
        else {
            out.error = "field '" + it.key() + "' is not a string, number or boolean";
            return out;
        }
    }
    return out;
}

}  // namespace

ParsedParams readParams(std::string_view method, std::string_view contentType, std::string_view query,
                        std::string_view body) {
    ParsedParams out;
    if (method == "POST" && !body.empty()) {
        if (looksLikeJson(contentType, body)) return fromJson(body);
        out.contentType = kForm;
        for (auto& [k, v] : sbcommon::form::parseFormPairs(body)) out.params.emplace(std::move(k), std::move(v));
        return out;
    }
    if (method != "GET" && method != "POST") {
        out.error = "Vonage webhooks are GET or POST";
        return out;
    }
    out.contentType = kForm;
    for (auto& [k, v] : sbcommon::form::parseFormPairs(query)) out.params.emplace(std::move(k), std::move(v));
    return out;
}

std::string param(const Params& params, const std::string& name) {
    const auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

}  // namespace vonage
