// The kannel connector's sendsms mapping, through the C ABI: the built switchboard-kannel.so
// is dlopen'ed and its send() driven against a real HTTP server on 127.0.0.1 that plays
// Kannel's sendsms interface and answers what Kannel answers (and what a broken gateway
// answers). The happy path against a real Kannel is in kannel_test.cpp.
#include "http_endpoint.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using switchboard::test::HttpEndpoint;
using switchboard::test::ScriptedAnswer;
using Options = std::map<std::string, std::string>;

constexpr const char* kPassword = "Kannel-Pass-Distinct-9";

const sb_plugin_descriptor* descriptor() {
    static const sb_plugin_descriptor* d = [] {
        const std::string path = switchboard::test::buildPluginDir() + "/switchboard-kannel.so";
        void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept loaded for the whole run
        if (lib == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
        auto entry = reinterpret_cast<sb_entry_fn>(dlsym(lib, SB_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
        return entry();
    }();
    return d;
}

// A host that offers the 1.0 services only and ignores them: send() calls none.
const sb_host_api* fakeHost() {
    static const sb_host_api a = [] {
        sb_host_api t{};
        t.struct_size = static_cast<uint32_t>(sizeof(sb_host_api));
        t.abi_major = SB_ABI_VERSION_MAJOR;
        t.abi_minor = SB_ABI_VERSION_MINOR;
        t.log = [](sb_host_instance_host_ptr, sb_log_level, sb_str) {};
        t.log_enabled = [](sb_host_instance_host_ptr, sb_log_level) { return 0; };
        t.emit = [](sb_host_instance_host_ptr, const sb_emit_batch*, sb_emit_outcome*, sb_errbuf) { return SB_OK; };
        t.checkpoint_get = [](sb_host_instance_host_ptr, sb_str, void*, sb_receive_fn, sb_errbuf) { return SB_OK; };
        t.checkpoint_put = [](sb_host_instance_host_ptr, sb_str, sb_str, sb_errbuf) { return SB_OK; };
        t.counter_add = [](sb_host_instance_host_ptr, sb_str, double) {};
        t.gauge_set = [](sb_host_instance_host_ptr, sb_str, double) {};
        return t;
    }();
    return &a;
}

struct SendOutcome {
    sb_status status = SB_OK;
    std::string error;
    uint32_t retryAfterMs = 0;
    std::string providerId;
};

class Instance {
public:
    explicit Instance(const std::string& sendsmsUrl, Options extra = {}) {
        Options all{{"sendsms_url", sendsmsUrl}, {"username", "switchboard"}, {"password", kPassword},
                    {"callback_url", "http://sb.test:8080/webhooks/sms"}, {"dlr_mask", "31"},
                    {"max_segments", "3"}, {"timeout", "5000"}, {"channel", "sms"}, {"from", "4321"}};
        for (auto& [k, v] : extra) all[k] = v;
        std::vector<sb_kv> entries;
        for (const auto& [k, v] : all) entries.push_back({switchboard::span(k), switchboard::span(v)});
        const sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries.data(), entries.size(),
                            switchboard::span("sms")};
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        status_ = descriptor()->create(fakeHost(), reinterpret_cast<sb_host_instance_host_ptr>(this), &cfg, &self_,
                                       sb_errbuf{err, sizeof err});
        error_ = err;
        if (status_ == SB_OK) descriptor()->start(self_, sb_errbuf{err, sizeof err});
    }
    ~Instance() {
        if (status_ != SB_OK) return;
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        descriptor()->stop(self_, sb_errbuf{err, sizeof err});
        descriptor()->destroy(self_);
    }
    sb_status createStatus() const { return status_; }
    const std::string& createError() const { return error_; }

    SendOutcome send(const std::string& text) {
        switchboard::Message m;
        m.channel = "sms";
        m.direction = SB_DIRECTION_OUTBOUND;
        m.sourceId = "out-1";
        m.text = text;
        m.recipients = {{"phone", "+351912345678", ""}};
        m.attributes = {{"outbox.idempotency_key", "ob_key/1"}};
        switchboard::detail::MessageView view(m);
        char providerId[256] = {0};
        sb_send_result result{static_cast<uint32_t>(sizeof(sb_send_result)), 0, providerId, sizeof providerId};
        char err[SB_ERRBUF_MIN_CAPACITY] = {0};
        SendOutcome out;
        out.status = descriptor()->send(self_, &view.abi(), &result, sb_errbuf{err, sizeof err});
        out.error = err;
        out.retryAfterMs = result.retry_after_ms;
        out.providerId = providerId;
        return out;
    }

private:
    sb_plugin_instance_plugin_ptr self_ = nullptr;
    sb_status status_ = SB_FAIL_FATAL;
    std::string error_;
};

bool has(const std::string& uri, const std::string& part) { return uri.find(part) != std::string::npos; }

}  // namespace

TEST(KannelSend, AcceptedGsmTextCarriesCredentialsCodingAndADlrUrlWithOurId) {
    HttpEndpoint kannel;
    kannel.answer({202, "0: Accepted for delivery", {{"Content-Type", "text/html"}}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    SendOutcome out = inst.send("Hi {Ann}, 5€ off");
    ASSERT_EQ(out.status, SB_OK) << out.error;
    EXPECT_EQ(out.providerId, "ob_key/1");  // the outbox key: the same on every retry
    const std::string uri = kannel.only().uri;
    EXPECT_TRUE(has(uri, "/cgi-bin/sendsms?")) << uri;
    EXPECT_TRUE(has(uri, "username=switchboard")) << uri;
    EXPECT_TRUE(has(uri, std::string("password=") + kPassword)) << uri;
    EXPECT_TRUE(has(uri, "to=%2B351912345678")) << uri;
    EXPECT_TRUE(has(uri, "from=4321")) << uri;
    EXPECT_TRUE(has(uri, "text=Hi%20%7BAnn%7D%2C%205%E2%82%AC%20off")) << uri;
    EXPECT_TRUE(has(uri, "coding=0")) << uri;
    EXPECT_TRUE(has(uri, "dlr-mask=31")) << uri;
    // dlr-url, itself url-encoded: <callback_url>/dlr?id=ob_key%2F1&type=%d&...
    EXPECT_TRUE(has(uri, "dlr-url=http%3A%2F%2Fsb.test%3A8080%2Fwebhooks%2Fsms%2Fdlr%3Fid%3Dob_key%252F1%26type%3D%25d"))
        << uri;
}

TEST(KannelSend, NonGsmTextGoesAsUcs2Utf16) {
    HttpEndpoint kannel;
    kannel.answer({202, "0: Accepted for delivery", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    ASSERT_EQ(inst.send("Olá").status, SB_OK);
    const std::string uri = kannel.only().uri;
    EXPECT_TRUE(has(uri, "text=%00O%00l%00%E1")) << uri;
    EXPECT_TRUE(has(uri, "charset=UTF-16BE")) << uri;
    EXPECT_TRUE(has(uri, "coding=2")) << uri;
}

TEST(KannelSend, BusyGatewayIsRetriedAfterItsRetryAfter) {
    HttpEndpoint kannel;
    kannel.answer({503, "Service unavailable", {{"Retry-After", "7"}}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_EQ(out.retryAfterMs, 7000u);
    EXPECT_TRUE(has(out.error, "503")) << out.error;
}

TEST(KannelSend, WrongCredentialsStopTheInstanceWithoutLeakingThePassword) {
    HttpEndpoint kannel;
    kannel.answer({403, "Authorization failed for sendsms", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_FAIL_FATAL) << out.error;
    EXPECT_TRUE(has(out.error, "Authorization failed")) << out.error;
    EXPECT_FALSE(has(out.error, kPassword)) << out.error;
}

TEST(KannelSend, RejectedMessageIsDeadLetteredWithKannelsReason) {
    HttpEndpoint kannel;
    kannel.answer({400, "Missing receiver number", {}, false});
    Instance inst(kannel.url("/cgi-bin/sendsms"));
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_FAIL_DATA) << out.error;
    EXPECT_TRUE(has(out.error, "Missing receiver number")) << out.error;
}

TEST(KannelSend, UnreachableGatewayIsRetried) {
    const int closed = switchboard::test::freePort();
    Instance inst("http://127.0.0.1:" + std::to_string(closed) + "/cgi-bin/sendsms");
    SendOutcome out = inst.send("hello");
    EXPECT_EQ(out.status, SB_RETRY) << out.error;
    EXPECT_FALSE(has(out.error, kPassword)) << out.error;
}

TEST(KannelSend, TextLongerThanMaxSegmentsFailsWithoutARequest) {
    HttpEndpoint kannel;
    Instance inst(kannel.url("/cgi-bin/sendsms"));  // max_segments 3
    SendOutcome out = inst.send(std::string(4 * 153, 'x'));
    EXPECT_EQ(out.status, SB_FAIL_DATA) << out.error;
    EXPECT_TRUE(has(out.error, "4 SMS segments")) << out.error;
    EXPECT_TRUE(kannel.received().empty());
}

TEST(KannelSend, BadConfigurationIsRefusedNamingTheOption) {
    HttpEndpoint kannel;
    Instance badUrl("ftp://kannel/cgi-bin/sendsms");
    EXPECT_EQ(badUrl.createStatus(), SB_FAIL_CONFIG);
    EXPECT_TRUE(has(badUrl.createError(), "sendsms_url")) << badUrl.createError();
    Instance badMask(kannel.url("/cgi-bin/sendsms"), {{"dlr_mask", "64"}});
    EXPECT_EQ(badMask.createStatus(), SB_FAIL_CONFIG);
    EXPECT_TRUE(has(badMask.createError(), "dlr_mask")) << badMask.createError();
}
