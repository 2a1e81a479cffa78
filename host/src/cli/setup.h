// What every command needs before it acts: the config read and checked, the plugins
// found, and the connector plan validated against the plugins' schemas.
#pragma once

#include "config/config.h"
#include "customer/resolver.h"
#include "customer/threading.h"
#include "plugin/plugin_registry.h"
#include "runtime/instance_spec.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::host::cli {

struct Setup {
    std::optional<config::HostConfig> config;  // empty when the file could not be used
    PluginRegistry registry;
    ConnectorPlan plan;
    std::shared_ptr<customer::IdentityResolver> resolver;  // from identity:, when valid
    std::shared_ptr<customer::ConversationThreader> threader;  // from threading:
    std::vector<std::string> errors;  // config errors and plan errors, formatted
    bool ok() const { return errors.empty(); }
};

// configFile may be empty (plugins commands): then only the plugin dirs are scanned.
// Plugin dirs: pluginDirs if given, else the config's plugins.paths, else the defaults.
Setup loadSetup(const std::string& configFile, const std::vector<std::string>& pluginDirs);

}  // namespace switchboard::host::cli
