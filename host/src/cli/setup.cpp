#include "cli/setup.h"

namespace switchboard::host::cli {

Setup loadSetup(const std::string& configFile, const std::vector<std::string>& pluginDirs) {
    Setup s;
    if (!configFile.empty()) {
        config::LoadResult loaded = config::loadFile(configFile);
        for (const auto& e : loaded.errors) s.errors.push_back(e.format());
        s.config = std::move(loaded.config);
    }
    std::vector<std::string> dirs = pluginDirs;
    if (dirs.empty() && s.config && !s.config->pluginPaths.empty()) dirs = s.config->pluginPaths;
    if (dirs.empty()) dirs = defaultPluginDirectories();
    s.registry.scan(dirs);
    if (s.config) {
        try {
            s.resolver = std::make_shared<customer::IdentityResolver>(s.config->identity);
        } catch (const std::invalid_argument& e) {
            config::SourceLocation where = s.config->identity.defaultRegionWhere;
            if (where.file.empty()) where.file = configFile;
            s.errors.push_back(config::ConfigError{where, "identity.default_region", e.what()}.format());
        }
        s.threader = std::make_shared<customer::ConversationThreader>(s.config->threading.continuationWindow);
        s.plan = planConnectors(*s.config, s.registry);
        for (const auto& e : s.plan.errors) s.errors.push_back(e.format());
    }
    return s;
}

}  // namespace switchboard::host::cli
