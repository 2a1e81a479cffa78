// outbox: how outbound messages and routing actions are delivered (config/README.md, "outbox").
#pragma once

namespace switchboard::host::config {

struct OutboxConfig {};

}  // namespace switchboard::host::config
