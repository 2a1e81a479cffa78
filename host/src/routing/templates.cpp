#include "routing/templates.h"

#include <array>

namespace switchboard::host::routing {

namespace {

constexpr std::array<std::string_view, 11> kNames = {
    "customer.name", "customer.id",  "message.subject", "message.text",  "message.channel", "message.connector",
    "message.id",    "rule.name",    "routing.queue",   "routing.team",  "routing.priority"};
constexpr std::string_view kAttrPrefix = "customer.attr.";

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

bool knownName(std::string_view name) {
    if (name.starts_with(kAttrPrefix)) return name.size() > kAttrPrefix.size();
    for (auto n : kNames)
        if (n == name) return true;
    return false;
}

// Calls onText for literal runs and onName for each placeholder; false on an unclosed "{{".
template <typename Text, typename Name>
bool scan(std::string_view text, Text onText, Name onName) {
    size_t at = 0;
    while (at < text.size()) {
        size_t open = text.find("{{", at);
        if (open == std::string_view::npos) break;
        size_t close = text.find("}}", open + 2);
        if (close == std::string_view::npos) return false;
        onText(text.substr(at, open - at));
        onName(trim(text.substr(open + 2, close - open - 2)));
        at = close + 2;
    }
    onText(text.substr(std::min(at, text.size())));
    return true;
}

}  // namespace

std::optional<std::string> templateError(std::string_view text) {
    std::optional<std::string> error;
    bool closed = scan(
        text, [](std::string_view) {},
        [&](std::string_view name) {
            if (error || knownName(name)) return;
            error = "unknown placeholder {{" + std::string(name) +
                    "}} (known: customer.name, customer.id, customer.attr.NAME, message.subject, message.text, "
                    "message.channel, message.connector, message.id, rule.name, routing.queue, routing.team, "
                    "routing.priority)";
        });
    if (!closed) return std::string("a \"{{\" is not closed by \"}}\"");
    return error;
}

std::string renderTemplate(std::string_view text, const TemplateValues& values) {
    std::string out;
    bool closed = scan(
        text, [&](std::string_view literal) { out.append(literal); },
        [&](std::string_view name) {
            auto it = values.find(std::string(name));
            if (it != values.end()) out += it->second;
        });
    if (!closed) return std::string(text);  // refused at config load; never half-render
    return out;
}

}  // namespace switchboard::host::routing
