// When to try a failed send again: exponential backoff with full jitter (a random delay in
// [0, min(max_backoff, initial_backoff * 2^(attempt-1))]), so sinks recovering from an
// outage are not hit by every queued message at once; never sooner than the sink asked.
#pragma once

#include "config/outbox_config.h"

#include <chrono>
#include <cstdint>
#include <random>

namespace switchboard::host::outbox {

// The upper bound of the delay after the attempt-th failed attempt (attempt >= 1).
std::chrono::milliseconds backoffCap(const config::OutboxConfig& config, int64_t attempt);

// A delay drawn in [0, backoffCap(attempt)], raised to retryAfterMs when the sink asked for more.
std::chrono::milliseconds retryDelay(const config::OutboxConfig& config, int64_t attempt, uint32_t retryAfterMs,
                                     std::mt19937_64& rng);

}  // namespace switchboard::host::outbox
