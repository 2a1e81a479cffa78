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
        s.plan = planConnectors(*s.config, s.registry);
        for (const auto& e : s.plan.errors) s.errors.push_back(e.format());
    }
    return s;
}

}  // namespace switchboard::host::cli
