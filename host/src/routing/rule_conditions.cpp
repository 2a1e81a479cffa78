#include "routing/rule_conditions.h"

#include "routing/router.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace switchboard::host::routing {

namespace {

std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out + "]";
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string inQuotes(const std::string& s) { return "\"" + excerpt(s) + "\""; }

std::unique_ptr<RE2> compile(const std::string& pattern) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern, options);
    if (!re->ok()) throw std::invalid_argument("invalid RE2 pattern '" + pattern + "': " + re->error());
    return re;
}

// Whole words or phrases, any case (Unicode folding by RE2), words of a phrase separated
// by any white space. RE2 has no look-behind: a boundary is the text's edge or a
// character that is not a letter, digit or underscore.
std::unique_ptr<RE2> keywordMatcher(const std::vector<std::string>& keywords) {
    std::string alternatives;
    for (const auto& k : keywords) {
        std::string phrase;
        size_t at = 0;
        while (at < k.size()) {
            size_t start = k.find_first_not_of(" \t", at);
            if (start == std::string::npos) break;
            size_t end = k.find_first_of(" \t", start);
            if (end == std::string::npos) end = k.size();
            if (!phrase.empty()) phrase += "\\s+";
            phrase += RE2::QuoteMeta(k.substr(start, end - start));
            at = end;
        }
        if (phrase.empty()) continue;
        if (!alternatives.empty()) alternatives += "|";
        alternatives += phrase;
    }
    return compile("(?i)(?:^|[^\\pL\\pN_])(" + alternatives + ")(?:[^\\pL\\pN_]|$)");
}

const BusinessHours* calendar(const std::string& name, const std::vector<BusinessHours>& hours) {
    if (name.empty()) return nullptr;
    for (const auto& h : hours)
        if (h.name() == name) return &h;
    throw std::invalid_argument("no business hours named '" + name + "'");
}

ConditionResult anyOf(const std::string& what, const std::vector<std::string>& allowed, const std::string& value) {
    bool ok = std::find(allowed.begin(), allowed.end(), value) != allowed.end();
    return {what + " in " + list(allowed), ok, ok ? "is " + value : "is " + (value.empty() ? "(empty)" : value)};
}

}  // namespace

std::string excerpt(const std::string& text, size_t max) {
    std::string flat = text;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    std::replace(flat.begin(), flat.end(), '\r', ' ');
    if (flat.size() <= max) return flat;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(flat[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
    return flat.substr(0, cut) + "…";
}

RuleConditions::RuleConditions(const config::RuleConditions& when, const std::vector<BusinessHours>& hours)
    : when_(when) {
    for (const auto& p : when.textPatterns) text_.push_back({p, compile(p)});
    for (const auto& p : when.subjectPatterns) subject_.push_back({p, compile(p)});
    if (!when.keywords.empty()) keywords_ = keywordMatcher(when.keywords);
    open_ = calendar(when.businessHours, hours);
    closed_ = calendar(when.outsideBusinessHours, hours);
}

RuleConditions::~RuleConditions() = default;

std::vector<ConditionResult> RuleConditions::evaluate(const RoutingInput& in) const {
    std::vector<ConditionResult> out;
    if (!when_.channels.empty()) out.push_back(anyOf("channel", when_.channels, in.channel));
    if (!when_.connectors.empty()) out.push_back(anyOf("connector", when_.connectors, in.connector));

    auto patterns = [&](const char* field, const std::vector<Pattern>& list, const std::string& value) {
        ConditionResult r;
        std::string shown;
        for (const auto& p : list) shown += std::string(shown.empty() ? "" : " or ") + "/" + p.source + "/";
        r.condition = std::string(field) + " ~ " + shown;
        for (const auto& p : list) {
            re2::StringPiece whole;
            if (p.re->Match(value, 0, value.size(), RE2::UNANCHORED, &whole, 1)) {
                r.matched = true;
                r.detail = (list.size() > 1 ? "/" + p.source + "/ " : std::string()) + "matched " +
                           inQuotes(std::string(whole)) + " in " + inQuotes(value);
                break;
            }
        }
        if (!r.matched) r.detail = value.empty() ? std::string(field) + " is empty" : "no match in " + inQuotes(value);
        out.push_back(std::move(r));
    };
    if (!text_.empty()) patterns("text", text_, in.text);
    if (!subject_.empty()) patterns("subject", subject_, in.subject);

    if (keywords_) {
        const std::string haystack = in.subject + "\n" + in.text;
        std::string found;
        ConditionResult r{"keywords " + list(when_.keywords), false, ""};
        r.matched = RE2::PartialMatch(haystack, *keywords_, &found);
        r.detail = r.matched ? "found " + inQuotes(found) : "none found in subject or text";
        out.push_back(std::move(r));
    }

    for (const auto& a : when_.customer) {
        ConditionResult r;
        auto it = in.customerAttributes.find(a.name);
        const bool set = it != in.customerAttributes.end() && !it->second.empty();
        if (a.op.empty()) {
            r.condition = "customer." + a.name + " in " + list(a.anyOf);
            if (set) {
                const std::string v = lower(it->second);
                r.matched = std::any_of(a.anyOf.begin(), a.anyOf.end(), [&](const auto& x) { return lower(x) == v; });
            }
        } else {
            char number[32];
            std::snprintf(number, sizeof number, "%g", a.number);
            r.condition = "customer." + a.name + " " + a.op + " " + number;
            if (set) {
                char* end = nullptr;
                double v = std::strtod(it->second.c_str(), &end);
                if (end == it->second.c_str() || *end != '\0' || !std::isfinite(v)) {
                    r.detail = "is " + inQuotes(it->second) + ", not a number";
                } else {
                    r.matched = a.op == ">" ? v > a.number : a.op == ">=" ? v >= a.number
                              : a.op == "<" ? v < a.number : v <= a.number;
                }
            }
        }
        if (!set) r.detail = "is not set";
        else if (r.detail.empty()) r.detail = "is " + inQuotes(it->second);
        out.push_back(std::move(r));
    }

    if (!when_.identities.empty()) {
        ConditionResult r{"identities any of " + list(when_.identities), false, ""};
        for (const auto& t : when_.identities)
            if (std::find(in.identityTypes.begin(), in.identityTypes.end(), t) != in.identityTypes.end()) r.matched = true;
        r.detail = in.identityTypes.empty() ? "the message has no sender identity"
                                            : "the message has " + list(in.identityTypes);
        out.push_back(std::move(r));
    }

    for (const BusinessHours* h : {open_, closed_}) {
        if (h == nullptr) continue;
        BusinessHours::Check c = h->at(in.atMs);
        const bool wantOpen = h == open_;
        out.push_back({std::string(wantOpen ? "business_hours" : "outside_business_hours") + " '" + h->name() + "'",
                       c.open == wantOpen, std::string(c.open ? "open" : "closed") + " (" + c.local + ", " + c.why + ")"});
    }
    return out;
}

}  // namespace switchboard::host::routing
