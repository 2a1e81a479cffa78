// The outbox's admin side: list rows by state, replay and delete dead letters.
#include "outbox/outbox.h"

#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

#include <chrono>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::outbox {

namespace {

json isoOrNull(int64_t ms) {
    if (ms <= 0) return nullptr;
    return formatUtc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

AdminReply adminError(int status, const std::string& why) { return {status, json{{"error", why}}}; }

// The row's state, or "" when there is no such row.
std::string stateOf(Sql& s, int64_t id) {
    std::vector<std::string> state;
    int64_t rowId = id;
    s << "SELECT state FROM outbox WHERE id = ?", use(rowId), into(state), now;
    return state.empty() ? "" : state[0];
}

}  // namespace

AdminReply Outbox::list(const std::string& state, int limit, int64_t beforeId) {
    if (!state.empty() && state != "pending" && state != "sent" && state != "dead")
        return adminError(400, "state must be pending, sent or dead, got '" + state + "'");
    json items = json::array();
    int64_t last = 0;
    int n = 0;
    store_.withSession([&](Sql& s) {
        std::string st = state;
        int lim = limit + 1;
        int64_t before = beforeId;
        Poco::Data::Statement q =
            s << "SELECT o.id, o.message_id, o.connector, o.kind, o.origin, o.idempotency_key, o.state, o.attempts, "
                 "o.next_attempt_at_ms, o.enqueued_at_ms, o.created_at_ms, o.updated_at_ms, o.last_error, "
                 "COALESCE(m.customer_id, ''), COALESCE(m.channel, ''), COALESCE(m.delivery_status, '') "
                 "FROM outbox o LEFT JOIN messages m ON m.id = o.message_id "
                 "WHERE (? = '' OR o.state = ?) AND o.id < ? ORDER BY o.id DESC LIMIT ?";
        q, use(st), use(st), use(before), use(lim), now;
        Poco::Data::RecordSet rs(q);
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
            if (n++ == limit) break;
            last = rs[0].convert<int64_t>();
            const std::string rowState = rs[6].convert<std::string>();
            const std::string error = rs[12].convert<std::string>();
            items.push_back({{"id", last},
                             {"message_id", rs[1].convert<int64_t>()},
                             {"connector", rs[2].convert<std::string>()},
                             {"kind", rs[3].convert<std::string>()},
                             {"origin", rs[4].convert<std::string>()},
                             {"idempotency_key", rs[5].convert<std::string>()},
                             {"state", rowState},
                             {"attempts", rs[7].convert<int64_t>()},
                             {"next_attempt_at", rowState == "pending" ? isoOrNull(rs[8].convert<int64_t>()) : json()},
                             {"enqueued_at", isoOrNull(rs[9].convert<int64_t>())},
                             {"created_at", isoOrNull(rs[10].convert<int64_t>())},
                             {"updated_at", isoOrNull(rs[11].convert<int64_t>())},
                             {"last_error", error.empty() ? json() : json(error)},
                             {"customer_id", rs[13].convert<std::string>()},
                             {"channel", rs[14].convert<std::string>()},
                             {"delivery_status", rs[15].convert<std::string>()}});
        }
    });
    return {200, {{"items", items}, {"next_cursor", n > limit ? json(std::to_string(last)) : json(nullptr)}}};
}

AdminReply Outbox::replay(int64_t id) {
    AdminReply reply;
    store_.inTransaction([&](Sql& s) {
        const std::string state = stateOf(s, id);
        if (state.empty()) {
            reply = adminError(404, "no dead letter with id " + std::to_string(id));
            return;
        }
        if (state != "dead") {
            reply = adminError(409, "outbox entry " + std::to_string(id) + " is " + state + ", not dead; only dead "
                                                                                         "letters can be replayed");
            return;
        }
        int64_t at = nowUnixMs(), rowId = id;
        // The sink is told it is a replay (sb_message.replay): mark the payload, in C++ so
        // both SQL dialects do the same.
        std::vector<std::string> payloads;
        s << "SELECT payload_json FROM outbox WHERE id = ?", use(rowId), into(payloads), now;
        json payload = payloads.empty() ? json() : json::parse(payloads[0], nullptr, false);
        std::string marked = payloads.empty() ? "{}" : payloads[0];
        if (payload.is_object()) {
            payload["replayed"] = true;
            marked = payload.dump();
        }
        // A fresh budget: attempts and max_age count again from now.
        s << "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at_ms = ?, enqueued_at_ms = ?, "
             "updated_at_ms = ?, payload_json = ? WHERE id = ?",
            use(at), use(at), use(at), use(marked), use(rowId), now;
        s << "UPDATE messages SET delivery_status = 'queued', delivery_detail = 'replayed from the dead-letter queue' "
             "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)",
            use(rowId), now;
        reply = {202, {{"id", id}, {"state", "pending"}}};
    });
    if (reply.status == 202) wake();
    return reply;
}

AdminReply Outbox::remove(int64_t id) {
    AdminReply reply;
    store_.inTransaction([&](Sql& s) {
        const std::string state = stateOf(s, id);
        if (state.empty()) {
            reply = adminError(404, "no dead letter with id " + std::to_string(id));
            return;
        }
        if (state != "dead") {
            reply = adminError(409, "outbox entry " + std::to_string(id) + " is " + state + ", not dead; only dead "
                                                                                         "letters can be deleted");
            return;
        }
        int64_t rowId = id;
        // The interaction stays in the timeline as failed; only the queue entry goes.
        s << "UPDATE messages SET delivery_detail = COALESCE(delivery_detail, '') || ' (dead letter deleted)' "
             "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)",
            use(rowId), now;
        s << "DELETE FROM outbox WHERE id = ?", use(rowId), now;
        reply = {200, {{"id", id}, {"deleted", true}}};
    });
    return reply;
}

}  // namespace switchboard::host::outbox
