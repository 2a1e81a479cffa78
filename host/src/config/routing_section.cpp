// routing: business-hours calendars and the rules evaluated for each inbound interaction.
// Everything a rule could trip on at run time is checked here, all errors at once: RE2
// patterns compile, time zones load, times and dates are real, templates use known
// placeholders, calendars named by rules exist (connectors: checkRoutingConnectors).
#include "config/parse_context.h"
#include "config/suggest.h"
#include "config/value_parsing.h"
#include "routing/business_hours.h"
#include "routing/templates.h"

#include <absl/time/time.h>
#include <re2/re2.h>

#include <algorithm>
#include <set>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kRoutingKeys = {"business_hours", "rules"};
const std::vector<std::string> kHoursKeys = {"time_zone", "open", "holidays"};
const std::vector<std::string> kRuleKeys = {"name", "enabled", "when", "then", "continue"};
const std::vector<std::string> kWhenKeys = {"channel",  "connector",  "text",           "subject",
                                            "keywords", "customer",   "identities",     "business_hours",
                                            "outside_business_hours"};
const std::vector<std::string> kThenKeys = {"queue", "team", "tags", "priority", "reply", "case", "forward"};
const std::vector<std::string> kReplyKeys = {"via", "channel", "subject", "text", "purpose"};
const std::vector<std::string> kCaseKeys = {"via", "action", "queue", "priority", "subject"};
const std::vector<std::string> kPriorities = {"urgent", "high", "normal", "low"};
const std::vector<std::string> kIdentityTypes = {"email", "phone", "external"};

std::string at(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

bool validRuleName(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
        if (!ok) return false;
    }
    return true;
}

// A scalar or a list of scalars.
std::vector<ScalarValue> scalars(ParseContext& ctx, const MapEntry& entry, const std::string& what) {
    std::vector<ScalarValue> out;
    if (entry.value.IsSequence()) {
        if (entry.value.size() == 0) ctx.error(ctx.locate(entry.value), entry.path, "expects " + what + ", got an empty list");
        for (size_t i = 0; i < entry.value.size(); ++i)
            if (auto v = ctx.scalar(entry.value[i], ctx.locate(entry.value[i]), at(entry.path, i), what))
                out.push_back(*v);
    } else if (auto v = ctx.scalar(entry, what)) {
        out.push_back(*v);
    }
    return out;
}

std::vector<std::string> texts(const std::vector<ScalarValue>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) out.push_back(v.text);
    return out;
}

// A list entry's node as a MapEntry, so its keys get the usual checks and locations.
MapEntry element(const MapEntry& parent, size_t i) {
    return {parent.key, parent.keyNode, parent.value[i], at(parent.path, i)};
}

// A map or a list of maps: each element.
std::vector<MapEntry> oneOrMany(const MapEntry& entry) {
    std::vector<MapEntry> out;
    if (!entry.value.IsSequence()) return {entry};
    for (size_t i = 0; i < entry.value.size(); ++i) out.push_back(element(entry, i));
    return out;
}

class RoutingParser {
public:
    RoutingParser(ParseContext& ctx, RoutingConfig& routing) : ctx_(ctx), routing_(routing) {}

    void businessHours(const MapEntry& section) {
        for (const MapEntry& entry : ctx_.mapEntries(section.value, section.path, {})) {
            BusinessHoursConfig hours;
            hours.name = entry.key;
            bool zoneGiven = false;
            for (const MapEntry& key : ctx_.mapEntries(entry.value, entry.path, kHoursKeys)) {
                if (key.key == "time_zone") {
                    zoneGiven = true;
                    auto v = ctx_.scalar(key, "an IANA time zone such as Europe/Lisbon");
                    if (!v) continue;
                    absl::TimeZone tz;
                    if (v->text.empty() || !absl::LoadTimeZone(v->text, &tz))
                        ctx_.error(v->where, key.path,
                                   "unknown time zone " + showValue(v->text, v->fromReference) +
                                       ": use an IANA name from /usr/share/zoneinfo such as Europe/Lisbon, "
                                       "America/New_York or UTC");
                    else hours.timeZone = v->text;
                } else if (key.key == "open") {
                    openHours(key, hours);
                } else {
                    for (const auto& v : scalars(ctx_, key, "a list of dates YYYY-MM-DD")) {
                        if (routing::isValidDate(v.text)) hours.holidays.push_back(v.text);
                        else ctx_.error(v.where, key.path, "expects a date YYYY-MM-DD such as 2026-12-25, got " +
                                                               showValue(v.text, v.fromReference));
                    }
                }
            }
            if (!zoneGiven)
                ctx_.error(ctx_.locate(entry.keyNode), entry.path,
                           "time_zone is required (e.g. time_zone: Europe/Lisbon)");
            hoursNames_.push_back(entry.key);
            routing_.businessHours.push_back(std::move(hours));
        }
    }

    void rules(const MapEntry& section) {
        if (!section.value.IsSequence()) {
            if (!section.value.IsNull())
                ctx_.error(ctx_.locate(section.value), section.path,
                           "expects a list of rules (each entry starting '- name: ...'), got " +
                               describeNode(section.value));
            return;
        }
        std::map<std::string, std::string> seen;  // name → path
        for (size_t i = 0; i < section.value.size(); ++i) {
            MapEntry e = element(section, i);
            RoutingRule rule;
            bool named = false;
            for (const MapEntry& key : ctx_.mapEntries(e.value, e.path, kRuleKeys)) {
                if (key.key == "name") {
                    named = true;
                    auto v = ctx_.scalar(key, "a rule name");
                    if (!v) continue;
                    if (!validRuleName(v->text)) {
                        ctx_.error(v->where, key.path,
                                   "rule name " + showValue(v->text, v->fromReference) +
                                       " must be lower-case letters, digits, '-' or '_' (at most 63), "
                                       "starting with a letter or digit");
                    } else if (auto [it, fresh] = seen.emplace(v->text, e.path); !fresh) {
                        ctx_.error(v->where, key.path, "rule name '" + v->text + "' is used twice: by " + it->second +
                                                           " and " + e.path);
                    }
                    rule.name = v->text;
                } else if (key.key == "enabled" || key.key == "continue") {
                    auto v = ctx_.scalar(key, "true or false");
                    if (!v) continue;
                    auto b = parseBool(v->text);
                    if (!b) ctx_.error(v->where, key.path, "expects true or false, got " + showValue(v->text, v->fromReference));
                    else (key.key == "enabled" ? rule.enabled : rule.continueAfterMatch) = *b;
                } else if (key.key == "when") {
                    when(key, rule.when);
                } else {
                    then(key, rule.then);
                }
            }
            if (!named && e.value.IsMap())
                ctx_.error(ctx_.locate(e.value), e.path, "name is required: every rule needs a name (e.g. name: coupons)");
            routing_.rules.push_back(std::move(rule));
        }
    }

    // Calendars may be declared after the rules that use them: checked once both are read.
    void checkCalendars() {
        for (const auto& [name, where, path] : hoursUses_) {
            if (std::find(hoursNames_.begin(), hoursNames_.end(), name) != hoursNames_.end()) continue;
            ctx_.error(where, path,
                       hoursNames_.empty()
                           ? "no business hours named '" + name + "': declare it under routing.business_hours"
                           : unknownNameMessage("business hours", name, hoursNames_, "declared in routing.business_hours"));
        }
    }

private:
    void openHours(const MapEntry& key, BusinessHoursConfig& hours) {
        std::map<int, std::string> dayPath;
        for (const MapEntry& days : ctx_.mapEntries(key.value, key.path, {})) {
            auto list = routing::parseWeekdays(days.key);
            if (!list) {
                ctx_.error(ctx_.locate(days.keyNode), days.path,
                           "expects weekdays such as mon, mon-fri or sat,sun (mon tue wed thu fri sat sun), got '" +
                               days.key + "'");
                continue;
            }
            std::vector<std::pair<int, int>> intervals;
            bool closed = false;
            for (const auto& v : scalars(ctx_, days, "an interval such as 09:00-18:00, a list of them, or closed")) {
                if (v.text == "closed") {
                    closed = true;
                    continue;
                }
                std::string why;
                if (auto iv = routing::parseInterval(v.text, &why)) intervals.push_back(*iv);
                else ctx_.error(v.where, days.path, why + ", got " + showValue(v.text, v.fromReference));
            }
            std::sort(intervals.begin(), intervals.end());
            for (size_t i = 1; i < intervals.size(); ++i)
                if (intervals[i].first < intervals[i - 1].second)
                    ctx_.error(ctx_.locate(days.value), days.path, "intervals overlap");
            if (closed && !intervals.empty())
                ctx_.error(ctx_.locate(days.value), days.path, "a day is either closed or has intervals, not both");
            for (int d : *list) {
                if (auto [it, fresh] = dayPath.emplace(d, days.path); !fresh) {
                    ctx_.error(ctx_.locate(days.keyNode), days.path,
                               "weekday '" + std::string(days.key) + "' overlaps " + it->second);
                    continue;
                }
                hours.open[d] = intervals;
            }
        }
    }

    void patterns(const MapEntry& key, std::vector<std::string>& out) {
        for (const auto& v : scalars(ctx_, key, "an RE2 regular expression or a list of them")) {
            RE2::Options options;
            options.set_log_errors(false);
            RE2 re(v.text, options);
            if (!re.ok()) ctx_.error(v.where, key.path, "invalid RE2 pattern " + showValue(v.text, v.fromReference) + ": " + re.error());
            else out.push_back(v.text);
        }
    }

    void when(const MapEntry& section, RuleConditions& c) {
        for (const MapEntry& key : ctx_.mapEntries(section.value, section.path, kWhenKeys)) {
            if (key.key == "channel") c.channels = texts(scalars(ctx_, key, "a channel or a list of channels"));
            else if (key.key == "connector") c.connectors = texts(scalars(ctx_, key, "a connector instance or a list of them"));
            else if (key.key == "text") patterns(key, c.textPatterns);
            else if (key.key == "subject") patterns(key, c.subjectPatterns);
            else if (key.key == "keywords") {
                for (const auto& v : scalars(ctx_, key, "a keyword or a list of keywords")) {
                    if (v.text.find_first_not_of(" \t") == std::string::npos)
                        ctx_.error(v.where, key.path, "a keyword cannot be empty");
                    else c.keywords.push_back(v.text);
                }
            } else if (key.key == "identities") {
                for (const auto& v : scalars(ctx_, key, "identity types (email, phone, external)")) {
                    if (std::find(kIdentityTypes.begin(), kIdentityTypes.end(), v.text) == kIdentityTypes.end())
                        ctx_.error(v.where, key.path, unknownNameMessage("identity type", v.text, kIdentityTypes, "known"));
                    else c.identities.push_back(v.text);
                }
            } else if (key.key == "customer") {
                customer(key, c.customer);
            } else {
                auto v = ctx_.scalar(key, "the name of a routing.business_hours entry");
                if (!v) continue;
                (key.key == "business_hours" ? c.businessHours : c.outsideBusinessHours) = v->text;
                hoursUses_.push_back({v->text, v->where, key.path});
            }
        }
        if (!c.businessHours.empty() && !c.outsideBusinessHours.empty())
            ctx_.error(ctx_.locate(section.value), section.path,
                       "business_hours and outside_business_hours together never match; use one (or two rules)");
    }

    void customer(const MapEntry& section, std::vector<AttributeCondition>& out) {
        for (const MapEntry& attr : ctx_.mapEntries(section.value, section.path, {})) {
            AttributeCondition a;
            a.name = attr.key;
            std::vector<ScalarValue> values = scalars(ctx_, attr, "a value, a list of values, or a comparison such as '>= 1000'");
            if (values.size() == 1) {
                const std::string& t = values[0].text;
                for (std::string op : {">=", "<=", ">", "<"}) {
                    if (t.rfind(op, 0) != 0) continue;
                    std::string number = t.substr(op.size());
                    number.erase(0, number.find_first_not_of(' '));
                    auto n = parseDouble(number);
                    if (!n) {
                        ctx_.error(values[0].where, attr.path, "a comparison needs a number after " + op + ", got " +
                                                                   showValue(t, values[0].fromReference));
                        values.clear();
                    } else {
                        a.op = op;
                        a.number = *n;
                    }
                    break;
                }
            }
            if (a.op.empty()) a.anyOf = texts(values);
            if (!a.op.empty() || !a.anyOf.empty()) out.push_back(std::move(a));
        }
    }

    void priority(const MapEntry& key, std::string& out) {
        auto v = ctx_.scalar(key, "urgent, high, normal, low or an integer");
        if (!v) return;
        if (std::find(kPriorities.begin(), kPriorities.end(), v->text) == kPriorities.end() && !parseInt64(v->text)) {
            ctx_.error(v->where, key.path, "expects urgent, high, normal, low or an integer, got " +
                                               showValue(v->text, v->fromReference));
            return;
        }
        out = v->text;
    }

    void templ(const MapEntry& key, std::string& out) {
        auto v = ctx_.scalar(key, "a text (placeholders such as {{customer.name}} allowed)");
        if (!v) return;
        if (auto why = routing::templateError(v->text)) ctx_.error(v->where, key.path, *why);
        else out = v->text;
    }

    void connector(const MapEntry& key, std::string& out) {
        auto v = ctx_.scalar(key, "a connector instance name");
        if (!v) return;
        out = v->text;
        routing_.connectorReferences.push_back({v->text, key.path, v->where.file, v->where.line, v->where.column});
    }

    void then(const MapEntry& section, RuleActions& a) {
        for (const MapEntry& key : ctx_.mapEntries(section.value, section.path, kThenKeys)) {
            if (key.key == "queue" || key.key == "team") {
                if (auto v = ctx_.scalar(key, "a name")) (key.key == "queue" ? a.queue : a.team) = v->text;
            } else if (key.key == "tags") {
                a.tags = texts(scalars(ctx_, key, "a tag or a list of tags"));
            } else if (key.key == "priority") {
                priority(key, a.priority);
            } else if (key.key == "reply") {
                for (const MapEntry& one : oneOrMany(key)) reply(one, a.replies);
            } else if (key.key == "case") {
                for (const MapEntry& one : oneOrMany(key)) crmCase(one, a.cases);
            } else {
                forward(key, a.forwards);
            }
        }
    }

    void reply(const MapEntry& e, std::vector<MessageAction>& out) {
        MessageAction m;
        bool hasText = false;
        for (const MapEntry& key : ctx_.mapEntries(e.value, e.path, kReplyKeys)) {
            if (key.key == "via") connector(key, m.via);
            else if (key.key == "channel") {
                if (auto v = ctx_.scalar(key, "a channel such as sms or email")) m.channel = v->text;
            } else if (key.key == "subject") templ(key, m.subject);
            else if (key.key == "text") {
                hasText = true;
                templ(key, m.text);
            } else if (auto v = ctx_.scalar(key, "service or marketing")) {
                if (v->text != "service" && v->text != "marketing")
                    ctx_.error(v->where, key.path, "expects service or marketing, got " + showValue(v->text, v->fromReference));
                else m.purpose = v->text;
            }
        }
        if (!e.value.IsMap()) return;
        if (!hasText) ctx_.error(ctx_.locate(e.value), e.path, "text is required: what the reply says");
        if (!m.via.empty() && !m.channel.empty())
            ctx_.error(ctx_.locate(e.value), e.path, "set via (a connector instance) or channel, not both");
        out.push_back(std::move(m));
    }

    void crmCase(const MapEntry& e, std::vector<CaseAction>& out) {
        CaseAction c;
        bool hasVia = false;
        for (const MapEntry& key : ctx_.mapEntries(e.value, e.path, kCaseKeys)) {
            if (key.key == "via") {
                hasVia = true;
                connector(key, c.via);
            } else if (key.key == "action") {
                auto v = ctx_.scalar(key, "create or update");
                if (!v) continue;
                if (v->text != "create" && v->text != "update")
                    ctx_.error(v->where, key.path, "expects create or update, got " + showValue(v->text, v->fromReference));
                else c.action = v->text;
            } else if (key.key == "queue") {
                if (auto v = ctx_.scalar(key, "a queue name")) c.queue = v->text;
            } else if (key.key == "priority") {
                priority(key, c.priority);
            } else {
                templ(key, c.subject);
            }
        }
        if (!e.value.IsMap()) return;
        if (!hasVia) ctx_.error(ctx_.locate(e.value), e.path, "via is required: the CRM sink connector instance");
        out.push_back(std::move(c));
    }

    // forward: NAME, [NAME, ...] or [{via: NAME}, ...]
    void forward(const MapEntry& key, std::vector<std::string>& out) {
        std::vector<MapEntry> items = key.value.IsSequence() ? oneOrMany(key) : std::vector<MapEntry>{key};
        if (key.value.IsSequence() && items.empty())
            ctx_.error(ctx_.locate(key.value), key.path, "expects a connector instance or a list of them, got an empty list");
        for (const MapEntry& item : items) {
            std::string name;
            if (item.value.IsMap()) {
                for (const MapEntry& k : ctx_.mapEntries(item.value, item.path, {"via"})) connector(k, name);
                if (name.empty()) ctx_.error(ctx_.locate(item.value), item.path, "via is required: the sink connector instance");
            } else {
                connector(item, name);
            }
            if (!name.empty()) out.push_back(name);
        }
    }

    struct HoursUse {
        std::string name;
        SourceLocation where;
        std::string path;
    };
    ParseContext& ctx_;
    RoutingConfig& routing_;
    std::vector<std::string> hoursNames_;
    std::vector<HoursUse> hoursUses_;
};

}  // namespace

void parseRouting(ParseContext& ctx, const MapEntry& section, RoutingConfig& routing) {
    RoutingParser parser(ctx, routing);
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, kRoutingKeys)) {
        if (entry.key == "business_hours") parser.businessHours(entry);
        else parser.rules(entry);
    }
    parser.checkCalendars();
}

std::vector<ConfigError> checkRoutingConnectors(const RoutingConfig& routing,
                                                const std::vector<ConnectorConfig>& connectors) {
    std::vector<std::string> names;
    for (const auto& c : connectors) names.push_back(c.name);
    std::vector<ConfigError> errors;
    for (const auto& ref : routing.connectorReferences) {
        if (std::find(names.begin(), names.end(), ref.name) != names.end()) continue;
        errors.push_back({{ref.file, ref.line, ref.column},
                          ref.path,
                          names.empty() ? "no connector instance named '" + ref.name + "': declare it under connectors"
                                        : unknownNameMessage("connector instance", ref.name, names, "declared in connectors")});
    }
    return errors;
}

}  // namespace switchboard::host::config
