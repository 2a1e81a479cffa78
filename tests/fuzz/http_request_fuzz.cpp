// libFuzzer target: the host's HTTP/1.1 request decoder (host/src/http/request_decoder.cpp,
// compiled in with coverage) on arbitrary bytes. The first input byte picks how the bytes
// arrive (whole, or in pieces of 1..255 bytes, the way a slow client sends them). Beyond "no
// crash, no sanitizer report", the properties the front relies on against smuggling:
//   - the outcome does not depend on how the bytes were split (the same request with the
//     same body and the same number of bytes used; two refusals with the same status), so a
//     client cannot desync the parser by timing its writes;
//   - a refusal is a 4xx with a reason; a request's body is within the limit;
//   - the decoder never claims more bytes than it was given.
#include "http/request_decoder.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using switchboard::host::http::RequestContext;
using switchboard::host::http::RequestDecoder;

namespace {

constexpr RequestDecoder::Limits kLimits{2048, 4096};

struct Outcome {
    RequestDecoder::Phase phase;
    int status = 0;
    std::string reason;
    std::string method, target, body;
    size_t used = 0;
};

Outcome decode(const char* data, size_t size, size_t step) {
    RequestDecoder decoder(kLimits);
    std::string buffer;
    size_t offered = 0;
    size_t used = 0;
    while ((decoder.phase() == RequestDecoder::Phase::Head || decoder.phase() == RequestDecoder::Phase::Body) &&
           offered < size) {
        size_t n = std::min(step, size - offered);
        buffer.append(data + offered, n);
        offered += n;
        size_t took = decoder.feed(buffer.data(), buffer.size());
        if (took > buffer.size()) std::abort();
        buffer.erase(0, took);
        used = offered - buffer.size();
    }
    Outcome o{decoder.phase()};
    o.used = used;
    if (o.phase == RequestDecoder::Phase::Failed) {
        o.status = decoder.refusal().status;
        o.reason = decoder.refusal().reason;
        if (o.status < 400 || o.status > 499 || o.reason.empty()) std::abort();
    }
    if (o.phase == RequestDecoder::Phase::Done) {
        RequestContext r = decoder.take();
        if (r.body.size() > kLimits.maxBodyBytes || r.path.empty() || r.path[0] != '/') std::abort();
        o.method = r.method;
        o.target = r.target;
        o.body = std::move(r.body);
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    size_t step = data[0] == 0 ? size : data[0];
    const char* bytes = reinterpret_cast<const char*>(data + 1);
    Outcome whole = decode(bytes, size - 1, size);
    Outcome split = decode(bytes, size - 1, step);
    auto finished = [](const Outcome& o) {
        return o.phase == RequestDecoder::Phase::Done || o.phase == RequestDecoder::Phase::Failed;
    };
    // Beast may refuse a broken request line before the head is complete when it sees it
    // whole, and only at the deadline when it trickles in: both end without a request. But
    // a request read one way is read the same way the other, and two verdicts agree.
    if (whole.phase == RequestDecoder::Phase::Done && split.phase != RequestDecoder::Phase::Done) std::abort();
    if (finished(whole) && finished(split)) {
        if (split.phase != whole.phase || split.status != whole.status) std::abort();
        if (whole.phase == RequestDecoder::Phase::Done &&
            (split.body != whole.body || split.target != whole.target || split.method != whole.method ||
             split.used != whole.used))
            std::abort();
    }
    return 0;
}
