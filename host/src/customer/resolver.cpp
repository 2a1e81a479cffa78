#include "customer/resolver.h"

#include "customer/customer_ids.h"
#include "customer/merges.h"
#include "store/sql.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

using namespace Poco::Data::Keywords;

namespace switchboard::host::customer {

namespace {

// Placeholders that are never a person. Overridden per type by identity.blocked.
const std::map<std::string, std::vector<std::string>> kDefaultBlocked = {
    {"email", {"test@test.com", "null@null.com", "none@none.com", "example@example.com", "noemail@noemail.com"}},
    {"phone", {"0000000000", "1234567890", "9999999999"}},
};
// Role addresses many people write from. "local@" means that local part at any domain.
const std::map<std::string, std::vector<std::string>> kDefaultShared = {
    {"email", {"support@", "info@", "sales@", "contact@", "noreply@", "no-reply@", "admin@", "office@"}},
};

std::string localPartKey(const std::string& local) { return "email-local|" + local; }

std::string oldestOf(Sql& s, const std::vector<std::string>& ids) {
    std::string best;
    int64_t bestAt = INT64_MAX;
    for (const auto& id : ids) {
        int64_t created = 0;
        for (const auto& row : s.query("SELECT created_at_ms FROM customers WHERE id = ?", {id})) created = row.integer(0);
        if (created < bestAt || (created == bestAt && id < best)) {
            bestAt = created;
            best = id;
        }
    }
    return best;
}

}  // namespace

struct IdentityResolver::Candidate {
    NormalizedIdentity identity;
    std::string status;  // usable, blocked, shared, ambiguous, over_cardinality, not_matched_type, <flag>
    std::vector<std::string> customers;  // live owners of the match key before this message
};

IdentityResolver::IdentityResolver(const config::IdentityConfig& config)
    : normalizer_(NormalizerOptions{config.defaultRegion, config.foldGmail}),
      matchTypes_(config.matchTypes.begin(), config.matchTypes.end()),
      autoMerge_(config.mode != "match_only") {
    sourcePriority_ = config.sourcePriority;
    limits_ = config.limits;
    limitWindowMs_ = config.limitWindowMs;
    cardinality_ = config.cardinality;
    auto load = [&](const std::map<std::string, std::vector<std::string>>& configured,
                    const std::map<std::string, std::vector<std::string>>& defaults, std::set<std::string>& out) {
        for (const char* typeName : {"email", "phone", "external"}) {
            auto it = configured.find(typeName);
            const auto* values = it != configured.end() ? &it->second : nullptr;
            if (!values) {
                auto d = defaults.find(typeName);
                if (d == defaults.end()) continue;
                values = &d->second;
            }
            IdentityType type = *parseIdentityType(typeName);
            for (const auto& v : *values) {
                if (type == IdentityType::Email && !v.empty() && v.back() == '@') {
                    std::string local = v.substr(0, v.size() - 1);
                    std::transform(local.begin(), local.end(), local.begin(), ::tolower);
                    out.insert(localPartKey(local));
                    continue;
                }
                // Listed values are compared after the same normalization as messages,
                // so "+351 912 000 000" in config blocks "00351912000000" in a message.
                out.insert(normalizer_.normalize(type, v).matchKey);
            }
        }
    };
    load(config.blocked, kDefaultBlocked, blocked_);
    load(config.shared, kDefaultShared, shared_);
}

bool IdentityResolver::listed(const std::set<std::string>& keys, const NormalizedIdentity& identity) const {
    if (keys.count(identity.matchKey)) return true;
    if (identity.type == IdentityType::Email) {
        auto at = identity.normalized.find('@');
        if (at != std::string::npos && keys.count(localPartKey(identity.normalized.substr(0, at)))) return true;
    }
    return false;
}

std::string IdentityResolver::statusOf(const NormalizedIdentity& identity) const {
    if (!identity.matchable) return identity.flag.empty() ? "unmatchable" : identity.flag;
    if (listed(blocked_, identity)) return "blocked";
    if (listed(shared_, identity)) return "shared";
    if (!matchTypes_.count(identityTypeName(identity.type))) return "not_matched_type";
    return "usable";
}

void IdentityResolver::applyCardinality(Sql& s, std::vector<Candidate>& candidates, int64_t atMs) const {
    if (cardinality_.empty()) return;
    for (auto& c : candidates) {
        if (c.status != "usable") continue;
        auto threshold = cardinality_.find(identityTypeName(c.identity.type));
        if (threshold == cardinality_.end()) continue;
        const std::string& key = c.identity.matchKey;
        // Remember which values of other types came with this one: their number is how many
        // different people (or records) this value has stood for.
        for (const auto& partner : candidates) {
            if (partner.status != "usable" || partner.identity.type == c.identity.type) continue;
            s.exec("INSERT INTO identity_partners (match_key, partner_key, first_seen_ms) VALUES (?, ?, ?) "
                   "ON CONFLICT (match_key, partner_key) DO NOTHING",
                   {key, partner.identity.matchKey, atMs});
        }
        const int64_t partners =
            s.query("SELECT COUNT(*) FROM identity_partners WHERE match_key = ?", {key}).at(0).integer(0);
        if (partners <= threshold->second) continue;
        c.status = "over_cardinality";
        // Shown on every customer holding it, so the customer API explains why it stopped linking.
        s.exec("UPDATE identities SET match_status = 'over_cardinality' WHERE match_key = ? AND match_status = 'usable'",
               {key});
    }
}

ResolutionResult IdentityResolver::resolve(Sql& s, const ResolutionInput& input) {
    std::vector<Candidate> candidates;
    for (const auto& raw : input.sender) {
        auto type = parseIdentityType(raw.type);
        if (!type) continue;  // the host validated types on emit; be defensive anyway
        Candidate c{normalizer_.normalize(*type, raw.value, raw.scope), "", {}};
        c.status = statusOf(c.identity);
        candidates.push_back(std::move(c));
    }
    applyCardinality(s, candidates, input.atMs);
    for (auto& c : candidates) {
        if (c.status == "usable") {
            // An identity attached over its type's limit never links anything.
            for (const auto& row : s.query("SELECT DISTINCT i.customer_id FROM identities i JOIN customers c "
                                           "ON c.id = i.customer_id WHERE i.match_key = ? AND c.status = 'active' "
                                           "AND i.match_status <> 'over_limit'",
                                           {c.identity.matchKey}))
                c.customers.push_back(row.text(0));
            // Two live customers already share this key: it proves nothing about who is writing.
            if (c.customers.size() > 1) c.status = "ambiguous";
        }
    }

    std::vector<std::string> linked;
    for (const auto& c : candidates)
        if (c.status == "usable")
            for (const auto& id : c.customers)
                if (std::find(linked.begin(), linked.end(), id) == linked.end()) linked.push_back(id);

    ResolutionResult result;
    nlohmann::json details;
    int64_t at = input.atMs;
    if (linked.empty()) {
        result.customerId = newCustomerId();
        result.decision = "new_customer";
        s.exec("INSERT INTO customers (id, display_name, status, created_at_ms, updated_at_ms) "
               "VALUES (?, ?, 'active', ?, ?)",
               {result.customerId, input.senderName, at, at});
    } else {
        result.customerId = linked.size() == 1 ? linked.front() : oldestOf(s, linked);
        result.decision = linked.size() == 1 ? "matched" : autoMerge_ ? "merged" : "would_merge";
        if (linked.size() > 1) {
            details["customers"] = linked;
            nlohmann::json merges = nlohmann::json::array();
            for (const auto& other : linked) {
                if (other == result.customerId) continue;
                // The identity that ties the message to the absorbed customer is the trigger.
                std::string via;
                for (const auto& c : candidates)
                    if (c.status == "usable" && std::find(c.customers.begin(), c.customers.end(), other) != c.customers.end())
                        via = c.identity.matchKey;
                nlohmann::json trigger{{"rule", "shared_identity"},
                                       {"identity", via},
                                       {"message_id", input.messageId},
                                       {"connector", input.connector}};
                if (autoMerge_) {
                    int64_t mergeId = mergeCustomers(s, result.customerId, other, trigger.dump(), at);
                    merges.push_back({{"merge_id", mergeId}, {"absorbed", other}, {"identity", via}});
                } else {
                    merges.push_back({{"would_absorb", other}, {"identity", via}});
                }
            }
            details["merges"] = merges;
        }
    }

    // Attach every identity of the message to the customer (kept even when not usable).
    nlohmann::json identities = nlohmann::json::array();
    for (const auto& c : candidates) {
        const auto& n = c.identity;
        // Match-only: an identity proving the other customer stays with it, or the recorded
        // would-be merge would quietly make that identity ambiguous for everyone.
        if (result.decision == "would_merge" && !c.customers.empty() &&
            std::find(c.customers.begin(), c.customers.end(), result.customerId) == c.customers.end())
            continue;
        const std::string& cust = result.customerId;
        // Seen again: only its last sighting changes (the row keeps the status it was given).
        const bool known = s.exec("UPDATE identities SET last_seen_ms = ? WHERE id = (SELECT id FROM identities "
                                  "WHERE customer_id = ? AND match_key = ? LIMIT 1)",
                                  {at, cust, n.matchKey}) > 0;
        std::string status = c.status;
        if (!known) {
            const std::string type = identityTypeName(n.type);
            auto limit = limits_.find(type);
            if (limit != limits_.end() && status == "usable") {
                // Distinct values of this type the customer gained within the window.
                const int64_t recent = s.query("SELECT COUNT(DISTINCT match_key) FROM identities WHERE customer_id = ? "
                                               "AND type = ? AND first_seen_ms > ?",
                                               {cust, type, at - limitWindowMs_})
                                           .at(0)
                                           .integer(0);
                if (recent >= limit->second) status = "over_limit";
            }
            s.exec("INSERT INTO identities (customer_id, original_customer_id, type, scope, raw, normalized, match_key, "
                   "matchable, match_status, source, first_seen_ms, last_seen_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   {cust, cust, type, n.scope, n.raw, n.normalized, n.matchKey, int64_t{n.matchable ? 1 : 0}, status,
                    input.connector, at, at});
        }
        // What was stored, which may be over_limit rather than usable.
        identities.push_back({{"match_key", n.matchKey}, {"status", status}});
    }
    details["identities"] = identities;

    // Attribute values keep where they came from; survivorship is decided when read.
    auto observe = [&](const std::string& attrName, const std::string& value) {
        if (value.empty()) return;
        s.exec("INSERT INTO attribute_values (customer_id, original_customer_id, name, value, source, source_record, "
               "observed_at_ms, entered_by_hand) VALUES (?,?,?,?,?,?,?,0)",
               {result.customerId, result.customerId, attrName, value, input.connector, input.sourceId, at});
    };
    observe("name", input.senderName);
    for (const auto& [attrName, value] : input.attributes) observe(attrName, value);

    const std::string& cust = result.customerId;
    s.exec("UPDATE messages SET customer_id = ?, original_customer_id = ? WHERE id = ?", {cust, cust, input.messageId});
    if (!input.senderName.empty())
        s.exec("UPDATE customers SET display_name = ?, updated_at_ms = ? WHERE id = ? AND display_name = ''",
               {input.senderName, at, cust});
    s.exec("INSERT INTO match_decisions (message_id, customer_id, decision, details_json, decided_at_ms) "
           "VALUES (?,?,?,?,?)",
           {input.messageId, cust, result.decision, details.dump(), at});
    return result;
}

}  // namespace switchboard::host::customer
