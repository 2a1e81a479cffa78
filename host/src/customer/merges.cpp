#include "customer/merges.h"

#include "store/sql.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <vector>

using namespace Poco::Data::Keywords;

namespace switchboard::host::customer {

namespace {

// The customers whose merge chain passes through root, root included.
const char* const kSubtree =
    "WITH RECURSIVE sub(id) AS (SELECT CAST(? AS TEXT) UNION "
    "SELECT c.id FROM customers c JOIN sub ON c.merged_into = sub.id) ";

// Every table whose rows belong to a customer and remember the one they were first resolved to.
const char* const kOwnedTables[] = {"identities", "messages", "attribute_values", "conversations"};

// Gives every row first resolved inside root's subtree to owner.
void repoint(Sql& s, const std::string& root, const std::string& owner) {
    for (const char* table : kOwnedTables) {
        std::string r = root, o = owner;
        s << std::string(kSubtree) + "UPDATE " + table +
                 " SET customer_id = ? WHERE original_customer_id IN (SELECT id FROM sub)",
            use(r), use(o), now;
    }
}

}  // namespace

std::optional<std::string> liveCustomerOf(Sql& s, const std::string& id) {
    std::string current = id;
    for (int hops = 0; hops < 1000; ++hops) {
        // Asked for every message threaded: a cached statement (store/sql.h).
        const auto rows = s.query("SELECT status, COALESCE(merged_into, '') FROM customers WHERE id = ?", {current});
        if (rows.empty()) return std::nullopt;
        if (rows[0].text(0) != "merged" || rows[0].text(1).empty()) return current;
        current = rows[0].text(1);
    }
    throw std::runtime_error("merge chain of customer " + id + " is cyclic");
}

namespace {

// One side of a merge as it stood just before: name, identities, interaction count.
nlohmann::json sideSnapshot(Sql& s, const std::string& id) {
    std::string cid = id, name;
    s << "SELECT display_name FROM customers WHERE id = ?", use(cid), into(name), now;
    std::vector<std::string> types, values, statuses;
    s << "SELECT type, normalized, match_status FROM identities WHERE customer_id = ? ORDER BY id", use(cid),
        into(types), into(values), into(statuses), now;
    nlohmann::json identities = nlohmann::json::array();
    for (size_t i = 0; i < types.size(); ++i)
        identities.push_back({{"type", types[i]}, {"value", values[i]}, {"status", statuses[i]}});
    int64_t interactions = 0;
    s << "SELECT COUNT(*) FROM messages WHERE customer_id = ?", use(cid), into(interactions), now;
    return {{"id", id}, {"display_name", name}, {"identities", identities}, {"interactions", interactions}};
}

}  // namespace

int64_t mergeCustomers(Sql& s, const std::string& survivor, const std::string& absorbed,
                       const std::string& triggerJson, int64_t atMs) {
    if (survivor == absorbed) throw std::invalid_argument("cannot merge customer " + survivor + " into itself");
    std::string sv = survivor, ab = absorbed, trig = triggerJson;
    std::string snapshot =
        nlohmann::json{{"survivor", sideSnapshot(s, survivor)}, {"absorbed", sideSnapshot(s, absorbed)}}.dump();
    int64_t at = atMs;
    int64_t mergeId = 0;
    s << "INSERT INTO merges (survivor_id, absorbed_id, trigger_json, merged_at_ms, snapshot_json) "
         "VALUES (?,?,?,?,?) RETURNING id",
        use(sv), use(ab), use(trig), use(at), use(snapshot), into(mergeId), now;
    s << "UPDATE customers SET status = 'merged', merged_into = ?, updated_at_ms = ? WHERE id = ?", use(sv), use(at),
        use(ab), now;
    repoint(s, absorbed, survivor);
    return mergeId;
}

UnmergeOutcome unmergeCustomers(Sql& s, int64_t mergeId, int64_t atMs) {
    UnmergeOutcome out;
    std::vector<std::string> survivor, absorbed;
    std::vector<int64_t> undone;
    int64_t id = mergeId;
    s << "SELECT survivor_id, absorbed_id, COALESCE(undone_at_ms, 0) FROM merges WHERE id = ?", use(id),
        into(survivor), into(absorbed), into(undone), now;
    if (survivor.empty()) {
        out.error = "no merge with id " + std::to_string(mergeId);
        return out;
    }
    if (undone[0] != 0) {
        out.error = "merge " + std::to_string(mergeId) + " was already undone";
        return out;
    }
    std::string ab = absorbed[0];
    int64_t at = atMs;
    s << "UPDATE customers SET status = 'active', merged_into = NULL, updated_at_ms = ? WHERE id = ?", use(at),
        use(ab), now;
    repoint(s, ab, ab);
    s << "UPDATE merges SET undone_at_ms = ? WHERE id = ?", use(at), use(id), now;
    out.ok = true;
    out.restoredCustomerId = ab;
    return out;
}

}  // namespace switchboard::host::customer
