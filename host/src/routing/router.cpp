#include "routing/router.h"

#include "routing/rule_conditions.h"
#include "routing/templates.h"

#include <algorithm>

namespace switchboard::host::routing {

using nlohmann::json;

struct RoutingEngine::CompiledRule {
    config::RoutingRule rule;
    RuleConditions when;
    CompiledRule(const config::RoutingRule& r, const std::vector<BusinessHours>& hours) : rule(r), when(r.when, hours) {}
};

namespace {

TemplateValues templateValues(const RoutingInput& in, const RoutingOutcome& o, const std::string& rule) {
    TemplateValues v = {{"customer.name", in.customerName}, {"customer.id", in.customerId},
                        {"message.subject", in.subject},    {"message.text", in.text},
                        {"message.channel", in.channel},    {"message.connector", in.connector},
                        {"message.id", std::to_string(in.messageId)},
                        {"rule.name", rule},                {"routing.queue", o.queue},
                        {"routing.team", o.team},           {"routing.priority", o.priority}};
    for (const auto& [name, value] : in.customerAttributes) v["customer.attr." + name] = value;
    return v;
}

void fill(std::string& slot, const std::string& value) {
    if (slot.empty()) slot = value;  // an earlier matching rule keeps what it set
}

// The rule's actions as outbox requests; keys make a re-run of the same message enqueue nothing new.
void addActions(const config::RoutingRule& rule, const RoutingInput& in, RoutingOutcome& o) {
    const TemplateValues values = templateValues(in, o, rule.name);
    int index = 0;
    auto base = [&](const std::string& kind, const std::string& connector) {
        ActionResult a;
        a.rule = rule.name;
        a.index = index++;
        a.request.customerId = in.customerId;
        a.request.kind = kind;
        a.request.connector = connector;
        a.request.replyToMessageId = in.messageId;
        a.request.origin = "rule:" + rule.name;
        a.request.idempotencyKey =
            "rule:" + rule.name + ":" + std::to_string(in.messageId) + ":" + std::to_string(a.index);
        return a;
    };
    for (const auto& r : rule.then.replies) {
        ActionResult a = base("message", r.via);
        a.request.channel = r.channel;
        a.request.purpose = r.purpose;
        a.request.subject = renderTemplate(r.subject, values);
        a.request.text = renderTemplate(r.text, values);
        o.actions.push_back(std::move(a));
    }
    for (const auto& c : rule.then.cases) {
        ActionResult a = base("case", c.via);
        std::string subject = renderTemplate(c.subject.empty() ? "{{message.subject}}" : c.subject, values);
        a.request.subject = subject;
        a.request.text = in.text;
        a.request.attributes = {{"case.action", c.action},
                                {"case.queue", c.queue.empty() ? o.queue : c.queue},
                                {"case.priority", c.priority.empty() ? o.priority : c.priority},
                                {"case.subject", subject},
                                {"case.channel", in.channel}};
        if (!o.team.empty()) a.request.attributes.emplace_back("case.team", o.team);
        o.actions.push_back(std::move(a));
    }
    for (const auto& target : rule.then.forwards) {
        ActionResult a = base("forward", target);
        a.request.subject = in.subject;
        a.request.text = in.text;
        a.request.attributes = {{"forward.channel", in.channel}, {"forward.connector", in.connector}};
        o.actions.push_back(std::move(a));
    }
}

json conditionsJson(const std::vector<ConditionResult>& list) {
    json out = json::array();
    for (const auto& c : list) out.push_back({{"condition", c.condition}, {"matched", c.matched}, {"detail", c.detail}});
    return out;
}

}  // namespace

RoutingEngine::RoutingEngine(const config::RoutingConfig& config) {
    for (const auto& h : config.businessHours) hours_.emplace_back(h);
    for (const auto& r : config.rules) rules_.push_back(std::make_unique<CompiledRule>(r, hours_));
}

RoutingEngine::~RoutingEngine() = default;

RoutingOutcome RoutingEngine::evaluate(const RoutingInput& in) const {
    RoutingOutcome o;
    o.atMs = in.atMs;
    std::string stoppedBy;
    for (const auto& compiled : rules_) {
        const config::RoutingRule& rule = compiled->rule;
        RuleResult r;
        r.name = rule.name;
        if (!rule.enabled) {
            r.note = "disabled";
        } else if (!stoppedBy.empty()) {
            r.note = "not evaluated: rule '" + stoppedBy + "' matched first";
        } else {
            r.evaluated = true;
            r.conditions = compiled->when.evaluate(in);
            r.matched = std::all_of(r.conditions.begin(), r.conditions.end(), [](const auto& c) { return c.matched; });
        }
        if (r.matched) {
            o.matchedRules.push_back(rule.name);
            fill(o.queue, rule.then.queue);
            fill(o.team, rule.then.team);
            fill(o.priority, rule.then.priority);
            for (const auto& t : rule.then.tags)
                if (std::find(o.tags.begin(), o.tags.end(), t) == o.tags.end()) o.tags.push_back(t);
            addActions(rule, in, o);
            if (!rule.continueAfterMatch) stoppedBy = rule.name;
        }
        o.rules.push_back(std::move(r));
    }
    return o;
}

json RoutingOutcome::toJson(bool withSkipped) const {
    json rulesJson = json::array();
    for (const auto& r : rules) {
        if (!r.evaluated && !withSkipped) continue;
        json j = {{"rule", r.name}, {"evaluated", r.evaluated}, {"matched", r.matched}};
        if (r.evaluated) j["conditions"] = conditionsJson(r.conditions);
        else j["note"] = r.note;
        rulesJson.push_back(std::move(j));
    }
    json actionsJson = json::array();
    for (const auto& a : actions) {
        json attrs = json::object();
        for (const auto& [k, v] : a.request.attributes) attrs[k] = v;
        json j = {{"rule", a.rule},
                  {"index", a.index},
                  {"kind", a.request.kind},
                  {"connector", a.request.connector},
                  {"channel", a.request.channel},
                  {"purpose", a.request.purpose},
                  {"subject", a.request.subject},
                  {"text", a.request.text},
                  {"attributes", attrs},
                  {"idempotency_key", a.request.idempotencyKey},
                  {"status", a.status}};
        if (!a.error.empty()) j["error"] = a.error;
        if (a.outboxId != 0) j["outbox_id"] = a.outboxId;
        actionsJson.push_back(std::move(j));
    }
    auto nullable = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    return {{"matched", matched()},
            {"matched_rules", matchedRules},
            {"queue", nullable(queue)},
            {"team", nullable(team)},
            {"priority", nullable(priority)},
            {"tags", tags},
            {"actions", actionsJson},
            {"rules", rulesJson},
            {"evaluated_for_ms", atMs}};
}

}  // namespace switchboard::host::routing
