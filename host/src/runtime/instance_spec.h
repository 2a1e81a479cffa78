// What one configured connector instance should be: its config entry, the plugin that
// serves it and its validated options. Built from switchboard.yaml by planConnectors; used
// to start instances and, on SIGHUP, to tell which instances changed.
#pragma once

#include "config/config.h"
#include "plugin/plugin_registry.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host {

struct InstanceSpec {
    config::ConnectorConfig config;
    std::shared_ptr<const LoadedPlugin> plugin;
    config::ResolvedOptions options;

    const std::string& name() const { return config.name; }
    // Same plugin file, same enabled flag and same resolved options: nothing to restart.
    bool sameAs(const InstanceSpec& other) const;
    bool isSecret(const std::string& option) const;
    // Options for display: secrets replaced by "***".
    std::vector<std::pair<std::string, std::string>> maskedOptions() const;
};

struct ConnectorPlan {
    std::vector<InstanceSpec> instances;
    std::vector<config::ConfigError> errors;
};

// Runs the plugin's validate hook (if it has one) on the spec's resolved options; appends one
// error per problem it reports, at the option's place in the file.
void runPluginValidate(const InstanceSpec& spec, std::vector<config::ConfigError>& errors);

// Resolves each connector's plugin (unknown → error with the nearest name) and validates
// its options against the plugin's schema. Every error is reported, with file, line, path.
ConnectorPlan planConnectors(const config::HostConfig& config, const PluginRegistry& plugins);

}  // namespace switchboard::host
