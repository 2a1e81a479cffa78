#include "http/http_types.h"

#include <nlohmann/json.hpp>

namespace switchboard::host::http {

std::optional<std::string> RequestContext::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return std::nullopt;
}

Reply jsonReply(int status, const nlohmann::json& body) {
    Reply r;
    r.status = status;
    r.contentType = "application/json";
    // Replace invalid UTF-8 (e.g. from a decoded URL) instead of throwing.
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

Reply errorReply(int status, std::string_view reason) {
    return jsonReply(status, nlohmann::json{{"error", std::string(reason)}});
}

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        int hi = hexValue(in[i + 1]);
        int lo = hexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string toLower(std::string_view in) {
    std::string out(in);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace switchboard::host::http
