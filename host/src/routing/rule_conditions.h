// One rule's `when`, compiled: RE2 patterns, a keyword matcher, business-hours calendars.
// Every condition is evaluated (not only up to the first miss) so the result explains each.
#pragma once

#include "config/routing_config.h"
#include "routing/business_hours.h"

#include <re2/re2.h>

#include <memory>
#include <string>
#include <vector>

namespace switchboard::host::routing {

struct RoutingInput;
struct ConditionResult;

class RuleConditions {
public:
    // hours: every calendar of the config, looked up by name. Throws std::invalid_argument
    // when a pattern does not compile or a calendar is missing.
    RuleConditions(const config::RuleConditions& when, const std::vector<BusinessHours>& hours);
    ~RuleConditions();
    RuleConditions(const RuleConditions&) = delete;
    RuleConditions& operator=(const RuleConditions&) = delete;

    // One result per configured condition; the rule matches when all matched (none: always).
    std::vector<ConditionResult> evaluate(const RoutingInput& input) const;

private:
    struct Pattern {
        std::string source;
        std::unique_ptr<RE2> re;
    };
    config::RuleConditions when_;
    std::vector<Pattern> text_;
    std::vector<Pattern> subject_;
    std::unique_ptr<RE2> keywords_;
    const BusinessHours* open_ = nullptr;
    const BusinessHours* closed_ = nullptr;
};

// "…" shortened to about max bytes on a UTF-8 boundary, for reasons.
std::string excerpt(const std::string& text, size_t max = 60);

}  // namespace switchboard::host::routing
