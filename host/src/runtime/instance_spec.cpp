#include "runtime/instance_spec.h"

#include "runtime/abi_text.h"

namespace switchboard::host {

namespace {

struct ValidateProblems {
    std::vector<std::pair<std::string, std::string>> items;  // option, message
};

// A plugin should never quote a secret back; if it does, the value is masked here.
std::string maskSecrets(std::string text, const InstanceSpec& spec) {
    for (const auto& [name, value] : spec.options.entries) {
        if (!spec.isSecret(name) || value.size() < 4) continue;
        for (size_t at = text.find(value); at != std::string::npos; at = text.find(value, at + 3))
            text.replace(at, value.size(), "***");
    }
    return text;
}

}  // namespace

// The plugin's own cross-option rules (sb_plugin_descriptor.validate, since 1.4), run here so
// that check-config and run refuse the same configs. Each problem points at its option's line.
void runPluginValidate(const InstanceSpec& spec, std::vector<config::ConfigError>& errors) {
    auto validate = spec.plugin->validateHook();
    if (validate == nullptr) return;
    std::vector<sb_kv> entries;
    entries.reserve(spec.options.entries.size());
    for (const auto& [k, v] : spec.options.entries) entries.push_back(sb_kv{span(k), span(v)});
    sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries.data(), entries.size(), span(spec.name())};
    ValidateProblems problems;
    const sb_status status = validate(&cfg, &problems, [](void* ctx, sb_str option, sb_str message) {
        static_cast<ValidateProblems*>(ctx)->items.emplace_back(std::string(view(option)), std::string(view(message)));
    });
    if (status != SB_OK && problems.items.empty())
        problems.items.emplace_back("", "the plugin refused this configuration without saying why");
    const auto& connector = spec.config;
    for (const auto& [option, message] : problems.items) {
        const auto given = connector.options.find(option);
        const config::SourceLocation& where =
            given != connector.options.end() ? given->second.where : connector.where;
        const std::string path = option.empty() ? connector.path : connector.path + ".options." + option;
        errors.push_back({where, path, "plugin '" + connector.plugin + "': " + maskSecrets(message, spec)});
    }
}

bool InstanceSpec::sameAs(const InstanceSpec& other) const {
    return config.plugin == other.config.plugin && config.enabled == other.config.enabled &&
           plugin->file() == other.plugin->file() && options.entries == other.options.entries &&
           config.webhooks == other.config.webhooks;
}

bool InstanceSpec::isSecret(const std::string& option) const {
    for (const auto& o : plugin->schema())
        if (o.name == option) return o.secret;
    return false;
}

std::vector<std::pair<std::string, std::string>> InstanceSpec::maskedOptions() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : options.entries) {
        out.emplace_back(name, isSecret(name) ? "***" : value);
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
        if (plan.errors.size() == before) runPluginValidate(spec, plan.errors);
        if (plan.errors.size() == before) plan.instances.push_back(std::move(spec));
    }
    return plan;
}

}  // namespace switchboard::host
