#include "http/request_reader.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <Poco/Exception.h>

#include <istream>

namespace switchboard::host::http {

void splitTarget(const std::string& uri, RequestContext& out) {
    std::string target = uri;
    if (target.empty() || target[0] != '/') {
        auto scheme = target.find("://");
        std::string lower = toLower(target.substr(0, scheme == std::string::npos ? 0 : scheme));
        if (scheme == std::string::npos || (lower != "http" && lower != "https"))
            throw HttpError(400, "invalid request target", true);
        auto slash = target.find('/', scheme + 3);
        auto question = target.find('?', scheme + 3);
        if (slash == std::string::npos || (question != std::string::npos && question < slash))
            target = "/" + (question == std::string::npos ? "" : target.substr(question));
        else
            target = target.substr(slash);
    }
    auto hash = target.find('#');  // clients should not send one; never part of routing
    if (hash != std::string::npos) target.resize(hash);
    auto question = target.find('?');
    out.target = target;
    out.path = target.substr(0, question);
    out.query = question == std::string::npos ? "" : target.substr(question + 1);
}

RequestContext readHead(const Poco::Net::HTTPServerRequest& request) {
    RequestContext ctx;
    ctx.method = request.getMethod();
    splitTarget(request.getURI(), ctx);
    for (const auto& [name, value] : request) ctx.headers.emplace_back(toLower(name), value);
    ctx.remoteAddr = request.clientAddress().host().toString();
    return ctx;
}

std::string readBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                     size_t maxBytes) {
    const std::string tooLarge = "request body larger than " + std::to_string(maxBytes) + " bytes";
    bool chunked = request.getChunkedTransferEncoding();
    // Without Content-Length or chunked encoding a request has no body (RFC 9112 6.3).
    if (!chunked && !request.hasContentLength()) return {};
    Poco::Int64 length = -1;
    if (!chunked) {
        length = request.getContentLength64();  // POCO already rejected non-numbers
        if (length < 0) throw HttpError(400, "Content-Length must not be negative", true);
        if (static_cast<Poco::UInt64>(length) > maxBytes) throw HttpError(413, tooLarge, true);
    }
    if (request.getExpectContinue()) response.sendContinue();

    std::string body;
    if (length > 0) body.reserve(static_cast<size_t>(length));
    std::istream& in = request.stream();
    char buf[16384];
    try {
        while (in) {
            in.read(buf, sizeof buf);
            body.append(buf, static_cast<size_t>(in.gcount()));
            if (body.size() > maxBytes) throw HttpError(413, tooLarge, true);
        }
    } catch (const Poco::Exception&) {
        in.setstate(std::ios::badbit);  // bad chunk framing or a timeout
    }
    if (in.bad()) throw HttpError(400, "could not read the request body", true);
    if (length >= 0 && body.size() != static_cast<size_t>(length))
        throw HttpError(400, "request body shorter than its Content-Length", true);
    return body;
}

}  // namespace switchboard::host::http
