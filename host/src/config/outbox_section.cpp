// outbox: retry policy of the durable outbox.
#include "config/parse_context.h"
#include "config/value_parsing.h"

namespace switchboard::host::config {

namespace {

// Longest outbox duration: a year and a day. Beyond it no retry policy makes sense, and the
// dispatcher's time arithmetic (now + lease, now + backoff) stays far from overflowing.
constexpr int64_t kMaxOutboxDurationMs = 366LL * 24 * 3600 * 1000;

// A positive duration with a unit, at most kMaxOutboxDurationMs; reports the error and
// returns nullopt otherwise.
std::optional<std::chrono::milliseconds> positiveDuration(ParseContext& ctx, const MapEntry& entry) {
    auto v = ctx.scalar(entry, "a duration such as 30s");
    if (!v) return std::nullopt;
    DurationError why = DurationError::None;
    auto ms = parseDurationMs(v->text, &why);
    if (ms && *ms > 0 && *ms <= kMaxOutboxDurationMs) return std::chrono::milliseconds(*ms);
    ctx.error(v->where, entry.path,
              std::string(why == DurationError::MissingUnit
                              ? "expects a duration, and a plain number has no unit: add ms, s, m or h (e.g. 30s)"
                              : "expects a positive duration of at most 8784h (366 days): a whole number with a unit "
                                "ms, s, m or h (e.g. 500ms, 30s)") +
                  ", got " + showValue(v->text, v->fromReference));
    return std::nullopt;
}

}  // namespace

void parseOutbox(ParseContext& ctx, const MapEntry& section, OutboxConfig& outbox) {
    for (const MapEntry& entry :
         ctx.mapEntries(section.value, section.path,
                        {"max_attempts", "max_age", "initial_backoff", "max_backoff", "poll_interval", "claim_lease"})) {
        if (entry.key == "max_attempts") {
            auto v = ctx.scalar(entry, "a whole number of attempts");
            if (!v) continue;
            auto n = parseInt64(v->text);
            if (n && *n >= 1 && *n <= 1000) {
                outbox.maxAttempts = *n;
            } else {
                ctx.error(v->where, entry.path, "expects a whole number from 1 to 1000, got " +
                                                    showValue(v->text, v->fromReference));
            }
            continue;
        }
        auto d = positiveDuration(ctx, entry);
        if (!d) continue;
        if (entry.key == "max_age") outbox.maxAge = *d;
        else if (entry.key == "initial_backoff") outbox.initialBackoff = *d;
        else if (entry.key == "max_backoff") outbox.maxBackoff = *d;
        else if (entry.key == "claim_lease") outbox.claimLease = *d;
        else outbox.pollInterval = *d;
    }
    if (outbox.maxBackoff < outbox.initialBackoff)
        ctx.error(ctx.locate(section.keyNode), section.path + ".max_backoff",
                  "must be at least initial_backoff (" + std::to_string(outbox.initialBackoff.count()) + "ms), got " +
                      std::to_string(outbox.maxBackoff.count()) + "ms");
}

}  // namespace switchboard::host::config
