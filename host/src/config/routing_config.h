// routing: rules evaluated for each inbound interaction (config/README.md, "routing").
#pragma once

namespace switchboard::host::config {

struct RoutingConfig {};

}  // namespace switchboard::host::config
