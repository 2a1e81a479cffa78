// Strict HTTP/1.1 request decoding (RFC 9112). Boost.Beast's parser does the parsing; this
// adds the refusals Beast leaves to the server, so that no two parties in front of the host
// can read a request's framing differently (request smuggling): obs-fold, bare CR or LF,
// control characters, a Transfer-Encoding other than plain "chunked", a Content-Length
// that is not 1*DIGIT, a missing or repeated Host. Each refusal is final: the connection
// must be closed after answering it, since the rest of its bytes cannot be trusted.
//
// Fed bytes as they arrive; holds no socket, so the fuzz target and the unit tests drive
// it directly.
#pragma once

#include "http/http_types.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::host::http {

// A request body in one std::string, like Beast's string_body but never copied out: a
// declared length is allocated once (the connection has admitted it whole against
// server.max_buffered_body_bytes), a chunked body grows as it arrives.
struct GrowingBody {
    using value_type = std::string;

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
        void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec);
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
            std::size_t n = 0;
            for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
                 ++it) {
                boost::asio::const_buffer b = *it;
                body_.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            ec = {};
            return n;
        }
        void finish(boost::system::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

class RequestDecoder {
public:
    struct Limits {
        size_t maxHeaderBytes = 16 * 1024;
        size_t maxBodyBytes = 1024 * 1024;
    };
    enum class Phase { Head, Body, Done, Failed };
    struct Refusal {
        int status = 400;
        std::string reason;  // "malformed request: ...", for the client
    };

    explicit RequestDecoder(Limits limits);

    // Parses what it can of data and returns how many bytes it used. Until the head is
    // complete nothing is used: pass the head again, whole, with more bytes after it.
    // Bytes past the end of the request are not used (they begin the next one).
    size_t feed(const char* data, size_t size);

    Phase phase() const { return phase_; }
    // Set in Phase::Failed.
    const Refusal& refusal() const { return refusal_; }

    // From Phase::Body on: the request without its body (remoteAddr empty).
    const RequestContext& head() const { return head_; }
    bool keepAlive() const;
    unsigned version() const { return parser_.get().version(); }  // 10 or 11
    bool expectContinue() const { return expectContinue_; }
    std::optional<uint64_t> contentLength() const;
    bool chunked() const;
    // Body bytes decoded so far.
    size_t bodySize() const;

    // Phase::Done: the whole request, body moved out of the parser (no copy).
    RequestContext take();

private:
    void fail(int status, std::string reason);
    void failParse(const boost::system::error_code& ec);
    // Refuses bare CR or LF, obs-fold and control characters in (a prefix of) the head.
    bool checkHeadBytes(const char* head, size_t size, bool complete);
    // Checks the raw head bytes and its fields; fills head_. False after fail().
    bool checkHead(const char* head, size_t size);

    Limits limits_;
    boost::beast::http::request_parser<GrowingBody> parser_;
    Phase phase_ = Phase::Head;
    Refusal refusal_;
    RequestContext head_;
    bool expectContinue_ = false;
};

}  // namespace switchboard::host::http
