// outbox: retry policy of the durable outbox.
#include "config/parse_context.h"

namespace switchboard::host::config {

void parseOutbox(ParseContext& ctx, const MapEntry& section, OutboxConfig&) {
    (void)ctx.mapEntries(section.value, section.path, {});
}

}  // namespace switchboard::host::config
