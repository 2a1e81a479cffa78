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
        std::string c = id;
        s << "SELECT created_at_ms FROM customers WHERE id = ?", use(c), into(created), now;
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
        std::string key = c.identity.matchKey;
        // Remember which values of other types came with this one: their number is how many
        // different people (or records) this value has stood for.
        for (const auto& partner : candidates) {
            if (partner.status != "usable" || partner.identity.type == c.identity.type) continue;
            std::string other = partner.identity.matchKey;
            int64_t at = atMs;
            s << "INSERT INTO identity_partners (match_key, partner_key, first_seen_ms) VALUES (?, ?, ?) "
                 "ON CONFLICT (match_key, partner_key) DO NOTHING",
                use(key), use(other), use(at), now;
        }
        int64_t partners = 0;
        s << "SELECT COUNT(*) FROM identity_partners WHERE match_key = ?", use(key), into(partners), now;
        if (partners <= threshold->second) continue;
        c.status = "over_cardinality";
        // Shown on every customer holding it, so the customer API explains why it stopped linking.
        s << "UPDATE identities SET match_status = 'over_cardinality' WHERE match_key = ? AND match_status = 'usable'",
            use(key), now;
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
            std::string key = c.identity.matchKey;
            // An identity attached over its type's limit never links anything.
            s << "SELECT DISTINCT i.customer_id FROM identities i JOIN customers c ON c.id = i.customer_id "
                 "WHERE i.match_key = ? AND c.status = 'active' AND i.match_status <> 'over_limit'",
                use(key), into(c.customers), now;
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
        std::string id = result.customerId, name = input.senderName;
        s << "INSERT INTO customers (id, display_name, status, created_at_ms, updated_at_ms) "
             "VALUES (?, ?, 'active', ?, ?)",
            use(id), use(name), use(at), use(at), now;
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
        std::string cust = result.customerId, key = n.matchKey;
        std::vector<int64_t> existing;
        s << "SELECT id FROM identities WHERE customer_id = ? AND match_key = ? LIMIT 1", use(cust), use(key),
            into(existing), now;
        if (!existing.empty()) {
            int64_t rowId = existing[0];
            s << "UPDATE identities SET last_seen_ms = ? WHERE id = ?", use(at), use(rowId), now;
        } else {
            std::string type = identityTypeName(n.type), scope = n.scope, raw = n.raw, norm = n.normalized,
                        status = c.status, source = input.connector;
            auto limit = limits_.find(type);
            if (limit != limits_.end() && status == "usable") {
                // Distinct values of this type the customer gained within the window.
                int64_t recent = 0, since = at - limitWindowMs_;
                s << "SELECT COUNT(DISTINCT match_key) FROM identities WHERE customer_id = ? AND type = ? "
                     "AND first_seen_ms > ?",
                    use(cust), use(type), use(since), into(recent), now;
                if (recent >= limit->second) status = "over_limit";
            }
            int matchable = n.matchable ? 1 : 0;
            s << "INSERT INTO identities (customer_id, original_customer_id, type, scope, raw, normalized, match_key, "
                 "matchable, match_status, source, first_seen_ms, last_seen_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                use(cust), use(cust), use(type), use(scope), use(raw), use(norm), use(key), use(matchable),
                use(status), use(source), use(at), use(at), now;
        }
        identities.push_back({{"match_key", n.matchKey}, {"status", c.status}});
        if (!existing.empty()) continue;
        // Report what was stored, which may be over_limit rather than usable.
        std::vector<std::string> stored;
        s << "SELECT match_status FROM identities WHERE customer_id = ? AND match_key = ? ORDER BY id DESC LIMIT 1",
            use(cust), use(key), into(stored), now;
        if (!stored.empty()) identities.back()["status"] = stored[0];
    }
    details["identities"] = identities;

    // Attribute values keep where they came from; survivorship is decided when read.
    auto observe = [&](const std::string& attrName, const std::string& value) {
        if (value.empty()) return;
        std::string cust = result.customerId, n = attrName, v = value, source = input.connector, record = input.sourceId;
        s << "INSERT INTO attribute_values (customer_id, original_customer_id, name, value, source, source_record, "
             "observed_at_ms, entered_by_hand) VALUES (?,?,?,?,?,?,?,0)",
            use(cust), use(cust), use(n), use(v), use(source), use(record), use(at), now;
    };
    observe("name", input.senderName);
    for (const auto& [attrName, value] : input.attributes) observe(attrName, value);

    std::string cust = result.customerId, name = input.senderName;
    int64_t msg = input.messageId;
    s << "UPDATE messages SET customer_id = ?, original_customer_id = ? WHERE id = ?", use(cust), use(cust), use(msg),
        now;
    if (!name.empty())
        s << "UPDATE customers SET display_name = ?, updated_at_ms = ? WHERE id = ? AND display_name = ''", use(name),
            use(at), use(cust), now;
    std::string decision = result.decision, detailText = details.dump();
    s << "INSERT INTO match_decisions (message_id, customer_id, decision, details_json, decided_at_ms) "
         "VALUES (?,?,?,?,?)",
        use(msg), use(cust), use(decision), use(detailText), use(at), now;
    return result;
}

}  // namespace switchboard::host::customer
