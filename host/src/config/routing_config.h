// routing: rules evaluated for each inbound interaction (config/README.md, "routing").
// Plain values as written in switchboard.yaml, already checked at load (patterns compile
// as RE2, time zones load, times and dates parse, connectors named by actions exist);
// routing/router.h compiles them into an engine.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host::config {

struct SourceLocation;
struct ConfigError;
struct ConnectorConfig;

// Opening hours in one time zone: local wall-clock intervals per weekday, closed on holidays.
struct BusinessHoursConfig {
    std::string name;
    std::string timeZone;  // IANA name, e.g. Europe/Lisbon
    // weekday 0 = Monday .. 6 = Sunday → [start, end) in minutes after local midnight (end ≤ 1440).
    std::map<int, std::vector<std::pair<int, int>>> open;
    std::vector<std::string> holidays;  // local dates YYYY-MM-DD

    bool operator==(const BusinessHoursConfig&) const = default;
};

// A customer attribute test: any of values (case-insensitive), or a numeric comparison.
struct AttributeCondition {
    std::string name;
    std::vector<std::string> anyOf;
    std::string op;  // "", ">", ">=", "<", "<=" (with number)
    double number = 0;

    bool operator==(const AttributeCondition&) const = default;
};

// All set conditions must hold; a list means "any of". Empty: the rule matches everything.
struct RuleConditions {
    std::vector<std::string> channels;
    std::vector<std::string> connectors;
    std::vector<std::string> textPatterns;     // RE2, any of, searched in the text
    std::vector<std::string> subjectPatterns;  // RE2, any of, searched in the subject
    std::vector<std::string> keywords;         // whole words or phrases, case-insensitive
    std::vector<AttributeCondition> customer;
    std::vector<std::string> identities;  // identity types, any of present on the message
    std::string businessHours;            // open in these hours
    std::string outsideBusinessHours;     // closed in these hours

    bool operator==(const RuleConditions&) const = default;
};

// A message sent by a rule: a reply or confirmation to the customer, or a forward.
struct MessageAction {
    std::string via;      // sink connector instance
    std::string channel;  // or a channel; both empty: the channel the message came in on
    std::string subject;  // templates (routing/templates.h)
    std::string text;
    std::string purpose = "service";

    bool operator==(const MessageAction&) const = default;
};

struct CaseAction {
    std::string via;  // CRM sink connector instance
    std::string action = "create";  // create | update
    std::string queue;              // default: the rule's queue
    std::string priority;           // default: the rule's priority
    std::string subject;            // template; default: the message's subject

    bool operator==(const CaseAction&) const = default;
};

struct RuleActions {
    std::string queue;
    std::string team;
    std::vector<std::string> tags;
    std::string priority;  // urgent | high | normal | low | an integer
    std::vector<MessageAction> replies;
    std::vector<CaseAction> cases;
    std::vector<std::string> forwards;  // sink connector instances

    bool operator==(const RuleActions&) const = default;
};

struct RoutingRule {
    std::string name;
    bool enabled = true;
    RuleConditions when;
    RuleActions then;
    bool continueAfterMatch = false;

    bool operator==(const RoutingRule&) const = default;
};

// Where an action names a connector instance, checked against connectors: once all is read.
struct ConnectorReference {
    std::string name;
    std::string path;
    std::string file;
    int line = 0;
    int column = 0;

    bool operator==(const ConnectorReference&) const = default;
};

struct RoutingConfig {
    std::vector<BusinessHoursConfig> businessHours;
    std::vector<RoutingRule> rules;
    std::vector<ConnectorReference> connectorReferences;

    bool operator==(const RoutingConfig&) const = default;
};

// Errors for actions naming a connector instance that is not in connectors:.
std::vector<ConfigError> checkRoutingConnectors(const RoutingConfig& routing,
                                                const std::vector<ConnectorConfig>& connectors);

}  // namespace switchboard::host::config
