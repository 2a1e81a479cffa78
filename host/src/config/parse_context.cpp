#include "config/parse_context.h"

#include "config/references.h"
#include "config/suggest.h"

#include <algorithm>
#include <map>

namespace switchboard::host::config {

ParseContext::ParseContext(std::string file, std::filesystem::path baseDir)
    : file_(std::move(file)), baseDir_(std::move(baseDir)) {}

SourceLocation ParseContext::locate(const YAML::Mark& mark) const {
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};  // yaml-cpp counts from 0
}

void ParseContext::error(SourceLocation where, std::string path, std::string message) {
    errors_.push_back({std::move(where), std::move(path), std::move(message)});
}

std::vector<MapEntry> ParseContext::mapEntries(const YAML::Node& node, const std::string& path,
                                               const std::vector<std::string>& allowed) {
    std::vector<MapEntry> entries;
    if (!node.IsDefined() || node.IsNull()) return entries;
    if (!node.IsMap()) {
        std::string expected = allowed.empty() ? "a map" : "a map with keys " + joinNames(allowed);
        error(locate(node), path, "expects " + expected + ", got " + describeNode(node));
        return entries;
    }
    std::map<std::string, int> firstLine;
    for (const auto& pair : node) {
        const YAML::Node& key = pair.first;
        if (!key.IsScalar()) {
            error(locate(key), path, "a key must be a plain name, got " + describeNode(key));
            continue;
        }
        std::string name = key.Scalar();
        std::string childPath = path.empty() ? name : path + "." + name;
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            error(locate(key), childPath, unknownNameMessage("key", name, allowed));
            continue;
        }
        auto [it, inserted] = firstLine.emplace(name, locate(key).line);
        if (!inserted) {
            error(locate(key), childPath,
                  "'" + name + "' is set twice (first at line " + std::to_string(it->second) + ")");
            continue;
        }
        entries.push_back({name, key, pair.second, childPath});
    }
    return entries;
}

std::optional<ScalarValue> ParseContext::scalar(const MapEntry& entry, const std::string& what) {
    // A null value ("key:" with nothing after it) has no useful mark of its own: use the key's.
    SourceLocation where = entry.value.IsNull() ? locate(entry.keyNode) : locate(entry.value);
    return scalar(entry.value, where, entry.path, what);
}

std::optional<ScalarValue> ParseContext::scalar(const YAML::Node& node, const SourceLocation& where,
                                                const std::string& path, const std::string& what) {
    if (!node.IsScalar()) {
        error(where, path, "expects " + what + ", got " + describeNode(node));
        return std::nullopt;
    }
    ResolvedText resolved = resolveReferences(node.Scalar(), baseDir_);
    for (auto& message : resolved.errors) error(where, path, std::move(message));
    if (!resolved.errors.empty()) return std::nullopt;
    return ScalarValue{std::move(resolved.value), resolved.fromReference, where};
}

std::vector<std::pair<YAML::Node, std::string>> ParseContext::listItems(const MapEntry& entry) const {
    std::vector<std::pair<YAML::Node, std::string>> items;
    if (entry.value.IsSequence()) {
        for (size_t i = 0; i < entry.value.size(); ++i)
            items.emplace_back(entry.value[i], entry.path + "[" + std::to_string(i) + "]");
    } else if (!entry.value.IsNull()) {
        items.emplace_back(entry.value, entry.path);
    }
    return items;
}

std::string ParseContext::resolvePath(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative()) p = baseDir_ / p;
    return p.lexically_normal().string();
}

std::string describeNode(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return "nothing";
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return "a single value";
}

std::string showValue(const std::string& text, bool hidden) {
    return hidden ? std::string("(value hidden)") : "'" + text + "'";
}

}  // namespace switchboard::host::config
