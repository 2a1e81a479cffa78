// routing: the rules section.
#include "config/parse_context.h"

namespace switchboard::host::config {

void parseRouting(ParseContext& ctx, const MapEntry& section, RoutingConfig&) {
    (void)ctx.mapEntries(section.value, section.path, {});
}

}  // namespace switchboard::host::config
