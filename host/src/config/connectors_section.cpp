// connectors: the plugin instances to run. Options are only collected here; they are
// checked against the plugin's schema by validateOptions once the plugin is loaded.
#include "config/parse_context.h"
#include "config/value_parsing.h"

#include <map>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kConnectorKeys = {"name", "plugin", "enabled", "webhooks", "options"};

bool validInstanceName(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
        if (!ok) return false;
    }
    return true;
}

bool validPluginName(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    return true;
}

void parseOptions(ParseContext& ctx, const MapEntry& section, ConnectorConfig& connector) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {})) {
        RawOption option;
        const YAML::Node& value = entry.value;
        if (value.IsNull()) {
            option.where = ctx.locate(entry.keyNode);  // kept without values: validation says what is wrong
        } else if (value.IsMap()) {
            ctx.error(ctx.locate(value), entry.path,
                      "a nested map is not supported as an option value (use a single value or a list)");
            continue;
        } else if (value.IsScalar()) {
            auto scalar = ctx.scalar(entry);
            if (!scalar) continue;
            option.values.push_back(std::move(scalar->text));
            option.fromReference = scalar->fromReference;
            option.where = scalar->where;
        } else {
            option.isList = true;
            option.where = ctx.locate(value);
            bool ok = true;
            for (size_t i = 0; i < value.size(); ++i) {
                const YAML::Node& item = value[i];
                auto scalar = ctx.scalar(item, ctx.locate(item), entry.path + "[" + std::to_string(i) + "]",
                                         "a single value (lists of maps or lists are not supported)");
                if (!scalar) {
                    ok = false;
                    continue;
                }
                option.values.push_back(std::move(scalar->text));
                option.fromReference = option.fromReference || scalar->fromReference;
            }
            if (!ok) continue;
        }
        connector.options.emplace(entry.key, std::move(option));
    }
}

// webhooks: {concurrency, queue, timeout}, overriding server.webhook_* for this instance.
void parseWebhookOverrides(ParseContext& ctx, const MapEntry& section, ConnectorConfig& connector) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {"concurrency", "queue", "timeout"})) {
        auto value = ctx.scalar(entry);
        if (!value) continue;
        if (entry.key == "concurrency") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 1, 1024))
                connector.webhooks.concurrency = static_cast<unsigned>(*n);
        } else if (entry.key == "queue") {
            if (auto n = parseWholeNumber(ctx, *value, entry.path, 0, 100000))
                connector.webhooks.queue = static_cast<unsigned>(*n);
        } else if (auto ms = parseTimeoutMs(ctx, *value, entry.path)) {
            connector.webhooks.timeoutMs = *ms;
        }
    }
}

}  // namespace

void parseConnectors(ParseContext& ctx, const MapEntry& section, std::vector<ConnectorConfig>& connectors) {
    const YAML::Node& list = section.value;
    if (list.IsNull()) return;
    if (!list.IsSequence()) {
        ctx.error(
            ctx.locate(list), section.path,
            "expects a list of connectors (each entry starting '- name: ...'), got " + describeNode(list));
        return;
    }
    struct FirstUse {
        std::string path;
        int line;
    };
    std::map<std::string, FirstUse> seen;
    for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node& node = list[i];
        ConnectorConfig connector;
        connector.path = section.path + "[" + std::to_string(i) + "]";
        connector.where = ctx.locate(node);
        if (!node.IsMap()) {
            ctx.error(connector.where, connector.path,
                      "expects a map with keys name, plugin, enabled, webhooks, options; got " + describeNode(node));
            continue;
        }
        const size_t errorsBefore = ctx.errors().size();
        bool nameGiven = false;
        bool pluginGiven = false;
        for (const MapEntry& entry : ctx.mapEntries(node, connector.path, kConnectorKeys)) {
            if (entry.key == "options") {
                parseOptions(ctx, entry, connector);
                continue;
            }
            if (entry.key == "webhooks") {
                parseWebhookOverrides(ctx, entry, connector);
                continue;
            }
            auto value = ctx.scalar(entry);
            if (entry.key == "name") nameGiven = true;
            if (entry.key == "plugin") pluginGiven = true;
            if (!value) continue;
            const std::string shown = showValue(value->text, value->fromReference);
            if (entry.key == "name") {
                if (!validInstanceName(value->text)) {
                    ctx.error(value->where, entry.path,
                              "instance name " + shown +
                                  " is invalid: use 1 to 63 lower-case letters, digits, '-' "
                                  "or '_', starting with a letter or digit");
                } else if (auto [it, inserted] =
                               seen.emplace(value->text, FirstUse{connector.path, value->where.line});
                           !inserted) {
                    ctx.error(value->where, entry.path,
                              "connector name " + shown + " is used twice: by " + it->second.path +
                                  " at line " + std::to_string(it->second.line) + " and by " +
                                  connector.path + " at line " + std::to_string(value->where.line));
                }
                connector.name = value->text;
            } else if (entry.key == "plugin") {
                if (!validPluginName(value->text)) {
                    ctx.error(value->where, entry.path,
                              "plugin name " + shown +
                                  " is invalid: plugin names are lower-case letters, digits, "
                                  "'-' and '_' (see `switchboard plugins list`)");
                }
                connector.plugin = value->text;
            } else if (entry.key == "enabled") {
                auto enabled = parseBool(value->text);
                if (!enabled) {
                    ctx.error(value->where, entry.path,
                              "expects true or false (yes/no/on/off are not accepted), got " + shown);
                } else {
                    connector.enabled = *enabled;
                }
            }
        }
        if (!nameGiven) ctx.error(connector.where, connector.path, "the required key 'name' is missing");
        if (!pluginGiven) ctx.error(connector.where, connector.path, "the required key 'plugin' is missing");
        if (ctx.errors().size() == errorsBefore) connectors.push_back(std::move(connector));
    }
}

}  // namespace switchboard::host::config
