// Reply and case text with a few placeholders filled in: {{customer.name}},
// {{customer.id}}, {{customer.attr.NAME}}, {{message.subject}}, {{message.text}},
// {{message.channel}}, {{message.connector}}, {{message.id}}, {{rule.name}},
// {{routing.queue}}, {{routing.team}}, {{routing.priority}}. Deliberately tiny: no logic,
// no escaping; an unknown name is a config error, a missing value renders as "".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host::routing {

using TemplateValues = std::map<std::string, std::string>;

// The reason text is not a valid template (unclosed "{{", unknown placeholder), or nullopt.
std::optional<std::string> templateError(std::string_view text);

// text with every {{name}} replaced by values[name] ("" when absent).
std::string renderTemplate(std::string_view text, const TemplateValues& values);

}  // namespace switchboard::host::routing
