// The host's copy of a plugin's declared option schema (sb_option), owned by the host so it
// outlives nothing it should not. One declaration in the plugin drives validation, defaults
// and the generated option reference.
#pragma once

#include <switchboard/plugin.h>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::host {

struct OptionSpec {
    std::string name;
    sb_option_type type = SB_OPT_STRING;
    bool required = false;
    bool secret = false;
    std::optional<std::string> defaultValue;
    std::string description;
};

using OptionSchema = std::vector<OptionSpec>;

// "string", "int", "bool", "double", "duration", "list of strings".
const char* optionTypeName(sb_option_type type);

}  // namespace switchboard::host
