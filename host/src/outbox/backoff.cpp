#include "outbox/backoff.h"

#include <algorithm>

namespace switchboard::host::outbox {

std::chrono::milliseconds backoffCap(const config::OutboxConfig& config, int64_t attempt) {
    const int64_t initial = std::max<int64_t>(1, config.initialBackoff.count());
    const int64_t max = std::max(initial, static_cast<int64_t>(config.maxBackoff.count()));
    int64_t cap = initial;
    // Doubling stops at max, so no overflow however many attempts the budget allows.
    for (int64_t i = 1; i < attempt && cap < max; ++i) cap = std::min(max, cap * 2);
    return std::chrono::milliseconds(cap);
}

std::chrono::milliseconds retryDelay(const config::OutboxConfig& config, int64_t attempt, uint32_t retryAfterMs,
                                     std::mt19937_64& rng) {
    std::uniform_int_distribution<int64_t> jitter(0, backoffCap(config, attempt).count());
    return std::chrono::milliseconds(std::max<int64_t>(jitter(rng), retryAfterMs));
}

}  // namespace switchboard::host::outbox
