// Turns a POCO request into a RequestContext: splits the target, lower-cases header names
// and reads the body within the size limit.
#pragma once

#include "http/http_types.h"

#include <cstddef>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace switchboard::host::http {

// Splits the request target into target (origin-form), path and query. An absolute-form
// target (sent to proxies) keeps its path and query. Throws HttpError(400) otherwise.
void splitTarget(const std::string& uri, RequestContext& out);

// Everything but the body.
RequestContext readHead(const Poco::Net::HTTPServerRequest& request);

// Reads the body: 413 when Content-Length is over maxBytes (nothing read), or when a
// chunked body grows over it (reading stops there). Sends 100 Continue when asked and the
// size is acceptable. Throws HttpError; every throw leaves unread data behind (close).
std::string readBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                     size_t maxBytes);

}  // namespace switchboard::host::http
