// What the server admits at once: connections (in all and per client address) and the
// bytes of request bodies held in memory. Each admission is an RAII token, so a
// connection or body that ends any way at all gives its share back.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace switchboard::host::http {

class ConnectionLimits {
public:
    ConnectionLimits(size_t maxConnections, size_t maxPerClient) : max_(maxConnections), maxPerClient_(maxPerClient) {}

    class Slot {
    public:
        Slot(ConnectionLimits& limits, std::string address) : limits_(limits), address_(std::move(address)) {}
        ~Slot() { limits_.release(address_); }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

    private:
        ConnectionLimits& limits_;
        std::string address_;
    };

    enum class Refused { None, Total, PerClient };
    // A slot for one more connection from address, or null with why.
    std::unique_ptr<Slot> admit(const std::string& address, Refused& why);
    size_t open() const;

private:
    void release(const std::string& address);

    const size_t max_;
    const size_t maxPerClient_;  // 0: no limit
    mutable std::mutex mutex_;
    size_t open_ = 0;
    std::map<std::string, size_t> perClient_;
};

class BodyBudget {
public:
    explicit BodyBudget(uint64_t maxBytes) : max_(maxBytes) {}

    // Bytes of one body held in memory; grows as a chunked body arrives.
    class Share {
    public:
        explicit Share(BodyBudget* budget = nullptr) : budget_(budget) {}
        ~Share() { reset(); }
        Share(Share&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.bytes_ = 0; }
        Share& operator=(Share&& o) noexcept;
        Share(const Share&) = delete;
        Share& operator=(const Share&) = delete;
        // Takes the share up to total bytes; false (share unchanged) when the budget is spent.
        bool growTo(uint64_t total);
        uint64_t bytes() const { return bytes_; }
        void reset();

    private:
        BodyBudget* budget_;
        uint64_t bytes_ = 0;
    };

    Share share() { return Share(this); }
    uint64_t used() const { return used_; }
    uint64_t max() const { return max_; }

private:
    const uint64_t max_;
    std::atomic<uint64_t> used_{0};
};

}  // namespace switchboard::host::http
