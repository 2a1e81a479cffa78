#include "customer/customer_directory.h"

#include "customer/consent.h"
#include "customer/merges.h"
#include "customer/privacy.h"
#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::customer {

namespace {

DirectoryReply error(int status, const std::string& message) { return {status, json{{"error", message}}, ""}; }

std::string isoMs(int64_t ms) {
    if (ms <= 0) return "";
    return formatUtc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

// Survivorship of one attribute: entered by hand > source priority > most recent.
// Rows arrive newest first, so the first row of the best class wins.
json survivingAttributes(Sql& s, const std::string& id, const std::vector<std::string>& priority) {
    std::string cid = id;
    Poco::Data::Statement q = s << "SELECT name, value, source, source_record, observed_at_ms, entered_by_hand "
                                   "FROM attribute_values WHERE customer_id = ? AND value <> '' "
                                   "ORDER BY observed_at_ms DESC, id DESC";
    q, use(cid), now;
    Poco::Data::RecordSet rs(q);
    struct Best {
        int rank = INT32_MAX;
        json value;
        int candidates = 0;
    };
    std::map<std::string, Best> best;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
        const std::string name = rs[0].convert<std::string>(), source = rs[2].convert<std::string>();
        const bool byHand = rs[5].convert<int>() != 0;
        auto p = std::find(priority.begin(), priority.end(), source);
        int rank = byHand ? -1 : p != priority.end() ? static_cast<int>(p - priority.begin()) : INT32_MAX - 1;
        Best& b = best[name];
        ++b.candidates;
        if (rank < b.rank) {
            b.rank = rank;
            b.value = {{"value", rs[1].convert<std::string>()},
                       {"source", source},
                       {"source_record", rs[3].convert<std::string>()},
                       {"observed_at", isoMs(rs[4].convert<int64_t>())},
                       {"entered_by_hand", byHand}};
        }
    }
    json out = json::object();
    for (auto& [name, b] : best) {
        b.value["values_seen"] = b.candidates;
        out[name] = b.value;
    }
    return out;
}

namespace {

json customerSummary(Sql& s, const std::string& id) {
    std::string cid = id, name, status;
    int64_t created = 0, updated = 0;
    s << "SELECT display_name, status, created_at_ms, updated_at_ms FROM customers WHERE id = ?", use(cid),
        into(name), into(status), into(created), into(updated), now;
    json identities = json::array();
    Poco::Data::Statement q = s << "SELECT type, scope, raw, normalized, match_status, source, first_seen_ms, "
                                   "last_seen_ms, match_key FROM identities WHERE customer_id = ? "
                                   "ORDER BY first_seen_ms, id";
    q, use(cid), now;
    Poco::Data::RecordSet rs(q);
    std::set<std::string> seen;  // after a merge one contact point may appear twice: show it once
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
        std::string key = rs[0].convert<std::string>() + "|" + rs[1].convert<std::string>() + "|" +
                          rs[3].convert<std::string>();
        if (!seen.insert(key).second) continue;
        identities.push_back({{"type", rs[0].convert<std::string>()},
                              {"scope", rs[1].convert<std::string>()},
                              {"value", rs[2].convert<std::string>()},
                              {"normalized", rs[3].convert<std::string>()},
                              {"status", rs[4].convert<std::string>()},
                              {"source", rs[5].convert<std::string>()},
                              {"first_seen", isoMs(rs[6].convert<int64_t>())},
                              {"last_seen", isoMs(rs[7].convert<int64_t>())},
                              {"consent", consentJson(s, rs[8].convert<std::string>())}});
    }
    return {{"id", id},
            {"display_name", name},
            {"status", status},
            {"created_at", isoMs(created)},
            {"updated_at", isoMs(updated)},
            {"identities", identities}};
}

// The routing outcome stored with an inbound interaction; null when none was recorded.
json parsedOrNull(const std::string& text) {
    if (text.empty()) return nullptr;
    json j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(nullptr) : j;
}

json interaction(Poco::Data::RecordSet& rs) {
    json n = json::parse(rs["normalized_json"].convert<std::string>(), nullptr, false);
    if (!n.is_object()) n = json::object();
    json out = {{"id", rs["id"].convert<int64_t>()},
            {"customer_id", rs["customer_id"].convert<std::string>()},
            {"original_customer_id", rs["original_customer_id"].convert<std::string>()},
            {"channel", rs["channel"].convert<std::string>()},
            {"direction", rs["direction"].convert<std::string>()},
            {"connector", rs["connector"].convert<std::string>()},
            {"source_message_id", rs["source_id"].convert<std::string>()},
            {"conversation_id", nullable(rs["thread_id"].convert<std::string>())},
            {"source_conversation_id", nullable(rs["conversation_id"].convert<std::string>())},
            {"occurred_at", nullable(isoMs(rs["occurred_at_ms"].convert<int64_t>()))},
            {"received_at", isoMs(rs["received_at_ms"].convert<int64_t>())},
            {"subject", nullable(rs["subject"].convert<std::string>())},
            {"text", rs["text"].convert<std::string>()},
            {"sender", n.value("sender", json::array())},
            {"sender_name", n.value("sender_name", "")},
            {"attachments", n.value("attachments", json::array())},
            {"attributes", n.value("attributes", json::object())},
            {"routing", parsedOrNull(rs["routing_json"].convert<std::string>())}};
    // Outbound: where it went and how far it got (updated by the outbox and by receipts).
    if (out["direction"] == "outbound") {
        out["recipients"] = n.value("recipients", json::array());
        out["delivery_status"] = nullable(rs["delivery_status"].convert<std::string>());
        out["delivery_detail"] = nullable(rs["delivery_detail"].convert<std::string>());
        out["provider_message_id"] = nullable(rs["provider_message_id"].convert<std::string>());
    }
    return out;
}

const char* const kInteractionColumns =
    "id, COALESCE(customer_id, '') AS customer_id, COALESCE(original_customer_id, '') AS original_customer_id, "
    "channel, direction, connector, source_id, conversation_id, occurred_at_ms, received_at_ms, subject, text, "
    "normalized_json, timeline_at_ms, COALESCE(thread_id, '') AS thread_id, COALESCE(routing_json, '') AS routing_json, "
    "COALESCE(delivery_status, '') AS delivery_status, COALESCE(delivery_detail, '') AS delivery_detail, "
    "COALESCE(provider_message_id, '') AS provider_message_id";

}  // namespace

CustomerDirectory::CustomerDirectory(Store& store, std::shared_ptr<IdentityResolver> resolver)
    : store_(store), resolver_(std::move(resolver)) {}

std::optional<DirectoryReply> CustomerDirectory::notLive(Sql& s, const std::string& id,
                                                         const std::string& suffix) {
    std::vector<std::string> status;
    std::string cid = id;
    s << "SELECT status FROM customers WHERE id = ?", use(cid), into(status), now;
    if (status.empty()) return error(404, "no customer with id '" + id + "'");
    if (status[0] == "erased") return error(410, "customer '" + id + "' was erased");
    if (status[0] == "merged") {
        std::string survivor = liveCustomerOf(s, id).value_or("");
        return DirectoryReply{301,
                              {{"error", "customer '" + id + "' was merged into '" + survivor + "'"},
                               {"merged_into", survivor}},
                              "/api/v1/customers/" + survivor + suffix};
    }
    return std::nullopt;
}

DirectoryReply CustomerDirectory::findByIdentity(const std::string& typeAndValue) {
    auto n = resolver_->normalizer().normalizeTyped(typeAndValue);
    if (!n) return error(400, "identity must be TYPE:VALUE with TYPE email, phone or external, got '" + typeAndValue + "'");
    json customers = json::array();
    store_.withSession([&](Sql& s) {
        std::vector<std::string> ids;
        std::string key = n->matchKey;
        s << "SELECT DISTINCT i.customer_id FROM identities i JOIN customers c ON c.id = i.customer_id "
             "WHERE i.match_key = ? AND c.status = 'active' ORDER BY i.customer_id",
            use(key), into(ids), now;
        for (const auto& id : ids) customers.push_back(customerSummary(s, id));
    });
    return {200, {{"customers", customers}, {"normalized", n->normalized}}, ""};
}

DirectoryReply CustomerDirectory::search(const std::string& q, int limit) {
    if (q.empty()) return error(400, "q must not be empty");
    json customers = json::array();
    store_.withSession([&](Sql& s) {
        std::string like;
        for (char c : q) {
            if (c == '%' || c == '_' || c == '\\') like += '\\';
            like += c;
        }
        like += '%';
        std::string likeLower = like;
        for (auto& c : likeLower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::vector<std::string> ids;
        int lim = limit;
        // Names and raw values match case-insensitively: SQLite's LIKE is, PostgreSQL's ILIKE.
        const std::string ilike = s.dialect().caseInsensitiveLike();
        s << "SELECT id FROM customers WHERE status = 'active' AND (display_name " + ilike + " ? ESCAPE '\\' "
             "OR id IN (SELECT customer_id FROM identities WHERE normalized LIKE ? ESCAPE '\\' OR raw " + ilike +
             " ? ESCAPE '\\')) ORDER BY updated_at_ms DESC LIMIT ?",
            use(like), use(likeLower), use(like), use(lim), into(ids), now;
        for (const auto& id : ids) customers.push_back(customerSummary(s, id));
    });
    return {200, {{"customers", customers}}, ""};
}

DirectoryReply CustomerDirectory::get(const std::string& id) {
    DirectoryReply reply;
    store_.withSession([&](Sql& s) {
        if (auto r = notLive(s, id, "")) {
            reply = *r;
            return;
        }
        json c = customerSummary(s, id);
        c["attributes"] = survivingAttributes(s, id, resolver_->sourcePriority());
        if (c["attributes"].contains("name")) c["display_name"] = c["attributes"]["name"]["value"];
        json perChannel = json::object();
        {
            std::vector<std::string> channels;
            std::vector<int64_t> counts;
            std::string cid = id;
            s << "SELECT channel, COUNT(*) FROM messages WHERE customer_id = ? GROUP BY channel ORDER BY channel",
                use(cid), into(channels), into(counts), now;
            for (size_t i = 0; i < channels.size(); ++i) perChannel[channels[i]] = counts[i];
        }
        c["interactions_per_channel"] = perChannel;
        json conversations = json::array();
        {
            std::vector<std::string> convs, channels;
            std::vector<int64_t> opened, last, counts;
            std::string cid = id;
            s << "SELECT c.id, c.first_channel, c.opened_at_ms, c.last_at_ms, "
                 "(SELECT COUNT(*) FROM messages m WHERE m.thread_id = c.id) FROM conversations c "
                 "WHERE c.customer_id = ? ORDER BY c.last_at_ms DESC LIMIT 20",
                use(cid), into(convs), into(channels), into(opened), into(last), into(counts), now;
            for (size_t i = 0; i < convs.size(); ++i)
                conversations.push_back({{"id", convs[i]},
                                         {"first_channel", channels[i]},
                                         {"opened_at", isoMs(opened[i])},
                                         {"last_interaction_at", isoMs(last[i])},
                                         {"interactions", counts[i]}});
        }
        c["conversations"] = conversations;
        reply = {200, c, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::timeline(const std::string& id, int limit, const std::string& cursor,
                                           const std::string& channel) {
    // The cursor is "<timeline_at_ms>:<id>" of the last item returned: keyset pagination,
    // so interactions arriving meanwhile never shift or repeat a page.
    int64_t beforeAt = INT64_MAX, beforeId = INT64_MAX;
    if (!cursor.empty()) {
        auto colon = cursor.find(':');
        try {
            if (colon == std::string::npos) throw std::invalid_argument("no colon");
            size_t used = 0;
            beforeAt = std::stoll(cursor.substr(0, colon), &used);
            if (used != colon) throw std::invalid_argument("at");
            beforeId = std::stoll(cursor.substr(colon + 1), &used);
            if (used != cursor.size() - colon - 1) throw std::invalid_argument("id");
        } catch (const std::exception&) {
            return error(400, "cursor '" + cursor + "' is not one this API returned");
        }
    }
    DirectoryReply reply;
    store_.withSession([&](Sql& s) {
        if (auto r = notLive(s, id, "/timeline")) {
            reply = *r;
            return;
        }
        std::string cid = id, ch = channel;
        int lim = limit + 1;
        Poco::Data::Statement q = s << "SELECT " + std::string(kInteractionColumns) +
                                           " FROM messages WHERE customer_id = ? AND (? = '' OR channel = ?) "
                                           "AND (timeline_at_ms < ? OR (timeline_at_ms = ? AND id < ?)) "
                                           "ORDER BY timeline_at_ms DESC, id DESC LIMIT ?";
        q, use(cid), use(ch), use(ch), use(beforeAt), use(beforeAt), use(beforeId), use(lim), now;
        Poco::Data::RecordSet rs(q);
        json items = json::array();
        std::string next;
        int n = 0;
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
            if (n++ == limit) break;
            items.push_back(interaction(rs));
            next = std::to_string(rs["timeline_at_ms"].convert<int64_t>()) + ":" +
                   std::to_string(rs["id"].convert<int64_t>());
        }
        reply = {200, {{"interactions", items}, {"next_cursor", n > limit ? json(next) : json(nullptr)}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::merges(const std::string& id) {
    DirectoryReply reply;
    store_.withSession([&](Sql& s) {
        if (auto r = notLive(s, id, "/merges")) {
            reply = *r;
            return;
        }
        // Merges into this customer or into anything in its subtree, i.e. what made it.
        std::string cid = id;
        Poco::Data::Statement q =
            s << "WITH RECURSIVE sub(id) AS (SELECT CAST(? AS TEXT) UNION SELECT c.id FROM customers c "
                 "JOIN sub ON c.merged_into = sub.id) "
                 "SELECT id, survivor_id, absorbed_id, trigger_json, merged_at_ms, COALESCE(undone_at_ms, 0), "
                 "snapshot_json FROM merges WHERE survivor_id IN (SELECT id FROM sub) OR absorbed_id = ? ORDER BY id";
        q, use(cid), use(cid), now;
        Poco::Data::RecordSet rs(q);
        json list = json::array();
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
            int64_t undone = rs[5].convert<int64_t>();
            list.push_back({{"id", rs[0].convert<int64_t>()},
                            {"survivor_id", rs[1].convert<std::string>()},
                            {"absorbed_id", rs[2].convert<std::string>()},
                            {"trigger", json::parse(rs[3].convert<std::string>(), nullptr, false)},
                            {"merged_at", isoMs(rs[4].convert<int64_t>())},
                            {"undone_at", undone ? json(isoMs(undone)) : json(nullptr)},
                            {"snapshot", json::parse(rs[6].convert<std::string>(), nullptr, false)}});
        }
        reply = {200, {{"merges", list}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::merge(const std::string& survivor, const std::string& other) {
    DirectoryReply reply;
    store_.inTransaction([&](Sql& s) {
        if (survivor == other) {
            reply = error(409, "a customer cannot be merged into itself");
            return;
        }
        for (const auto& id : {survivor, other}) {
            if (auto r = notLive(s, id, "")) {
                reply = r->status == 301 ? error(409, r->body["error"]) : *r;
                return;
            }
        }
        json trigger{{"rule", "manual"}, {"requested_via", "api"}};
        int64_t mergeId = mergeCustomers(s, survivor, other, trigger.dump(), nowUnixMs());
        reply = {200, {{"merge_id", mergeId}, {"survivor_id", survivor}, {"absorbed_id", other}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::unmerge(const std::string& id, int64_t mergeId) {
    DirectoryReply reply;
    store_.inTransaction([&](Sql& s) {
        std::vector<std::string> survivor, absorbed;
        int64_t m = mergeId;
        s << "SELECT survivor_id, absorbed_id FROM merges WHERE id = ?", use(m), into(survivor), into(absorbed), now;
        if (survivor.empty()) {
            reply = error(404, "no merge with id " + std::to_string(mergeId));
            return;
        }
        // The merge must belong to this customer: it is its survivor, now or through a chain.
        if (liveCustomerOf(s, survivor[0]).value_or("") != id && survivor[0] != id) {
            reply = error(409, "merge " + std::to_string(mergeId) + " does not belong to customer '" + id + "'");
            return;
        }
        UnmergeOutcome out = unmergeCustomers(s, mergeId, nowUnixMs());
        if (!out.ok) {
            reply = error(409, out.error);
            return;
        }
        reply = {200, {{"merge_id", mergeId}, {"restored_customer_id", out.restoredCustomerId}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::exportCustomer(const std::string& id) {
    DirectoryReply reply;
    store_.withSession([&](Sql& s) {
        if (auto r = notLive(s, id, "/export")) {
            reply = *r;
            return;
        }
        reply = {200, customer::exportCustomer(s, id), ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::erase(const std::string& id) {
    DirectoryReply reply;
    store_.inTransaction([&](Sql& s) {
        if (auto r = notLive(s, id, "")) {
            // Erase the person, not an alias: a merged id points at who to erase.
            reply = r->status == 301 ? error(409, std::string(r->body["error"]) + "; erase the survivor") : *r;
            return;
        }
        reply = {200, eraseCustomer(s, id, store_.erasureKey(), nowUnixMs()), ""};
    });
    if (reply.status == 200) store_.checkpointAndTruncateWal();
    return reply;
}

DirectoryReply CustomerDirectory::setConsent(const std::string& id, const json& body) {
    static const std::set<std::string> kPurposes = {"service", "marketing"};
    static const std::set<std::string> kStatuses = {"opted_in", "opted_out"};
    if (!body.is_object() || !body.contains("identity") || !body["identity"].is_string() || !body.contains("purpose") ||
        !body["purpose"].is_string() || !body.contains("status") || !body["status"].is_string())
        return error(400, "body must be {\"identity\": \"TYPE:VALUE\", \"purpose\": \"service|marketing\", "
                          "\"status\": \"opted_in|opted_out\", \"evidence\": \"...\"}");
    const std::string purpose = body["purpose"], status = body["status"];
    if (!kPurposes.count(purpose)) return error(400, "purpose must be service or marketing, got '" + purpose + "'");
    if (!kStatuses.count(status)) return error(400, "status must be opted_in or opted_out, got '" + status + "'");
    auto n = resolver_->normalizer().normalizeTyped(body["identity"].get<std::string>());
    if (!n) return error(400, "identity must be TYPE:VALUE with TYPE email, phone or external");
    std::string evidence = body.value("evidence", "");
    DirectoryReply reply;
    store_.inTransaction([&](Sql& s) {
        if (auto r = notLive(s, id, "/consent")) {
            reply = *r;
            return;
        }
        int64_t owned = 0;
        std::string cid = id, key = n->matchKey;
        s << "SELECT COUNT(*) FROM identities WHERE customer_id = ? AND match_key = ?", use(cid), use(key),
            into(owned), now;
        if (owned == 0) {
            reply = error(409, "customer '" + id + "' has no identity " + identityTypeName(n->type) + ":" + n->normalized);
            return;
        }
        recordConsent(s, key, purpose, status, "api", evidence, nowUnixMs());
        reply = {200, {{"identity", std::string(identityTypeName(n->type)) + ":" + n->normalized},
                       {"purpose", purpose}, {"status", status}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::matchPreview(const json& body) {
    if (!body.is_object() || !body.contains("identities") || !body["identities"].is_array() ||
        body["identities"].empty())
        return error(400, "body must be {\"identities\": [{\"type\": \"email|phone|external\", \"value\": \"...\"}], "
                          "\"name\": \"...\"}");
    ResolutionInput input;
    input.connector = body.value("connector", "match-preview");
    input.senderName = body.value("name", "");
    input.atMs = nowUnixMs();
    for (size_t i = 0; i < body["identities"].size(); ++i) {
        const json& id = body["identities"][i];
        const std::string at = "identities[" + std::to_string(i) + "]";
        if (!id.is_object() || !id.contains("type") || !id["type"].is_string() || !id.contains("value") ||
            !id["value"].is_string())
            return error(400, at + " must be {\"type\": ..., \"value\": ...}");
        if (!parseIdentityType(id["type"].get<std::string>()))
            return error(400, at + ".type must be email, phone or external");
        input.sender.push_back({id["type"], id["value"], id.value("scope", "")});
    }
    DirectoryReply reply;
    store_.dryRun([&](Sql& s) {
        ResolutionResult r = resolver_->resolve(s, input);
        std::string details;
        s << "SELECT details_json FROM match_decisions ORDER BY id DESC LIMIT 1", into(details), now;
        reply = {200,
                 {{"decision", r.decision},
                  {"customer_id", r.decision == "new_customer" ? json(nullptr) : json(r.customerId)},
                  {"details", json::parse(details, nullptr, false)},
                  {"stored", false}},
                 ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::setAttribute(const std::string& id, const json& body) {
    if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || !body.contains("value") ||
        !body["value"].is_string())
        return error(400, "body must be {\"name\": \"...\", \"value\": \"...\"}");
    const std::string name = body["name"], value = body["value"];
    if (name.empty() || name.size() > 128) return error(400, "name must be 1 to 128 characters");
    if (value.empty()) return error(400, "value must not be empty (an empty value never wins)");
    DirectoryReply reply;
    store_.inTransaction([&](Sql& s) {
        if (auto r = notLive(s, id, "/attributes")) {
            reply = *r;
            return;
        }
        std::string cid = id, n = name, v = value, source = "api", record;
        int64_t at = nowUnixMs();
        s << "INSERT INTO attribute_values (customer_id, original_customer_id, name, value, source, source_record, "
             "observed_at_ms, entered_by_hand) VALUES (?,?,?,?,?,?,?,1)",
            use(cid), use(cid), use(n), use(v), use(source), use(record), use(at), now;
        reply = {200, {{"name", name}, {"value", value}, {"entered_by_hand", true}}, ""};
    });
    return reply;
}

DirectoryReply CustomerDirectory::matchDecisions(int limit, int64_t beforeId) {
    json list = json::array();
    int64_t last = 0;
    int n = 0;
    store_.withSession([&](Sql& s) {
        int lim = limit + 1;
        Poco::Data::Statement q =
            s << "SELECT d.id, d.message_id, d.customer_id, d.decision, d.details_json, d.decided_at_ms, "
                 "m.connector, m.source_id FROM match_decisions d JOIN messages m ON m.id = d.message_id "
                 "WHERE d.id < ? ORDER BY d.id DESC LIMIT ?";
        q, use(beforeId), use(lim), now;
        Poco::Data::RecordSet rs(q);
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
            if (n++ == limit) break;
            last = rs[0].convert<int64_t>();
            list.push_back({{"id", last},
                            {"message_id", rs[1].convert<int64_t>()},
                            {"customer_id", rs[2].convert<std::string>()},
                            {"decision", rs[3].convert<std::string>()},
                            {"details", json::parse(rs[4].convert<std::string>(), nullptr, false)},
                            {"decided_at", isoMs(rs[5].convert<int64_t>())},
                            {"connector", rs[6].convert<std::string>()},
                            {"source_message_id", rs[7].convert<std::string>()}});
        }
    });
    return {200, {{"match_decisions", list}, {"next_cursor", n > limit ? json(std::to_string(last)) : json(nullptr)}}, ""};
}

}  // namespace switchboard::host::customer
