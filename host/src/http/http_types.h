// Plain-data request and reply passed between the connection loop and the route handlers,
// so handlers never touch POCO and stay easy to test and to reason about.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::host::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RequestContext {
    std::string method;
    std::string target;  // request target as sent, origin-form: path + "?" + query
    std::string path;    // raw path, percent-encoding kept
    std::string query;   // without "?"
    HeaderList headers;  // names lower-case, in arrival order
    std::string body;
    std::string remoteAddr;  // client IP

    // First value of a header; name must be lower-case.
    std::optional<std::string> header(std::string_view name) const;
};

struct Reply {
    int status = 200;
    std::string contentType;  // empty: no Content-Type header
    HeaderList headers;
    std::string body;
    bool close = false;  // close the connection afterwards (request body left unread)
};

Reply jsonReply(int status, const nlohmann::json& body);
// {"error": reason} with the given status.
Reply errorReply(int status, std::string_view reason);

// Thrown while reading or routing a request to answer with an error instead of 500.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, const std::string& reason, bool close = false)
        : std::runtime_error(reason), status_(status), close_(close) {}
    int status() const { return status_; }
    bool close() const { return close_; }

private:
    int status_;
    bool close_;
};

// Decodes %XX escapes; nullopt on a malformed escape. '+' stays '+' (paths, not forms).
std::optional<std::string> percentDecode(std::string_view in);

std::string toLower(std::string_view in);

}  // namespace switchboard::host::http
