#include "plugin/plugin_registry.h"

#include "config/config.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace switchboard::host {

void PluginRegistry::scan(const std::vector<std::string>& directories) {
    for (const auto& dir : directories) {
        searched_.push_back(dir);
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            errors_.push_back("plugin directory " + dir + " does not exist or is not a directory; " +
                              "fix plugins.paths or --plugin-dir");
            continue;
        }
        std::vector<std::string> files;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.is_regular_file(ec) && entry.path().extension() == ".so") files.push_back(entry.path().string());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) add(f);
    }
}

bool PluginRegistry::add(const std::string& file) {
    LoadOutcome loaded = loadPlugin(file);
    if (!loaded.plugin) {
        errors_.push_back(loaded.error);
        return false;
    }
    if (!loaded.warning.empty()) warnings_.push_back(loaded.warning);
    const std::string& name = loaded.plugin->name();
    if (auto it = byName_.find(name); it != byName_.end()) {
        errors_.push_back("plugin " + file + ": the name '" + name + "' is already registered by " +
                          it->second->file() + "; remove one of the two files");
        return false;
    }
    byName_.emplace(name, std::move(loaded.plugin));
    return true;
}

std::shared_ptr<const LoadedPlugin> PluginRegistry::find(const std::string& name) const {
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const LoadedPlugin>> PluginRegistry::plugins() const {
    std::vector<std::shared_ptr<const LoadedPlugin>> out;
    for (const auto& [name, p] : byName_) out.push_back(p);
    return out;
}

std::vector<std::string> PluginRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, p] : byName_) out.push_back(name);
    return out;
}

std::string PluginRegistry::unknownPluginMessage(const std::string& name) const {
    std::string msg = "no plugin named '" + name + "'";
    auto all = names();
    if (auto near = config::suggestNearest(name, all)) msg += " (did you mean '" + *near + "'?)";
    msg += "; installed: ";
    if (all.empty()) msg += "none";
    for (size_t i = 0; i < all.size(); ++i) msg += (i ? ", " : "") + all[i];
    msg += "; searched: ";
    for (size_t i = 0; i < searched_.size(); ++i) msg += (i ? ", " : "") + searched_[i];
    return msg;
}

std::vector<std::string> defaultPluginDirectories() {
    // A binary inside a build tree uses that build's plugins; an installed one the install dir.
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path buildDir = self.parent_path() / "plugins-out";
        if (fs::is_directory(buildDir, ec)) return {buildDir.string()};
        fs::path installed = self.parent_path().parent_path() / SWITCHBOARD_INSTALL_LIBDIR / "switchboard" / "plugins";
        if (fs::is_directory(installed, ec)) return {installed.string()};
    }
    if (fs::is_directory(SWITCHBOARD_INSTALL_PLUGIN_DIR, ec)) return {SWITCHBOARD_INSTALL_PLUGIN_DIR};
    return {SWITCHBOARD_BUILD_PLUGIN_DIR};
}

}  // namespace switchboard::host
