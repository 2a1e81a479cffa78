// request_poll (SDK 1.3) in the host's connector runtime: a source polled every ten minutes
// that asks for a poll from its own thread is polled promptly; requests are coalesced, one
// made during a poll gives exactly one more, and none brings a poll after a pause or stop or
// past the store-busy backoff. The plugin is an in-test descriptor driven by a real
// ConnectorInstance over a SQLite store, exactly as the host drives a loaded plugin.
#include "metrics/metrics.h"
#include "runtime/connector_instance.h"
#include "store/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace switchboard::host;
using switchboard::test::TempDir;
using switchboard::test::waitFor;

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kTenMinutesMs = 600000;

// What the plugin records and what the test tells it to do. One per test.
struct Probe {
    std::mutex mutex;
    std::condition_variable changed;
    const sb_host_api* api = nullptr;
    sb_host_instance_host_ptr inst = nullptr;
    std::vector<Clock::time_point> polls;  // when each poll started
    bool started = false;
    int pollsWhileStopped = 0;
    // Poll number (1-based) that waits for openGate() before returning; 0: none.
    size_t gatedPoll = 0;
    bool gateOpen = false;
    bool inGatedPoll = false;
    size_t requestInsidePoll = 0;  // poll number that calls request_poll itself
    size_t retryPoll = 0;          // poll number that answers SB_RETRY (store busy)
    bool requestInStop = false;    // stop calls request_poll before it returns

    size_t pollCount() {
        std::lock_guard lock(mutex);
        return polls.size();
    }
    // The plugin's own thread asking n times (as an IMAP IDLE watcher would).
    void requestFromPluginThread(int n = 1) {
        std::thread([this, n] {
            for (int i = 0; i < n; ++i) api->request_poll(inst);
        }).join();
    }
    void waitInGatedPoll() {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return inGatedPoll; }));
    }
    void openGate() {
        std::lock_guard lock(mutex);
        gateOpen = true;
        changed.notify_all();
    }
};

Probe* probe = nullptr;

sb_status probeCreate(const sb_host_api* host, sb_host_instance_host_ptr inst, const sb_config*,
                      sb_plugin_instance_plugin_ptr* out, sb_errbuf) {
    probe->api = host;
    probe->inst = inst;
    *out = reinterpret_cast<sb_plugin_instance_plugin_ptr>(probe);
    return SB_OK;
}

sb_status probeStart(sb_plugin_instance_plugin_ptr, sb_errbuf) {
    std::lock_guard lock(probe->mutex);
    probe->started = true;
    return SB_OK;
}

sb_status probeStop(sb_plugin_instance_plugin_ptr, sb_errbuf) {
    bool request = false;
    {
        std::lock_guard lock(probe->mutex);
        probe->started = false;
        request = probe->requestInStop;
    }
    // A watcher that fires while the instance stops: allowed until stop returns.
    if (request) probe->requestFromPluginThread(3);
    return SB_OK;
}

void probeDestroy(sb_plugin_instance_plugin_ptr) {}

sb_status probePoll(sb_plugin_instance_plugin_ptr, sb_poll_result* result, sb_errbuf) {
    std::unique_lock lock(probe->mutex);
    if (!probe->started) ++probe->pollsWhileStopped;
    probe->polls.push_back(Clock::now());
    const size_t n = probe->polls.size();
    probe->changed.notify_all();
    if (n == probe->gatedPoll) {
        probe->inGatedPoll = true;
        probe->changed.notify_all();
        probe->changed.wait(lock, [] { return probe->gateOpen; });
        probe->inGatedPoll = false;
    }
    lock.unlock();
    if (n == probe->requestInsidePoll) probe->api->request_poll(probe->inst);  // the host must not deadlock
    result->next_poll_ms = kTenMinutesMs;
    return n == probe->retryPoll ? SB_RETRY : SB_OK;
}

const sb_plugin_descriptor kProbe = [] {
    sb_plugin_descriptor d{};
    d.struct_size = sizeof(sb_plugin_descriptor);
    d.abi_major = SB_ABI_VERSION_MAJOR;
    d.abi_minor = SB_ABI_VERSION_MINOR;
    d.name = "poll-probe";
    d.version = "1.0.0";
    d.description = "A source polled every ten minutes that asks for polls.";
    d.kind = SB_KIND_SOURCE;
    d.create = &probeCreate;
    d.start = &probeStart;
    d.stop = &probeStop;
    d.destroy = &probeDestroy;
    d.poll = &probePoll;
    return d;
}();

class PollRequest : public ::testing::Test {
protected:
    void SetUp() override { probe = &state; }
    void TearDown() override {
        instance.reset();
        probe = nullptr;
    }

    // Launches the instance and waits for its first poll (at start).
    void launch() {
        config::ConnectorConfig connector;
        connector.name = "probe";
        connector.plugin = "poll-probe";
        auto plugin = std::make_shared<const LoadedPlugin>(nullptr, &kProbe, "(in test)");
        instance = std::make_unique<ConnectorInstance>(InstanceSpec{connector, plugin, {}}, store, metrics);
        instance->launch();
        ASSERT_TRUE(waitFor([&] { return state.pollCount() == 1; })) << "the first poll comes at start";
    }
    // Nothing more happens for a while: the absence of a poll the test must not see.
    void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(500)); }

    Probe state;
    TempDir dir;
    Store store{switchboard::test::testStoreConfig("sqlite", dir)};
    Metrics metrics;
    std::unique_ptr<ConnectorInstance> instance;
};

TEST_F(PollRequest, ARequestFromThePluginsThreadIsPolledPromptly) {
    launch();
    state.requestFromPluginThread();
    // The regular poll is ten minutes away: only the request can bring this one.
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 2; }, std::chrono::seconds(30)));
    settle();
    EXPECT_EQ(state.pollCount(), 2u) << "one request, one poll; then the ten-minute schedule again";
}

TEST_F(PollRequest, ManyRequestsDuringAPollGiveExactlyOneMore) {
    state.gatedPoll = 2;
    launch();
    state.requestFromPluginThread();
    state.waitInGatedPoll();
    state.requestFromPluginThread(100);  // while poll 2 runs: coalesced into one
    state.openGate();
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 3; }, std::chrono::seconds(30)))
        << "a request during a poll is not lost to the poll's new schedule";
    settle();
    EXPECT_EQ(state.pollCount(), 3u);
}

TEST_F(PollRequest, ARequestFromInsidePollGivesOneMoreAndDoesNotDeadlock) {
    state.requestInsidePoll = 2;
    launch();
    state.requestFromPluginThread();
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 3; }, std::chrono::seconds(30)));
    settle();
    EXPECT_EQ(state.pollCount(), 3u);
}

TEST_F(PollRequest, NoPollAfterPauseOrStop) {
    state.gatedPoll = 2;
    state.requestInStop = true;
    launch();
    state.requestFromPluginThread();
    state.waitInGatedPoll();
    state.requestFromPluginThread();  // pending when the pause comes
    auto paused = std::async(std::launch::async, [&] { return instance->pause(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the pause is asked for during poll 2
    state.openGate();
    ASSERT_EQ(paused.get().outcome, ControlOutcome::Ok);
    EXPECT_EQ(instance->state(), InstanceState::Paused);
    settle();
    EXPECT_EQ(state.pollCount(), 2u) << "neither the pending request nor those made in stop poll a paused instance";

    ASSERT_EQ(instance->resume().outcome, ControlOutcome::Ok);
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 3; })) << "a resumed instance polls at start";
    instance->shutdown();  // stop asks for polls again
    settle();
    EXPECT_EQ(state.pollCount(), 3u);
    EXPECT_EQ(state.pollsWhileStopped, 0);
}

TEST_F(PollRequest, ARequestWaitsOutTheStoreBusyBackoff) {
    state.retryPoll = 2;  // the store was busy: the host slows down to one poll per second or less
    launch();
    state.requestFromPluginThread();
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 2; }, std::chrono::seconds(30)));
    state.requestFromPluginThread(20);
    ASSERT_TRUE(waitFor([&] { return state.pollCount() == 3; }, std::chrono::seconds(30)))
        << "a request is delayed by backpressure, not dropped";
    {
        std::lock_guard lock(state.mutex);
        EXPECT_GE(state.polls[2] - state.polls[1], std::chrono::seconds(1))
            << "a request does not bypass the store-busy backoff";
    }
    settle();
    EXPECT_EQ(state.pollCount(), 3u) << "the requests made during the backoff gave one poll";
}

TEST_F(PollRequest, TheHostOffersRequestPollFromSdk13) {
    launch();
    ASSERT_TRUE(SB_HAS_FIELD(state.api, sb_host_api, request_poll));
    EXPECT_GE(state.api->struct_size, SB_HOST_API_SIZE_1_3);
    EXPECT_GE(state.api->abi_minor, 3u);
    EXPECT_NE(state.api->request_poll, nullptr);
}

}  // namespace
