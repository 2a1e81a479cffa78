// The constraints a 1.4 plugin declares on its options (sb_option: allowed values, pattern,
// bounds, format, requires, one-of groups), checked on the values validateOptions converted.
// One implementation for check-config and run: both go through validateOptions.
#pragma once

#include "plugin/option_schema.h"

#include <string>
#include <vector>

namespace switchboard::host::config {

// What is wrong with one converted value of spec (an element, for a list), without the
// value itself when hidden; "" when it satisfies every constraint.
std::string valueProblem(const OptionSpec& spec, const std::string& value, bool hidden);
// What is wrong with the number of elements of a list option; "" when within bounds.
std::string listLengthProblem(const OptionSpec& spec, size_t count);
// A bound the plugin declared that does not parse as the option's type ("" when fine).
std::string boundProblem(const OptionSpec& spec);

}  // namespace switchboard::host::config
