// The installed plugins: every *.so found in the configured directories, by name. A name
// registered twice is refused (naming both files); an unknown name suggests the nearest.
#pragma once

#include "plugin/plugin_loader.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::host {

class PluginRegistry {
public:
    // Loads every regular file ending in .so in each directory (not recursive), in name
    // order. Missing directories and refused files are recorded in errors(); scanning
    // continues with the rest.
    void scan(const std::vector<std::string>& directories);
    // Loads one file; false (with an entry in errors()) when refused.
    bool add(const std::string& file);

    std::shared_ptr<const LoadedPlugin> find(const std::string& name) const;
    std::vector<std::shared_ptr<const LoadedPlugin>> plugins() const;  // by name
    std::vector<std::string> names() const;
    // "no plugin named 'webcaht' (did you mean 'webchat'?); installed: a, b; searched: dirs"
    std::string unknownPluginMessage(const std::string& name) const;

    const std::vector<std::string>& errors() const { return errors_; }
    const std::vector<std::string>& warnings() const { return warnings_; }
    const std::vector<std::string>& searchedDirectories() const { return searched_; }

private:
    std::map<std::string, std::shared_ptr<const LoadedPlugin>> byName_;
    std::vector<std::string> errors_;
    std::vector<std::string> warnings_;
    std::vector<std::string> searched_;
};

// Where plugins are looked for when neither config nor --plugin-dir says: the build tree's
// plugin directory when running from a build, else the installed plugin directory.
std::vector<std::string> defaultPluginDirectories();

}  // namespace switchboard::host
