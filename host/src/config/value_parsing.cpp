#include "config/value_parsing.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace switchboard::host::config {

namespace {

bool allDigits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::optional<uint64_t> parseUnsigned(std::string_view digits) {
    if (!allDigits(digits)) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<int64_t> parseInt64(std::string_view text) {
    std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
    if (!allDigits(digits)) return std::nullopt;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<bool> parseBool(std::string_view text) {
    if (text == "true") return true;
    if (text == "false") return false;
    return std::nullopt;
}

std::optional<double> parseDouble(std::string_view text) {
    // strtod skips leading blanks and accepts "inf"/"nan"/hex: refuse those up front.
    if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' &&
            c != 'E') {
            return std::nullopt;
        }
    }
    std::string copy(text);
    char* end = nullptr;
    double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::optional<int64_t> parseDurationMs(std::string_view text, DurationError* error) {
    auto fail = [&](DurationError why) -> std::optional<int64_t> {
        if (error != nullptr) *error = why;
        return std::nullopt;
    };
    if (error != nullptr) *error = DurationError::None;
    size_t unitStart = 0;
    while (unitStart < text.size() && text[unitStart] >= '0' && text[unitStart] <= '9') ++unitStart;
    std::string_view number = text.substr(0, unitStart);
    std::string_view unit = text.substr(unitStart);
    if (number.empty()) return fail(DurationError::Invalid);
    if (unit.empty()) return fail(DurationError::MissingUnit);

    uint64_t factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60 * 1000;
    else if (unit == "h") factor = 60 * 60 * 1000;
    else return fail(DurationError::Invalid);

    auto count = parseUnsigned(number);
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (!count || *count > kMax / factor) return fail(DurationError::Invalid);
    return static_cast<int64_t>(*count * factor);
}

std::optional<uint64_t> parseByteSize(std::string_view text) {
    size_t unitStart = 0;
    while (unitStart < text.size() && text[unitStart] >= '0' && text[unitStart] <= '9') ++unitStart;
    std::string_view number = text.substr(0, unitStart);
    std::string_view unit = text.substr(unitStart);
    if (unit.starts_with(' ')) {
        unit.remove_prefix(1);
        if (unit.empty()) return std::nullopt;
    }

    uint64_t factor = 0;
    if (unit.empty()) factor = 1;
    else if (unit == "KiB") factor = uint64_t{1} << 10;
    else if (unit == "MiB") factor = uint64_t{1} << 20;
    else if (unit == "GiB") factor = uint64_t{1} << 30;
    else return std::nullopt;

    auto count = parseUnsigned(number);
    if (!count || *count == 0 || *count > std::numeric_limits<uint64_t>::max() / factor) return std::nullopt;
    return *count * factor;
}

}  // namespace switchboard::host::config
