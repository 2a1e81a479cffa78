// RequestDecoder: the strict HTTP/1.1 parsing the front relies on against request
// smuggling, fed as a connection feeds it (whole, byte by byte, pipelined).
#include "http/request_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using switchboard::host::http::RequestContext;
using switchboard::host::http::RequestDecoder;
using Phase = RequestDecoder::Phase;
using namespace std::string_literals;

namespace {

struct Outcome {
    Phase phase = Phase::Head;
    int status = 0;
    std::string reason;
    RequestContext request;
    size_t used = 0;  // bytes of the input that belong to this request
};

// Feeds input in pieces of `step` bytes the way a connection does: what the decoder did not
// use stays in the buffer and is passed again with the next bytes.
Outcome decode(const std::string& input, size_t step = std::string::npos, RequestDecoder::Limits limits = {}) {
    RequestDecoder decoder(limits);
    std::string buffer;
    size_t offered = 0;
    Outcome out;
    while (decoder.phase() == Phase::Head || decoder.phase() == Phase::Body) {
        if (offered == input.size()) break;
        size_t n = std::min(step, input.size() - offered);
        buffer.append(input, offered, n);
        offered += n;
        size_t used = decoder.feed(buffer.data(), buffer.size());
        EXPECT_LE(used, buffer.size());
        buffer.erase(0, used);
        out.used = offered - buffer.size();
    }
    out.phase = decoder.phase();
    if (out.phase == Phase::Failed) {
        out.status = decoder.refusal().status;
        out.reason = decoder.refusal().reason;
    }
    if (out.phase == Phase::Done) out.request = decoder.take();
    return out;
}

struct Refused {
    const char* name;
    std::string request;
    int status;
    const char* reasonPart;
};

class Smuggling : public ::testing::TestWithParam<Refused> {};

TEST_P(Smuggling, IsRefusedWholeAndByteByByte) {
    const Refused& c = GetParam();
    for (size_t step : {std::string::npos, size_t{1}, size_t{7}}) {
        Outcome o = decode(c.request, step);
        EXPECT_EQ(o.phase, Phase::Failed) << c.name << " step " << step;
        EXPECT_EQ(o.status, c.status) << c.name << " step " << step << ": " << o.reason;
        EXPECT_NE(o.reason.find(c.reasonPart), std::string::npos) << c.name << ": " << o.reason;
    }
}

const std::string kSmuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    Corpus, Smuggling,
    ::testing::Values(
        Refused{"te_cl", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
                400, "malformed request"},
        Refused{"cl_te", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400, "Content-Length"},
        Refused{"te_identity_chunked_cl",
                "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\nContent-Length: 4\r\n\r\n2c\r\n" +
                    kSmuggled + "\r\n0\r\n\r\n",
                400, "malformed request"},
        Refused{"te_identity_chunked", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
                400, "not supported"},
        Refused{"te_chunked_not_last", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + kSmuggled,
                400, "not supported"},
        Refused{"te_twice", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
                400, "Transfer-Encoding"},
        Refused{"te_xchunked", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n" + kSmuggled, 400,
                "not supported"},
        Refused{"te_space_before_colon", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400,
                "invalid header field"},
        Refused{"te_obs_fold", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400,
                "malformed request"},
        Refused{"cl_differing", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400,
                "Content-Length"},
        Refused{"cl_plus", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd", 400, "Content-Length"},
        Refused{"cl_negative", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
        Refused{"cl_hex", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\nabcd", 400, "Content-Length"},
        Refused{"cl_empty", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400, "Content-Length"},
        Refused{"cl_overflow", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
                "Content-Length"},
        Refused{"cl_list", "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd", 400, "Content-Length"},
        Refused{"obs_fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400, "folding"},
        Refused{"obs_fold_tab", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n", 400, "folding"},
        Refused{"space_after_request_line", "GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n", 400, "malformed request"},
        Refused{"no_colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nfoo\r\n\r\n", 400, "invalid header field"},
        Refused{"nul_in_value", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, 400,
                "malformed request"},
        Refused{"bare_cr", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, "malformed request"},
        Refused{"bare_lf", "GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, "malformed request"},
        Refused{"lf_only", "GET /healthz HTTP/1.1\nHost: x\n\n", 400, "malformed request"},
        Refused{"ctl_in_value", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400, "malformed request"},
        Refused{"http09", "GET /healthz HTTP/0.9\r\nHost: x\r\n\r\n", 400, "version"},
        Refused{"http1", "GET /healthz HTTP/1\r\nHost: x\r\n\r\n", 400, "malformed request"},
        Refused{"http12", "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n", 400, "version"},
        Refused{"http20", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 400, "version"},
        Refused{"http99", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, "version"},
        Refused{"no_host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "Host"},
        Refused{"two_hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host"},
        Refused{"bad_chunk_size", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", 400,
                "chunk"},
        Refused{"chunk_without_crlf", "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
                400, "malformed request"},
        Refused{"target_not_origin", "GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request"},
        Refused{"expect_other", "POST /w HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417, "Expect"}),
    [](const ::testing::TestParamInfo<Refused>& info) { return std::string(info.param.name); });

TEST(RequestDecoder, ReadsAValidRequestWithItsBody) {
    std::string raw = "POST /webhooks/chat?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Sig: abc\r\n\r\nhello";
    for (size_t step : {std::string::npos, size_t{1}, size_t{3}}) {
        Outcome o = decode(raw, step);
        ASSERT_EQ(o.phase, Phase::Done) << o.reason;
        EXPECT_EQ(o.request.method, "POST");
        EXPECT_EQ(o.request.path, "/webhooks/chat");
        EXPECT_EQ(o.request.query, "x=1");
        EXPECT_EQ(o.request.header("x-sig").value_or(""), "abc");  // names lower-case
        EXPECT_EQ(o.request.body, "hello");
        EXPECT_EQ(o.used, raw.size());
    }
}

TEST(RequestDecoder, DecodesChunkedBodiesWithExtensionsAndTrailers) {
    std::string raw =
        "POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
        "X-Trailer: t\r\n\r\n";
    for (size_t step : {std::string::npos, size_t{1}}) {
        Outcome o = decode(raw, step);
        ASSERT_EQ(o.phase, Phase::Done) << o.reason;
        EXPECT_EQ(o.request.body, "hello world");
    }
}

TEST(RequestDecoder, LeavesAPipelinedRequestForTheNextDecoder) {
    std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
    std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestDecoder decoder({});
    std::string both = first + second;
    size_t used = decoder.feed(both.data(), both.size());
    ASSERT_EQ(decoder.phase(), Phase::Done);
    EXPECT_EQ(used, first.size());
    RequestDecoder next({});
    EXPECT_EQ(next.feed(both.data() + used, both.size() - used), second.size());
    EXPECT_EQ(next.phase(), Phase::Done);
    EXPECT_EQ(next.head().path, "/b");
}

TEST(RequestDecoder, AcceptsHttp10WithoutHostAndSameLengthTwice) {
    EXPECT_EQ(decode("GET /healthz HTTP/1.0\r\n\r\n").phase, Phase::Done);
    Outcome twice = decode("POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
    ASSERT_EQ(twice.phase, Phase::Done) << twice.reason;
    EXPECT_EQ(twice.request.body, "ok");
}

TEST(RequestDecoder, RefusesOversizedHeadsAndBodies) {
    RequestDecoder::Limits small{1024, 10};
    Outcome head = decode("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", std::string::npos, small);
    EXPECT_EQ(head.status, 431);
    // Refused on the head alone: the 20 bytes it announces are never waited for.
    Outcome declared = decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n", std::string::npos, small);
    EXPECT_EQ(declared.status, 413);
    std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n";
    EXPECT_EQ(decode(chunked, 5, small).status, 413);
}

TEST(RequestDecoder, ReportsExpectContinueOnlyForHttp11) {
    RequestDecoder decoder({});
    std::string head = "POST /w HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    EXPECT_EQ(decoder.feed(head.data(), head.size()), head.size());
    EXPECT_EQ(decoder.phase(), Phase::Body);
    EXPECT_TRUE(decoder.expectContinue());
    EXPECT_EQ(decoder.contentLength().value_or(0), 2u);
}

}  // namespace
