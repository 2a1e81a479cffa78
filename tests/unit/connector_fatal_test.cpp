// FAIL_FATAL in the host's connector runtime: a sink whose send (or a source whose webhook)
// answers FAIL_FATAL fails its instance at once — backoff, last_error with the plugin's reason
// (secret option values masked) and its time, connector_up 0 — so no later send reaches the
// plugin; the broken plugin instance is destroyed and a new one started after the backoff,
// which grows while the failure lasts; resume retries at once. The plugin is an in-test
// descriptor driven by a real ConnectorInstance over a SQLite store, as the host drives a
// loaded plugin.
#include "metrics/metrics.h"
#include "runtime/connector_instance.h"
#include "store/store.h"
#include "test_support.h"

#include <switchboard/plugin.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

using namespace switchboard::host;
using switchboard::test::TempDir;
using switchboard::test::waitFor;

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSecret = "sk-0123456789abcdef";

// What the plugin records and what the test tells it to do. One per test.
struct Probe {
    std::atomic<bool> revoked{false};  // send and webhook answer FAIL_FATAL while set
    std::atomic<int> creates{0}, starts{0}, destroys{0}, sends{0}, delivered{0};
    std::mutex mutex;
    std::vector<Clock::time_point> startTimes;
};

Probe* probe = nullptr;

sb_status probeCreate(const sb_host_api*, sb_host_instance_host_ptr, const sb_config*,
                      sb_plugin_instance_plugin_ptr* out, sb_errbuf) {
    ++probe->creates;
    *out = reinterpret_cast<sb_plugin_instance_plugin_ptr>(probe);
    return SB_OK;
}

sb_status probeStart(sb_plugin_instance_plugin_ptr, sb_errbuf) {
    ++probe->starts;
    std::lock_guard lock(probe->mutex);
    probe->startTimes.push_back(Clock::now());
    return SB_OK;
}

sb_status probeStop(sb_plugin_instance_plugin_ptr, sb_errbuf) { return SB_OK; }
void probeDestroy(sb_plugin_instance_plugin_ptr) { ++probe->destroys; }

void writeReason(sb_errbuf err) {
    // A careless plugin that quotes its credentials: the host masks them.
    const std::string why = std::string("provider answered 401: credentials revoked for key ") + kSecret;
    snprintf(err.data, err.capacity, "%s", why.c_str());
}

sb_status probeSend(sb_plugin_instance_plugin_ptr, const sb_message*, sb_send_result*, sb_errbuf err) {
    ++probe->sends;
    if (probe->revoked) {
        writeReason(err);
        return SB_FAIL_FATAL;
    }
    ++probe->delivered;
    return SB_OK;
}

sb_status probeWebhook(sb_plugin_instance_plugin_ptr, const sb_http_request*, sb_http_response*, sb_errbuf err) {
    if (probe->revoked) {
        writeReason(err);
        return SB_FAIL_FATAL;
    }
    return SB_OK;
}

constexpr sb_option kOptions[] = {
    switchboard::Option("api_key", SB_OPT_STRING, "credentials").secret(),
};

const sb_plugin_descriptor kProbe = [] {
    sb_plugin_descriptor d{};
    d.struct_size = sizeof(sb_plugin_descriptor);
    d.abi_major = SB_ABI_VERSION_MAJOR;
    d.abi_minor = SB_ABI_VERSION_MINOR;
    d.name = "fatal-probe";
    d.version = "1.0.0";
    d.description = "A sink (and webhook source) whose credentials a test revokes.";
    d.kind = SB_KIND_SOURCE | SB_KIND_SINK;
    d.options = kOptions;
    d.option_count = 1;
    d.create = &probeCreate;
    d.start = &probeStart;
    d.stop = &probeStop;
    d.destroy = &probeDestroy;
    d.handle_webhook = &probeWebhook;
    d.send = &probeSend;
    return d;
}();

sb_message outbound() {
    sb_message m{};
    m.struct_size = sizeof(sb_message);
    m.direction = SB_DIRECTION_OUTBOUND;
    return m;
}

class SinkFatal : public ::testing::Test {
protected:
    void SetUp() override { probe = &state; }
    void TearDown() override {
        instance.reset();
        probe = nullptr;
    }

    void launch(BackoffPolicy backoff) {
        config::ConnectorConfig connector;
        connector.name = "probe";
        connector.plugin = "fatal-probe";
        auto plugin = std::make_shared<const LoadedPlugin>(nullptr, &kProbe, "(in test)");
        config::ResolvedOptions options{{{"api_key", kSecret}}};
        instance = std::make_unique<ConnectorInstance>(InstanceSpec{connector, plugin, options}, store, metrics,
                                                       backoff);
        instance->launch();
        ASSERT_TRUE(waitFor([&] { return instance->state() == InstanceState::Running; }));
    }

    void expectFailedWithTheReason(const std::string& stage) {
        EXPECT_EQ(instance->state(), InstanceState::Backoff);
        ConnectorStatus st = instance->status();
        EXPECT_EQ(st.state, "backoff");
        EXPECT_NE(st.lastError.find(stage + " failed (FAIL_FATAL)"), std::string::npos) << st.lastError;
        EXPECT_NE(st.lastError.find("credentials revoked"), std::string::npos) << st.lastError;
        EXPECT_EQ(st.lastError.find(kSecret), std::string::npos) << "a secret option's value: " << st.lastError;
        EXPECT_FALSE(st.lastErrorAt.empty());
        EXPECT_FALSE(st.nextRetryAt.empty());
    }

    Probe state;
    TempDir dir;
    Store store{switchboard::test::testStoreConfig("sqlite", dir)};
    Metrics metrics;
    std::unique_ptr<ConnectorInstance> instance;
};

TEST_F(SinkFatal, AFatalSendFailsTheInstanceBeforeItReturnsAndItRestartsAfterTheBackoff) {
    launch({std::chrono::milliseconds(300), std::chrono::milliseconds(3000)});
    state.revoked = true;
    const sb_message m = outbound();
    SinkSendResult first = instance->send(m);
    EXPECT_EQ(first.call, SinkCall::Called);
    EXPECT_EQ(first.status, SB_FAIL_FATAL);
    EXPECT_NE(first.error.find("credentials revoked"), std::string::npos) << first.error;
    EXPECT_EQ(first.error.find(kSecret), std::string::npos) << first.error;
    // At once: the next send does not reach the plugin.
    expectFailedWithTheReason("send");
    SinkSendResult next = instance->send(m);
    EXPECT_EQ(next.call, SinkCall::NotRunning);
    EXPECT_NE(next.error.find("credentials revoked"), std::string::npos) << "says why: " << next.error;
    EXPECT_EQ(state.sends, 1);
    EXPECT_EQ(instance->status().counters.failures, 1u);
    EXPECT_EQ(metrics.value("switchboard_connector_failures_total", {{"instance", "probe"}}), 1);
    // The broken plugin instance is thrown away, not reused.
    EXPECT_TRUE(waitFor([&] { return state.destroys == 1; }));

    state.revoked = false;  // the credentials are restored
    ASSERT_TRUE(waitFor([&] { return instance->state() == InstanceState::Running; }));
    EXPECT_EQ(state.creates, 2);
    EXPECT_EQ(instance->status().counters.restarts, 1u);
    EXPECT_TRUE(instance->status().nextRetryAt.empty());
    EXPECT_EQ(instance->send(m).status, SB_OK);
    EXPECT_EQ(state.delivered, 1);
    // Not restarted in the same instant: the backoff was waited out.
    std::lock_guard lock(state.mutex);
    ASSERT_EQ(state.startTimes.size(), 2u);
    EXPECT_GE(state.startTimes[1] - state.startTimes[0], std::chrono::milliseconds(240));
}

TEST_F(SinkFatal, WhileTheFailureLastsEachRestartWaitsLonger) {
    launch({std::chrono::milliseconds(200), std::chrono::milliseconds(5000)});
    state.revoked = true;
    const sb_message m = outbound();
    std::vector<Clock::time_point> failedAt;
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(waitFor([&] { return instance->state() == InstanceState::Running; }, std::chrono::seconds(20),
                            std::chrono::milliseconds(5)));
        failedAt.push_back(Clock::now());
        ASSERT_EQ(instance->send(m).status, SB_FAIL_FATAL);
    }
    std::vector<Clock::time_point> starts;
    {
        std::lock_guard lock(state.mutex);
        starts = state.startTimes;
    }
    ASSERT_EQ(starts.size(), 4u);
    // Start i+1 follows failure i after about 200, 400, 800 ms (±20%), never at once.
    auto gap = [&](size_t i) { return starts[i + 1] - failedAt[i]; };
    EXPECT_GE(gap(0), std::chrono::milliseconds(150));
    EXPECT_GT(gap(1), gap(0));
    EXPECT_GT(gap(2), gap(1));
    EXPECT_GE(gap(2), std::chrono::milliseconds(600));
}

TEST_F(SinkFatal, AFatalWebhookGoesTheSameWay) {
    launch({std::chrono::milliseconds(300), std::chrono::milliseconds(3000)});
    state.revoked = true;
    WebhookRequest request{"POST", "", "", {}, "{}", "127.0.0.1", "http://x/webhooks/probe"};
    WebhookResponse response;
    EXPECT_EQ(instance->handleWebhook(request, response), WebhookOutcome::Handled);
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body.find(kSecret), std::string::npos);
    expectFailedWithTheReason("webhook");
    EXPECT_EQ(instance->handleWebhook(request, response), WebhookOutcome::Unavailable);
    EXPECT_EQ(instance->send(outbound()).call, SinkCall::NotRunning);
    EXPECT_EQ(state.sends, 0);
    state.revoked = false;
    ASSERT_TRUE(waitFor([&] { return instance->state() == InstanceState::Running; }));
    EXPECT_EQ(state.creates, 2);
}

TEST_F(SinkFatal, ResumeRetriesAtOnceInsteadOfWaitingOutTheBackoff) {
    launch({std::chrono::seconds(60), std::chrono::seconds(60)});
    state.revoked = true;
    ASSERT_EQ(instance->send(outbound()).status, SB_FAIL_FATAL);
    expectFailedWithTheReason("send");
    state.revoked = false;
    const auto asked = Clock::now();
    ControlResult resumed = instance->resume();
    EXPECT_EQ(resumed.outcome, ControlOutcome::Ok) << resumed.message;
    EXPECT_EQ(instance->state(), InstanceState::Running);
    EXPECT_LT(Clock::now() - asked, std::chrono::seconds(10));
    EXPECT_EQ(instance->send(outbound()).status, SB_OK);
}

}  // namespace
