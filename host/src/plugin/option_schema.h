// The host's copy of a plugin's declared option schema (sb_option), owned by the host so it
// outlives nothing it should not. One declaration in the plugin drives validation, defaults,
// constraints and the generated option reference.
#pragma once

#include <switchboard/plugin.h>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::host {

// What a 1.4 plugin may require of a value beyond its type (see sb_option).
struct OptionConstraints {
    std::vector<std::string> allowed;  // exact values; empty: any
    std::string pattern;               // RE2, whole value; empty: any
    std::optional<std::string> min;    // as written in the schema ("500ms", "1")
    std::optional<std::string> max;
    sb_option_format format = SB_FORMAT_ANY;
    std::vector<std::string> requires_;  // options that must have a value when this one has
    std::string group;                   // one of the options in this group must have a value
};

struct OptionSpec {
    std::string name;
    sb_option_type type = SB_OPT_STRING;
    bool required = false;
    bool secret = false;
    std::optional<std::string> defaultValue;
    std::string description;
    OptionConstraints constraints;
};

using OptionSchema = std::vector<OptionSpec>;

// "string", "int", "bool", "double", "duration", "list of strings".
const char* optionTypeName(sb_option_type type);
// "URL", "http(s) URL", "email address"; "" for SB_FORMAT_ANY.
const char* optionFormatName(sb_option_format format);
// Splits "a|b|c" (or "a,b") into its non-empty parts, trimmed.
std::vector<std::string> splitOptionList(const char* text, char separator);

}  // namespace switchboard::host
