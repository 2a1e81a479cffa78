// ConnectorStatus as the API shows it (GET /api/v1/connectors, docs/api.md).
#pragma once

#include "runtime/host_control.h"

#include <nlohmann/json.hpp>

namespace switchboard::host::http {

// Empty strings become null; an option given several times becomes an array.
// Options are shown as the host passes them: secrets are already "***".
nlohmann::json connectorToJson(const ConnectorStatus& status);

}  // namespace switchboard::host::http
