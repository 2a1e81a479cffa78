// The routing engine: evaluates the configured rules, in order, against one inbound
// interaction and says what should happen and why. The first matching rule wins unless it
// says `continue: true`; then later rules are evaluated too, fill queue, team and priority
// only where still unset, and add their tags and actions. Pure: no store, no sending —
// routing_stage.h applies an outcome, `switchboard routes test` prints one.
#pragma once

#include "config/routing_config.h"
#include "outbox/outbound_request.h"
#include "routing/business_hours.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::host::routing {

struct RoutingInput {
    int64_t messageId = 0;  // messages.id; 0 when testing a message that is not stored
    std::string customerId;
    std::string customerName;
    std::map<std::string, std::string> customerAttributes;  // surviving value per attribute
    std::string channel;
    std::string connector;  // the instance the message came in on
    std::string subject;
    std::string text;
    std::vector<std::string> identityTypes;  // types of the sender identities on the message
    int64_t atMs = 0;                        // when it happened (occurred, else received)
};

struct ConditionResult {
    std::string condition;  // "text ~ /(?i)card/"
    bool matched = false;
    std::string detail;  // "matched \"card\" in \"my card was stolen\""
};

struct RuleResult {
    std::string name;
    bool evaluated = false;  // false: disabled, or an earlier rule matched without continue
    bool matched = false;
    std::string note;  // why it was not evaluated
    std::vector<ConditionResult> conditions;
};

struct ActionResult {
    std::string rule;
    int index = 0;  // within the rule: replies, then cases, then forwards
    outbox::OutboundRequest request;
    std::string status = "planned";  // planned | accepted | refused
    std::string error;
    int64_t outboxId = 0;
};

struct RoutingOutcome {
    std::vector<RuleResult> rules;  // every rule, in config order
    std::vector<std::string> matchedRules;
    std::string queue;
    std::string team;
    std::string priority;
    std::vector<std::string> tags;
    std::vector<ActionResult> actions;
    int64_t atMs = 0;

    bool matched() const { return !matchedRules.empty(); }
    // Stored in messages.routing_json and shown in the timeline. Rules that were not
    // evaluated are left out unless withSkipped (the CLI's --json).
    nlohmann::json toJson(bool withSkipped = false) const;
};

class RoutingEngine {
public:
    // Throws std::invalid_argument on a pattern or time zone the config check let through.
    explicit RoutingEngine(const config::RoutingConfig& config);
    ~RoutingEngine();
    RoutingEngine(const RoutingEngine&) = delete;
    RoutingEngine& operator=(const RoutingEngine&) = delete;

    bool empty() const { return rules_.empty(); }
    RoutingOutcome evaluate(const RoutingInput& input) const;

private:
    struct CompiledRule;
    std::vector<BusinessHours> hours_;
    std::vector<std::unique_ptr<CompiledRule>> rules_;
};

}  // namespace switchboard::host::routing
