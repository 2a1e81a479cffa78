// A request fixture for --request: one YAML file describing one webhook request and the
// HTTP status the plugin must answer it with (format in --help and sdk/README.md).
#pragma once

#include "webhook_call.h"

#include <string>

namespace switchboard::plugincheck {

struct RequestFixture {
    std::string file;
    WebhookCall call;
    int expectStatus = 0;
};

// Reads file; throws std::runtime_error naming the file, the line and the field at fault.
RequestFixture loadRequestFixture(const std::string& file);

}  // namespace switchboard::plugincheck
