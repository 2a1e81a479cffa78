// Strict parsers for the scalar forms used in switchboard.yaml: the whole text must match,
// so "30s " or "1e3" is refused instead of being half-read. Shared by the host-level
// sections and plugin option validation, so the same spelling means the same thing in both.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard::host::config {

// A signed 64-bit decimal integer: optional '-', digits only.
std::optional<int64_t> parseInt64(std::string_view text);

// Exactly "true" or "false" (not yes/no/on/off: those surprise people in YAML 1.1 tools).
std::optional<bool> parseBool(std::string_view text);

// A finite decimal number as strtod reads it, with nothing left over.
std::optional<double> parseDouble(std::string_view text);

enum class DurationError { None, MissingUnit, Invalid };

// A non-negative whole number with a unit ms, s, m or h (500ms, 30s, 5m, 1h), in
// milliseconds. error says whether a unit was simply forgotten, to give a better hint.
std::optional<int64_t> parseDurationMs(std::string_view text, DurationError* error = nullptr);

// A positive byte count: plain digits, or digits with KiB, MiB or GiB ("1MiB", "512 KiB").
std::optional<uint64_t> parseByteSize(std::string_view text);

}  // namespace switchboard::host::config
