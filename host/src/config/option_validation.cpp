// Checks a connector's options against the schema its plugin declared, and turns them into
// the flat (name, value) list the plugin receives. The schema is the only description of
// a plugin's options: nothing here knows any particular plugin.
#include "config/config.h"
#include "config/option_constraints.h"
#include "config/parse_context.h"
#include "config/suggest.h"
#include "config/value_parsing.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace switchboard::host::config {

namespace {

// A value converted to the form the plugin receives, or what is wrong with it.
struct Converted {
    std::optional<std::string> value;
    std::string problem;  // "expects ...", without the value itself
};

Converted convertScalar(sb_option_type type, const std::string& text) {
    switch (type) {
        case SB_OPT_STRING:
        case SB_OPT_STRING_LIST:
            return {text, {}};
        case SB_OPT_INT:
            if (auto n = parseInt64(text)) return {std::to_string(*n), {}};
            return {std::nullopt, "expects an int (a whole signed 64-bit decimal number)"};
        case SB_OPT_BOOL:
            if (auto b = parseBool(text)) return {*b ? "true" : "false", {}};
            return {std::nullopt, "expects a bool: true or false (yes/no/on/off are not accepted)"};
        case SB_OPT_DOUBLE:
            if (parseDouble(text)) return {text, {}};
            return {std::nullopt, "expects a double (a decimal number such as 0.5 or 10)"};
        case SB_OPT_DURATION: {
            DurationError why = DurationError::None;
            if (auto ms = parseDurationMs(text, &why)) return {std::to_string(*ms), {}};
            if (why == DurationError::MissingUnit) {
                return {std::nullopt, "expects a duration, and a plain number has no unit: add ms, s, m or h "
                                      "(e.g. 30s or 500ms)"};
            }
            return {std::nullopt, "expects a duration: a whole number with a unit ms, s, m or h "
                                  "(e.g. 500ms, 30s, 5m, 1h)"};
        }
    }
    return {std::nullopt, "has an option type this host does not know"};
}

// A list option's default as the plugin wrote it: a YAML flow list "[a, b]" or one value.
std::optional<std::vector<std::string>> splitListDefault(const std::string& text) {
    try {
        YAML::Node node = YAML::Load(text);
        if (node.IsNull()) return std::vector<std::string>{};
        if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
        if (!node.IsSequence()) return std::nullopt;
        std::vector<std::string> items;
        for (const auto& item : node) {
            if (!item.IsScalar()) return std::nullopt;
            items.push_back(item.Scalar());
        }
        return items;
    } catch (const YAML::Exception&) {
        return std::nullopt;
    }
}

bool hasValue(const ResolvedOptions& options, const std::string& name) {
    for (const auto& entry : options.entries)
        if (entry.first == name) return true;
    return false;
}

// requires_options and one_of_group: rules between options, on what is set or defaulted.
template <typename Report>
void checkRelations(const ConnectorConfig& connector, const OptionSchema& schema, const ResolvedOptions& options,
                    Report& report) {
    std::vector<std::string> groupsDone;
    for (const auto& spec : schema) {
        if (hasValue(options, spec.name)) {
            const auto given = connector.options.find(spec.name);
            const SourceLocation& where = given != connector.options.end() ? given->second.where : connector.where;
            for (const auto& needed : spec.constraints.requires_)
                if (!hasValue(options, needed))
                    report(where, spec.name, "option '" + spec.name + "' needs option '" + needed + "' to be set too");
        }
        const std::string& group = spec.constraints.group;
        if (group.empty() || std::find(groupsDone.begin(), groupsDone.end(), group) != groupsDone.end()) continue;
        groupsDone.push_back(group);
        std::vector<std::string> members;
        bool any = false;
        for (const auto& other : schema) {
            if (other.constraints.group != group) continue;
            members.push_back(other.name);
            any = any || hasValue(options, other.name);
        }
        if (!any)
            report(connector.where, spec.name,
                   "one of the options " + joinNames(members) + " must be set (plugin '" + connector.plugin + "')");
    }
}

bool before(const ConfigError& a, const ConfigError& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
}

}  // namespace

void validateOptions(const ConnectorConfig& connector, const OptionSchema& schema, ResolvedOptions& out,
                     std::vector<ConfigError>& errors) {
    std::vector<ConfigError> found;
    auto report = [&](const SourceLocation& where, const std::string& name, std::string message) {
        found.push_back({where, connector.path + ".options." + name, std::move(message)});
    };

    std::vector<std::string> known;
    for (const auto& spec : schema) known.push_back(spec.name);
    for (const auto& [name, raw] : connector.options) {
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            report(raw.where, name, unknownNameMessage("option", name, known));
        }
    }

    ResolvedOptions result;
    for (const auto& spec : schema) {
        const std::string quoted = "option '" + spec.name + "' ";
        if (std::string bad = boundProblem(spec); !bad.empty()) {
            report(connector.where, spec.name,
                   "plugin '" + connector.plugin + "' declares an invalid " + bad + " for " + quoted +
                       "; report this to the plugin's authors");
            continue;
        }
        auto given = connector.options.find(spec.name);
        if (given == connector.options.end()) {
            if (spec.defaultValue) {
                // The plugin's own default goes through the same conversion (durations to ms).
                std::vector<std::string> items{*spec.defaultValue};
                if (spec.type == SB_OPT_STRING_LIST) {
                    items = splitListDefault(*spec.defaultValue).value_or(items);
                }
                for (const auto& item : items) {
                    Converted converted = convertScalar(spec.type, item);
                    if (converted.value && converted.problem.empty())
                        converted.problem = valueProblem(spec, *converted.value, spec.secret);
                    if (converted.value && converted.problem.empty()) {
                        result.entries.emplace_back(spec.name, *converted.value);
                    } else {
                        report(connector.where, spec.name,
                               "plugin '" + connector.plugin + "' declares an invalid default for " + quoted +
                                   "(" + converted.problem + "); report this to the plugin's authors");
                    }
                }
            } else if (spec.required) {
                std::string message = "required " + quoted + "(" + optionTypeName(spec.type) + ") is missing";
                if (!spec.description.empty()) message += ": " + spec.description;
                report(connector.where, spec.name, message);
            }
            continue;
        }

        const RawOption& raw = given->second;
        const bool hidden = spec.secret || raw.fromReference;
        if (!raw.isList && raw.values.empty()) {
            report(
                raw.where, spec.name,
                quoted + "has no value" + (spec.defaultValue ? " (remove the line to use the default)" : ""));
            continue;
        }
        if (spec.type == SB_OPT_STRING_LIST) {
            // A single value is a one-element list: "to: a@example.com" reads naturally.
            if (spec.required && raw.values.empty()) {
                report(raw.where, spec.name, "required " + quoted + "is an empty list");
            }
            if (std::string bad = listLengthProblem(spec, raw.values.size()); !bad.empty())
                report(raw.where, spec.name, quoted + bad);
            for (const auto& value : raw.values) {
                if (std::string bad = valueProblem(spec, value, hidden); !bad.empty())
                    report(raw.where, spec.name, quoted + "element " + bad);
                result.entries.emplace_back(spec.name, value);
            }
            continue;
        }
        if (raw.isList) {
            report(raw.where, spec.name,
                   quoted + "takes a single " + optionTypeName(spec.type) + ", got a list of " +
                       std::to_string(raw.values.size()) + " values");
            continue;
        }
        Converted converted = convertScalar(spec.type, raw.values.front());
        if (!converted.value) {
            report(raw.where, spec.name,
                   quoted + converted.problem + ", got " + showValue(raw.values.front(), hidden));
            continue;
        }
        if (std::string bad = valueProblem(spec, *converted.value, hidden); !bad.empty()) {
            report(raw.where, spec.name, quoted + bad);
            continue;
        }
        result.entries.emplace_back(spec.name, std::move(*converted.value));
    }
    checkRelations(connector, schema, result, report);

    if (found.empty()) {
        out = std::move(result);
        return;
    }
    std::stable_sort(found.begin(), found.end(), before);
    errors.insert(errors.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
}

}  // namespace switchboard::host::config
