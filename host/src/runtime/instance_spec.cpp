#include "runtime/instance_spec.h"

namespace switchboard::host {

bool InstanceSpec::sameAs(const InstanceSpec& other) const {
    return config.plugin == other.config.plugin && config.enabled == other.config.enabled &&
           plugin->file() == other.plugin->file() && options.entries == other.options.entries &&
           config.webhooks == other.config.webhooks;
}

std::vector<std::pair<std::string, std::string>> InstanceSpec::maskedOptions() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : options.entries) {
        bool secret = false;
        for (const auto& spec : plugin->schema())
            if (spec.name == name) secret = spec.secret;
        out.emplace_back(name, secret ? "***" : value);
    }
    return out;
}

ConnectorPlan planConnectors(const config::HostConfig& config, const PluginRegistry& plugins) {
    ConnectorPlan plan;
    for (const auto& connector : config.connectors) {
        auto plugin = plugins.find(connector.plugin);
        if (!plugin) {
            plan.errors.push_back({connector.where, connector.path + ".plugin", plugins.unknownPluginMessage(connector.plugin)});
            continue;
        }
        InstanceSpec spec{connector, plugin, {}};
        const size_t before = plan.errors.size();
        config::validateOptions(connector, plugin->schema(), spec.options, plan.errors);
        if (plan.errors.size() == before) plan.instances.push_back(std::move(spec));
    }
    return plan;
}

}  // namespace switchboard::host
