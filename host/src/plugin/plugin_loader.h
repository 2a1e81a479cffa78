// Loads one plugin file with Boost.DLL, resolves its one entry symbol and checks its
// descriptor before any plugin code beyond the entry point runs: ABI major, struct size,
// required callbacks, name and option schema. A refused file gets one line naming the
// file, what was expected, what was found and what to do.
#pragma once

#include "plugin/option_schema.h"
#include "plugin/webhook_routes.h"

#include <switchboard/plugin.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace switchboard::host {

// A metric a plugin declared (since 1.4), for its HELP line.
struct PluginMetric {
    std::string name;
    std::string type;  // "counter" or "gauge"
    std::string help;
};

class LoadedPlugin {
public:
    LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library, const sb_plugin_descriptor* descriptor,
                 std::string file);
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    const std::string& file() const { return file_; }
    const std::string& name() const { return name_; }
    const std::string& version() const { return version_; }
    const std::string& description() const { return description_; }
    uint32_t kind() const { return kind_; }
    std::string kindName() const;  // "source", "sink", "source+sink"
    uint32_t abiMajor() const { return abiMajor_; }
    uint32_t abiMinor() const { return abiMinor_; }
    const OptionSchema& schema() const { return schema_; }
    // The plugin's descriptor. Valid as long as this object lives (it keeps the library
    // loaded); fields past descriptorSize() must not be read.
    const sb_plugin_descriptor& descriptor() const { return *descriptor_; }
    size_t descriptorSize() const { return descriptorSize_; }
    bool hasWebhooks() const { return descriptor_->handle_webhook != nullptr; }
    bool canPoll() const { return descriptor_->poll != nullptr; }
    // Since 1.4; empty (serve everything, no HELP, guess from the channel, no hook) before.
    const std::vector<WebhookRoute>& webhookRoutes() const { return routes_; }
    const std::vector<PluginMetric>& metrics() const { return metrics_; }
    const std::optional<std::vector<std::string>>& reaches() const { return reaches_; }
    decltype(sb_plugin_descriptor::validate) validateHook() const { return validate_; }
    // "switchboard_plugin_<plugin>_<name>": the exported name of a plugin metric.
    std::string metricName(const std::string& name) const;

private:
    std::shared_ptr<boost::dll::shared_library> library_;  // declared first: destroyed last
    const sb_plugin_descriptor* descriptor_;
    std::string file_;
    std::string name_;
    std::string version_;
    std::string description_;
    uint32_t kind_ = 0;
    uint32_t abiMajor_ = 0;
    uint32_t abiMinor_ = 0;
    size_t descriptorSize_ = 0;
    OptionSchema schema_;
    std::vector<WebhookRoute> routes_;
    std::vector<PluginMetric> metrics_;
    std::optional<std::vector<std::string>> reaches_;
    decltype(sb_plugin_descriptor::validate) validate_ = nullptr;
};

struct LoadOutcome {
    std::shared_ptr<const LoadedPlugin> plugin;  // set on success
    std::string error;                           // one line, set on failure
    std::string warning;                         // e.g. built against a newer 1.x SDK
};

LoadOutcome loadPlugin(const std::string& path);

}  // namespace switchboard::host
