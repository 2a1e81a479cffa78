// What every section parser of switchboard.yaml shares: where errors go, how a YAML node
// becomes a location, and the checks every map and scalar gets (unknown and repeated keys,
// references resolved).
#pragma once

#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::host::config {

// A scalar with its ${...} references resolved.
struct ScalarValue {
    std::string text;
    bool fromReference = false;
    SourceLocation where;
};

// One key of a YAML map, in file order.
struct MapEntry {
    std::string key;
    YAML::Node keyNode;
    YAML::Node value;
    std::string path;  // parent path + "." + key
};

class ParseContext {
public:
    ParseContext(std::string file, std::filesystem::path baseDir);

    const std::string& file() const { return file_; }
    SourceLocation locate(const YAML::Mark& mark) const;
    SourceLocation locate(const YAML::Node& node) const { return locate(node.Mark()); }

    void error(SourceLocation where, std::string path, std::string message);
    std::vector<ConfigError>& errors() { return errors_; }

    // The entries of a map node; a null node counts as an empty map. Reports a node that
    // is not a map, a key that is not a plain string, a key set twice and, unless allowed
    // is empty, a key not in allowed ("did you mean"). Only good entries are returned.
    std::vector<MapEntry> mapEntries(const YAML::Node& node, const std::string& path,
                                     const std::vector<std::string>& allowed);

    // A scalar with references resolved; reports a null, sequence or map (what names the
    // expected value, e.g. "a string") and any bad reference, and returns nullopt then.
    std::optional<ScalarValue> scalar(const MapEntry& entry, const std::string& what = "a single value");
    std::optional<ScalarValue> scalar(const YAML::Node& node, const SourceLocation& where,
                                      const std::string& path, const std::string& what = "a single value");

    // The items of a list value, each with its path ("key[i]"); a single scalar counts as a
    // list of one (people write one directory or address without the brackets), null as none.
    std::vector<std::pair<YAML::Node, std::string>> listItems(const MapEntry& entry) const;
    // A relative path made absolute against the config file's directory.
    std::string resolvePath(const std::string& path) const;
    const std::filesystem::path& baseDir() const { return baseDir_; }

private:
    std::string file_;
    std::filesystem::path baseDir_;
    std::vector<ConfigError> errors_;
};

// "a map", "a list", "a string", "nothing": for "expects X, got Y" messages.
std::string describeNode(const YAML::Node& node);

// "'value'", or "(value hidden)" when the text must not be echoed.
std::string showValue(const std::string& text, bool hidden);

// Section parsers, one file each; they fill config and report into ctx.
void parseServer(ParseContext& ctx, const MapEntry& section, ServerConfig& server);
void parseStore(ParseContext& ctx, const MapEntry& section, StoreConfig& store);
void parsePlugins(ParseContext& ctx, const MapEntry& section, std::vector<std::string>& pluginPaths);
void parseLog(ParseContext& ctx, const MapEntry& section, LogConfig& log);
void parseIdentity(ParseContext& ctx, const MapEntry& section, IdentityConfig& identity);
void parseThreading(ParseContext& ctx, const MapEntry& section, ThreadingConfig& threading);
void parseRouting(ParseContext& ctx, const MapEntry& section, RoutingConfig& routing);
void parseOutbox(ParseContext& ctx, const MapEntry& section, OutboxConfig& outbox);
void parseConnectors(ParseContext& ctx, const MapEntry& section, std::vector<ConnectorConfig>& connectors);

// Checked scalars shared by the sections (server_section.cpp): each reports its own error,
// naming the accepted range, and returns nullopt then.
std::optional<int64_t> parseWholeNumber(ParseContext& ctx, const ScalarValue& value, const std::string& path,
                                        int64_t min, int64_t max);
// A positive duration of at most a day, in milliseconds.
std::optional<int64_t> parseTimeoutMs(ParseContext& ctx, const ScalarValue& value, const std::string& path);
std::optional<uint64_t> parseBytes(ParseContext& ctx, const ScalarValue& value, const std::string& path,
                                   uint64_t min);

}  // namespace switchboard::host::config
