// The outbox's dispatcher: one thread that claims due rows (state pending, next attempt due),
// hands each to its sink instance's send, and records the outcome (outbox/outbox.h).
#pragma once

#include "config/outbox_config.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"
#include "store/store.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

namespace switchboard::host::outbox {

class Dispatcher {
public:
    Dispatcher(Store& store, HostControl& sinks, Metrics& metrics, const config::OutboxConfig& config);
    ~Dispatcher();  // stops
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void start();
    void stop();  // waits for a send in flight to finish
    void wake();
    // Claims and handles the rows due now; returns how many it handled.
    int dispatchDue();

private:
    struct Claimed;
    void run();
    // held: the instances this pass found not running (or failed with FAIL_FATAL), with why;
    // their later rows in the pass are held without a call.
    void handle(const Claimed& row, std::map<std::string, std::string>& held);
    std::string dropWithdrawnConsent(nlohmann::json& payload);
    void updateDepth();

    Store& store_;
    HostControl& sinks_;
    Metrics& metrics_;
    config::OutboxConfig config_;
    std::mt19937_64 rng_{std::random_device{}()};

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace switchboard::host::outbox
