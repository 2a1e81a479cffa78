// One request at a plugin's webhook handler, called through the C ABI as the host calls it,
// and the HTTP status the host's front would answer with.
#pragma once

#include <switchboard/plugin.h>

#include <string>
#include <utility>
#include <vector>

namespace switchboard::plugincheck {

using Headers = std::vector<std::pair<std::string, std::string>>;  // lower-case names

struct WebhookCall {
    std::string method = "POST";
    std::string path;   // below /webhooks/{instance}: "" or starting with "/"
    std::string query;  // without "?"
    Headers headers;
    std::string body;
};

struct WebhookAnswer {
    sb_status status = SB_OK;  // what handle_webhook returned
    int httpStatus = 0;        // what the caller would get
    std::string body;
    std::string error;         // the plugin's errbuf text
};

// Headers of base, then of over; a name in over replaces the same name in base.
Headers mergeHeaders(const Headers& base, const Headers& over);

WebhookAnswer callWebhook(const sb_plugin_descriptor& d, sb_plugin_instance_plugin_ptr self, const WebhookCall& call);

}  // namespace switchboard::plugincheck
