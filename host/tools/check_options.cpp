#include "check_options.h"

#include <map>

namespace switchboard::plugincheck {

namespace {

// A value of the right type for a required option the user did not give.
std::string dummyValue(const host::OptionSpec& o) {
    switch (o.type) {
        case SB_OPT_INT: return "1";
        case SB_OPT_BOOL: return "false";
        case SB_OPT_DOUBLE: return "1.5";
        case SB_OPT_DURATION: return "1s";
        default: return "plugin-check-" + o.name;
    }
}

}  // namespace

std::vector<std::string> buildCheckConfig(const host::LoadedPlugin& plugin,
                                          const std::vector<std::pair<std::string, std::string>>& given,
                                          CheckConfig& out) {
    std::map<std::string, std::vector<std::string>> values;
    for (const auto& [name, value] : given) values[name].push_back(value);

    std::vector<std::string> errors;
    auto& c = out.connector;
    c.name = "plugin-check";
    c.plugin = plugin.name();
    c.path = "connectors[0]";
    c.where.file = "(plugin-check)";
    for (const auto& o : plugin.schema()) {
        host::config::RawOption raw;
        raw.isList = o.type == SB_OPT_STRING_LIST;
        if (auto it = values.find(o.name); it != values.end()) {
            if (!raw.isList && it->second.size() > 1)
                errors.push_back("--option " + o.name + " is given " + std::to_string(it->second.size()) +
                                 " times; only a list option may repeat");
            raw.values = it->second;
            if (o.secret)
                for (const auto& v : it->second) out.secretValues.push_back(v);
        } else if (o.defaultValue) {
            raw.values = {*o.defaultValue};
        } else if (o.required) {
            DummyOption d{o.name, dummyValue(o), o.secret};
            raw.values = {d.value};
            if (d.secret) out.secretValues.push_back(d.value);
            out.dummies.push_back(std::move(d));
        } else {
            continue;
        }
        c.options[o.name] = std::move(raw);
    }
    // Unknown names go through too: the host's validation names them and suggests the nearest.
    for (const auto& [name, v] : values)
        if (!c.options.count(name)) c.options[name] = host::config::RawOption{v, v.size() > 1, false, {}};
    return errors;
}

std::string describeDummy(const DummyOption& d) {
    return d.name + " = " + (d.secret ? std::string("*** (secret)") : d.value);
}

std::string withoutSecrets(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
            text.replace(at, secret.size(), "***");
    }
    return text;
}

}  // namespace switchboard::plugincheck
