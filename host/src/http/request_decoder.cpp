#include "http/request_decoder.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace switchboard::host::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view trimOws(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

bool allDigits(std::string_view v) {
    if (v.empty()) return false;
    for (char c : v)
        if (c < '0' || c > '9') return false;
    return true;
}

// The request target split into target (origin-form), path and query. An absolute-form
// target (sent to proxies) keeps its path and query. False when it is neither.
bool splitTarget(std::string_view uri, RequestContext& out) {
    std::string target(uri);
    if (target.empty() || target[0] != '/') {
        auto scheme = target.find("://");
        std::string lower = toLower(target.substr(0, scheme == std::string::npos ? 0 : scheme));
        if (scheme == std::string::npos || (lower != "http" && lower != "https")) return false;
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
    return true;
}

}  // namespace

void GrowingBody::reader::init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
    // A declared length (already within max_body_bytes, and counted whole against
    // max_buffered_body_bytes by the connection) in one allocation: no copies as it grows.
    // A chunked body grows with what arrives.
    if (length) body_.reserve(static_cast<size_t>(*length));
    ec = {};
}

RequestDecoder::RequestDecoder(Limits limits) : limits_(limits) {
    parser_.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits.maxHeaderBytes, UINT32_MAX)));
    parser_.body_limit(limits.maxBodyBytes);
    // Not eager until the head is done: the first put() then stops right after the head,
    // so checkHead() sees exactly the head's bytes.
    parser_.eager(false);
}

void RequestDecoder::fail(int status, std::string reason) {
    phase_ = Phase::Failed;
    refusal_ = Refusal{status, std::move(reason)};
}

void RequestDecoder::failParse(const boost::system::error_code& ec) {
    using E = bhttp::error;
    const std::string m = "malformed request: ";
    if (ec == E::header_limit)
        return fail(431, "request head larger than " + std::to_string(limits_.maxHeaderBytes) + " bytes");
    if (ec == E::body_limit)
        return fail(413, "request body larger than " + std::to_string(limits_.maxBodyBytes) + " bytes");
    if (ec == E::bad_version)
        return fail(400, m + "unsupported HTTP version (this server speaks HTTP/1.1 and HTTP/1.0)");
    if (ec == E::bad_content_length) return fail(400, m + "invalid, conflicting or repeated Content-Length");
    if (ec == E::bad_transfer_encoding)
        return fail(400, m + "Transfer-Encoding repeated or sent together with Content-Length");
    if (ec == E::bad_chunk || ec == E::bad_chunk_extension) return fail(400, m + "bad chunk framing");
    if (ec == E::bad_line_ending) return fail(400, m + "lines must end with CRLF");
    if (ec == E::bad_method) return fail(400, m + "invalid method");
    if (ec == E::bad_target) return fail(400, m + "invalid request target");
    if (ec == E::bad_field) return fail(400, m + "invalid header field (a name with no colon, or a bad character)");
    if (ec == E::bad_value) return fail(400, m + "invalid character in a header value");
    return fail(400, m + ec.message());
}

bool RequestDecoder::checkHeadBytes(const char* head, size_t size, bool complete) {
    const std::string m = "malformed request: ";
    // Beast folds obs-fold lines and tolerates a few bytes RFC 9112 says to refuse; a proxy
    // in front may read them differently, so refuse them outright (RFC 9112 2.2, 5.2).
    // Checked on a partial head too: a head that ends in bare LFs would otherwise wait
    // for its CRLFCRLF until header_timeout.
    for (size_t i = 0; i < size; ++i) {
        unsigned char c = static_cast<unsigned char>(head[i]);
        if (c == '\r') {
            if (i + 1 >= size) return complete ? (fail(400, m + "bare CR"), false) : true;
            if (head[i + 1] != '\n') return fail(400, m + "bare CR"), false;
            ++i;
            if (i + 1 < size && (head[i + 1] == ' ' || head[i + 1] == '\t'))
                return fail(400, m + "obsolete line folding (a header line starting with whitespace)"), false;
            continue;
        }
        if (c == '\n') return fail(400, m + "bare LF"), false;
        if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(400, m + "control character in the request head"), false;
    }
    return true;
}

bool RequestDecoder::checkHead(const char* head, size_t size) {
    const std::string m = "malformed request: ";
    if (!checkHeadBytes(head, size, true)) return false;

    const auto& msg = parser_.get();
    int hosts = 0;
    int transferEncodings = 0;
    bool contentLength = false;
    for (const auto& field : msg) {
        std::string name = toLower(std::string_view(field.name_string().data(), field.name_string().size()));
        std::string_view value(field.value().data(), field.value().size());
        if (name == "host") ++hosts;
        if (name == "transfer-encoding") {
            ++transferEncodings;
            // Only chunked is implemented; "gzip, chunked" or "identity" would be read
            // differently by different parties (RFC 9112 6.1).
            if (toLower(trimOws(value)) != "chunked")
                return fail(400, m + "Transfer-Encoding '" + std::string(trimOws(value)) +
                                     "' is not supported (only 'chunked')"),
                       false;
        }
        if (name == "content-length") {
            contentLength = true;
            if (!allDigits(trimOws(value))) return fail(400, m + "Content-Length must be digits only"), false;
        }
        head_.headers.emplace_back(std::move(name), std::string(value));
    }
    if (transferEncodings > 1) return fail(400, m + "more than one Transfer-Encoding field"), false;
    if (transferEncodings > 0 && contentLength)
        return fail(400, m + "both Transfer-Encoding and Content-Length"), false;
    if (msg.version() == 11 && hosts != 1)
        return fail(400, m + (hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")),
               false;

    head_.method = std::string(msg.method_string());
    if (!splitTarget(std::string_view(msg.target().data(), msg.target().size()), head_))
        return fail(400, m + "invalid request target"), false;
    if (auto expect = head_.header("expect")) {
        if (toLower(trimOws(*expect)) != "100-continue") return fail(417, "only 'Expect: 100-continue' is supported"), false;
        expectContinue_ = msg.version() == 11;
    }
    return true;
}

size_t RequestDecoder::feed(const char* data, size_t size) {
    size_t used = 0;
    while ((phase_ == Phase::Head || phase_ == Phase::Body) && used < size) {
        boost::system::error_code ec;
        size_t n = parser_.put(boost::asio::buffer(data + used, size - used), ec);
        if (ec == bhttp::error::need_more) {
            if (phase_ == Phase::Head) checkHeadBytes(data + used, size - used, false);
            return used + n;
        }
        if (ec) {
            failParse(ec);
            return used + n;
        }
        if (phase_ == Phase::Head && parser_.is_header_done()) {
            if (!checkHead(data + used, n)) return used + n;
            phase_ = Phase::Body;
            parser_.eager(true);
        }
        used += n;
        if (parser_.is_done()) phase_ = Phase::Done;
        if (n == 0) break;
    }
    return used;
}

bool RequestDecoder::keepAlive() const { return parser_.keep_alive(); }

std::optional<uint64_t> RequestDecoder::contentLength() const {
    auto n = parser_.content_length();
    return n ? std::optional<uint64_t>(*n) : std::nullopt;
}

bool RequestDecoder::chunked() const { return parser_.chunked(); }

size_t RequestDecoder::bodySize() const { return parser_.get().body().size(); }

RequestContext RequestDecoder::take() {
    RequestContext out = std::move(head_);
    out.body = std::move(parser_.get().body());
    return out;
}

}  // namespace switchboard::host::http
