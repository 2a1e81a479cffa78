// threading: how messages are grouped into conversations — the continuation window.
#include "config/parse_context.h"
#include "config/value_parsing.h"

namespace switchboard::host::config {

void parseThreading(ParseContext& ctx, const MapEntry& section, ThreadingConfig& threading) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {"continuation_window"})) {
        auto v = ctx.scalar(entry, "a duration such as 30m");
        if (!v) continue;
        // "0" alone is clear enough to turn continuation off; any other number needs a unit.
        if (v->text == "0") {
            threading.continuationWindow = std::chrono::milliseconds(0);
            continue;
        }
        DurationError why = DurationError::None;
        if (auto ms = parseDurationMs(v->text, &why)) {
            threading.continuationWindow = std::chrono::milliseconds(*ms);
        } else if (why == DurationError::MissingUnit) {
            ctx.error(v->where, entry.path,
                      "expects a duration, and a plain number has no unit: add ms, s, m or h (e.g. 30m), "
                      "got " +
                          showValue(v->text, v->fromReference));
        } else {
            ctx.error(v->where, entry.path,
                      "expects a duration: a whole number with a unit ms, s, m or h (e.g. 30s, 30m, 2h), "
                      "got " +
                          showValue(v->text, v->fromReference));
        }
    }
}

}  // namespace switchboard::host::config
