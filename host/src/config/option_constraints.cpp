#include "config/option_constraints.h"

#include "config/parse_context.h"
#include "config/config.h"
#include "config/suggest.h"
#include "config/value_parsing.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <re2/re2.h>

#include <algorithm>
#include <optional>

namespace switchboard::host::config {

namespace {

// A bound as the option's converted values are: milliseconds for durations, a count for lists.
std::optional<double> boundValue(const OptionSpec& spec, const std::string& text) {
    switch (spec.type) {
        case SB_OPT_INT:
        case SB_OPT_STRING_LIST:
            if (auto n = parseInt64(text)) return static_cast<double>(*n);
            return std::nullopt;
        case SB_OPT_DOUBLE: return parseDouble(text);
        case SB_OPT_DURATION:
            if (auto ms = parseDurationMs(text)) return static_cast<double>(*ms);
            return std::nullopt;
        default: return std::nullopt;
    }
}

std::string boundsProblem(const OptionSpec& spec, double value, const std::string& what) {
    const auto& c = spec.constraints;
    const auto lo = c.min ? boundValue(spec, *c.min) : std::nullopt;
    const auto hi = c.max ? boundValue(spec, *c.max) : std::nullopt;
    if ((lo && value < *lo) || (hi && value > *hi)) {
        std::string range = lo && hi ? "between " + *c.min + " and " + *c.max
                            : lo     ? "at least " + *c.min
                                     : "at most " + *c.max;
        return what + " must be " + range;
    }
    return "";
}

bool isUrl(const std::string& text, bool httpOnly) {
    try {
        Poco::URI uri(text);
        if (uri.getScheme().empty() || uri.getHost().empty()) return false;
        return !httpOnly || uri.getScheme() == "http" || uri.getScheme() == "https";
    } catch (const Poco::Exception&) {
        return false;
    }
}

// local@domain with no space; the domain a host name or a [literal].
bool isEmailAddress(const std::string& text) {
    static const RE2 kAddrSpec(R"([^\s@]+@(\[[^\]\s]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*))");
    return RE2::FullMatch(text, kAddrSpec);
}

}  // namespace

std::string valueProblem(const OptionSpec& spec, const std::string& value, bool hidden) {
    const auto& c = spec.constraints;
    const std::string got = ", got " + showValue(value, hidden);
    if (!c.allowed.empty() && std::find(c.allowed.begin(), c.allowed.end(), value) == c.allowed.end()) {
        std::string message = "must be one of " + joinNames(c.allowed) + got;
        if (!hidden) {
            // The config's "did you mean" serves values too (sha-256 → sha256).
            if (auto nearest = suggestNearest(value, c.allowed)) message += " (did you mean '" + *nearest + "'?)";
        }
        return message;
    }
    if (!c.pattern.empty()) {
        RE2 re(c.pattern, RE2::Quiet);
        if (re.ok() && !RE2::FullMatch(value, re)) return "must match the pattern " + c.pattern + got;
    }
    if (c.format == SB_FORMAT_URL && !isUrl(value, false))
        return "must be an absolute URL with a scheme and a host (e.g. imaps://mail.example.com)" + got;
    if (c.format == SB_FORMAT_HTTP_URL && !isUrl(value, true))
        return "must be an absolute http:// or https:// URL" + got;
    if (c.format == SB_FORMAT_EMAIL && !isEmailAddress(value))
        return "must be an email address (local@domain)" + got;
    if ((c.min || c.max) && spec.type != SB_OPT_STRING_LIST) {
        // Converted ints and durations (ms) parse as doubles exactly enough for bounds.
        if (auto n = parseDouble(value)) {
            std::string p = boundsProblem(spec, *n, "the value");
            if (!p.empty()) return p + got;
        }
    }
    return "";
}

std::string listLengthProblem(const OptionSpec& spec, size_t count) {
    if (spec.type != SB_OPT_STRING_LIST || (!spec.constraints.min && !spec.constraints.max)) return "";
    std::string p = boundsProblem(spec, static_cast<double>(count), "the number of elements");
    return p.empty() ? "" : p + ", got " + std::to_string(count);
}

std::string boundProblem(const OptionSpec& spec) {
    for (const auto* bound : {&spec.constraints.min, &spec.constraints.max}) {
        if (*bound && !boundValue(spec, **bound))
            return "bound '" + **bound + "' is not a valid " +
                   (spec.type == SB_OPT_STRING_LIST ? std::string("count") : optionTypeName(spec.type));
    }
    return "";
}

}  // namespace switchboard::host::config
