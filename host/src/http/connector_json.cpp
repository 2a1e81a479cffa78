#include "http/connector_json.h"

namespace switchboard::host::http {

namespace {

nlohmann::json orNull(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json optionsToJson(const std::vector<std::pair<std::string, std::string>>& options) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : options) {
        auto it = out.find(name);
        if (it == out.end()) {
            out[name] = value;
        } else {
            if (!it->is_array()) *it = nlohmann::json::array({*it});
            it->push_back(value);
        }
    }
    return out;
}

}  // namespace

nlohmann::json connectorToJson(const ConnectorStatus& s) {
    const auto& c = s.counters;
    return {
        {"name", s.name},
        {"plugin", s.plugin},
        {"plugin_version", s.pluginVersion},
        {"plugin_file", s.pluginFile},
        {"kind", s.kind},
        {"state", s.state},
        {"last_error", orNull(s.lastError)},
        {"last_error_at", orNull(s.lastErrorAt)},
        {"next_retry_at", orNull(s.nextRetryAt)},
        {"counters",
         {{"received", c.received},
          {"stored", c.stored},
          {"duplicates", c.duplicates},
          {"rejected", c.rejected},
          {"webhook_requests", c.webhookRequests},
          {"failures", c.failures},
          {"restarts", c.restarts}}},
        {"options", optionsToJson(s.options)},
    };
}

}  // namespace switchboard::host::http
