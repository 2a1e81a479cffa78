// outbox: how outbound messages and routing actions are delivered (config/README.md, "outbox").
#pragma once

#include <chrono>
#include <cstdint>

namespace switchboard::host::config {

struct OutboxConfig {
    // Retry budget: a message is dead-lettered after max_attempts failed sends, or when it
    // has waited max_age since it was enqueued (or replayed), whichever comes first.
    int64_t maxAttempts = 8;
    std::chrono::milliseconds maxAge{std::chrono::hours(24)};
    // Exponential backoff with full jitter: attempt n waits a random time in
    // [0, min(max_backoff, initial_backoff * 2^(n-1))].
    std::chrono::milliseconds initialBackoff{std::chrono::seconds(1)};
    std::chrono::milliseconds maxBackoff{std::chrono::minutes(5)};
    // How often the dispatcher looks for due messages when nothing wakes it.
    std::chrono::milliseconds pollInterval{std::chrono::seconds(1)};
    // A row handed to a sink is not due again for this long: if the host dies mid-send it is
    // sent again after the lease (at least once), and other hosts sharing the store skip it
    // meanwhile. Keep it longer than the slowest send.
    std::chrono::milliseconds claimLease{std::chrono::seconds(60)};

    bool operator==(const OutboxConfig&) const = default;
};

}  // namespace switchboard::host::config
