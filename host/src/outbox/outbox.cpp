#include "outbox/outbox.h"

#include "customer/customer_ids.h"
#include "customer/merges.h"
#include "outbox/channel_choice.h"
#include "outbox/dispatcher.h"
#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/Statement.h>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::outbox {

namespace {

constexpr size_t kMaxIdempotencyKey = 200;

EnqueueResult refused(int status, std::string why) {
    EnqueueResult r;
    r.httpStatus = status;
    r.error = std::move(why);
    return r;
}

// The interaction a reply answers: what threading needs from it.
struct Replied {
    std::string sourceId, threadId, conversationId;
    json references = json::array();
};

}  // namespace

Outbox::Outbox(Store& store, HostControl& sinks, Metrics& metrics,
               std::shared_ptr<customer::IdentityResolver> resolver, config::OutboxConfig config)
    : store_(store), sinks_(sinks), metrics_(metrics), resolver_(std::move(resolver)), config_(config) {
    if (!resolver_) throw std::invalid_argument("Outbox needs an identity resolver (for consent match keys)");
    dispatcher_ = std::make_unique<Dispatcher>(store_, sinks_, metrics_, config_);
}

Outbox::~Outbox() { stop(); }

void Outbox::start() { dispatcher_->start(); }
void Outbox::stop() { dispatcher_->stop(); }
void Outbox::wake() { dispatcher_->wake(); }
int Outbox::dispatchDue() { return dispatcher_->dispatchDue(); }

EnqueueResult Outbox::submit(const OutboundRequest& request) {
    EnqueueResult result;
    store_.inTransaction([&](Sql& s) { result = enqueue(s, request); });
    if (result.accepted) wake();
    return result;
}

EnqueueResult Outbox::enqueue(Sql& s, const OutboundRequest& request) {
    if (request.customerId.empty()) return refused(400, "customer_id is required");
    if (request.text.empty() && request.html.empty()) return refused(400, "text (or html) is required");
    if (request.purpose != "service" && request.purpose != "marketing")
        return refused(400, "purpose must be service or marketing, got '" + request.purpose + "'");
    if (request.idempotencyKey.size() > kMaxIdempotencyKey)
        return refused(400, "idempotency_key is longer than " + std::to_string(kMaxIdempotencyKey) + " characters");

    if (!request.idempotencyKey.empty()) {
        std::vector<int64_t> ids, messageIds;
        std::vector<std::string> connectors, channels;
        std::string key = request.idempotencyKey;
        s << "SELECT o.id, o.message_id, o.connector, COALESCE(m.channel, '') FROM outbox o "
             "LEFT JOIN messages m ON m.id = o.message_id WHERE o.idempotency_key = ?",
            use(key), into(ids), into(messageIds), into(connectors), into(channels), now;
        if (!ids.empty()) {
            EnqueueResult again;
            again.accepted = true;
            again.outboxId = ids[0];
            again.messageId = messageIds[0];
            again.connector = connectors[0];
            again.channel = channels[0];
            return again;
        }
        // A deleted dead letter leaves its interaction (source id outbox:<key>) in the timeline:
        // the key stays spent, so a new message cannot take it over.
        std::vector<int64_t> spent;
        std::string sourceId = "outbox:" + key;
        s << "SELECT id FROM messages WHERE source_id = ? AND direction = 'outbound'", use(sourceId), into(spent),
            now;
        if (!spent.empty())
            return refused(409, "idempotency_key '" + key + "' belongs to a message whose dead letter was deleted; "
                                "use a new key");
    }

    auto live = customer::liveCustomerOf(s, request.customerId);
    if (!live) return refused(404, "no customer with id '" + request.customerId + "'");
    {
        std::vector<std::string> status;
        std::string cid = *live;
        s << "SELECT status FROM customers WHERE id = ?", use(cid), into(status), now;
        if (status.empty() || status[0] == "erased")
            return refused(404, "customer '" + request.customerId + "' was erased");
    }

    Replied replied;
    if (request.replyToMessageId != 0) {
        std::vector<std::string> owner, sourceId, threadId, conversationId, normalized;
        int64_t mid = request.replyToMessageId;
        s << "SELECT COALESCE(customer_id, ''), source_id, COALESCE(thread_id, ''), conversation_id, normalized_json "
             "FROM messages WHERE id = ?",
            use(mid), into(owner), into(sourceId), into(threadId), into(conversationId), into(normalized), now;
        if (owner.empty()) return refused(400, "reply_to_message_id " + std::to_string(mid) + " does not exist");
        if (owner[0] != *live)
            return refused(400, "reply_to_message_id " + std::to_string(mid) + " belongs to another customer");
        replied = {sourceId[0], threadId[0], conversationId[0], json::array()};
        json n = json::parse(normalized[0], nullptr, false);
        if (n.is_object())
            for (const auto& r : n.value("references", json::array()))
                if (r.is_string()) replied.references.push_back(r);
        replied.references.push_back(replied.sourceId);
    }

    DeliveryChoice choice = chooseDelivery(s, sinks_, resolver_->normalizer(), *live, request);
    if (choice.httpStatus != 0) return refused(choice.httpStatus, choice.error);

    const std::string key =
        request.idempotencyKey.empty() ? customer::newId("ob_") : request.idempotencyKey;
    json recipients = json::array();
    for (const auto& r : choice.recipients)
        recipients.push_back({{"type", r.type}, {"value", r.value}, {"scope", r.scope}, {"match_key", r.matchKey}});
    json attributes = json::object();
    for (const auto& [k, v] : request.attributes) attributes[k] = v;
    json payload{{"channel", choice.channel},
                 {"direction", "outbound"},
                 {"source_id", "outbox:" + key},
                 {"recipients", recipients},
                 {"subject", request.subject},
                 {"text", request.text},
                 {"html", request.html},
                 {"in_reply_to", replied.sourceId},
                 {"references", replied.references},
                 {"conversation_id", replied.conversationId},
                 {"attributes", attributes},
                 {"purpose", request.purpose},
                 {"customer_id", *live}};

    int64_t at = nowUnixMs();  // bound by use(): POCO binds lvalues, not constants
    std::vector<int64_t> messageId;
    {
        std::string connector = choice.connector, sourceId = "outbox:" + key, channel = choice.channel,
                    conversation = replied.conversationId, subject = request.subject, text = request.text,
                    normalized = payload.dump(), cid = *live, thread = replied.threadId;
        Poco::Data::Statement insert =
            s << "INSERT INTO messages (connector, source_id, channel, direction, conversation_id, occurred_at_ms, "
                 "received_at_ms, subject, text, normalized_json, timeline_at_ms, customer_id, original_customer_id, "
                 "thread_id, delivery_status) VALUES (?,?,?,'outbound',?,?,?,?,?,?,?,?,?,"
                 "CASE WHEN ? = '' THEN NULL ELSE ? END,'queued') RETURNING id";
        insert, use(connector), use(sourceId), use(channel), use(conversation), use(at), use(at), use(subject),
            use(text), use(normalized), use(at), use(cid), use(cid), use(thread), use(thread), into(messageId);
        insert.execute();
    }
    if (messageId.empty()) throw std::runtime_error("outbox: the outbound interaction was not stored");
    std::vector<int64_t> outboxId;
    {
        int64_t mid = messageId[0];
        std::string connector = choice.connector, kind = request.kind, origin = request.origin, k = key,
                    body = payload.dump();
        Poco::Data::Statement insert =
            s << "INSERT INTO outbox (message_id, connector, kind, origin, idempotency_key, state, attempts, "
                 "next_attempt_at_ms, enqueued_at_ms, created_at_ms, updated_at_ms, payload_json) "
                 "VALUES (?,?,?,?,?,'pending',0,?,?,?,?,?) RETURNING id";
        insert, use(mid), use(connector), use(kind), use(origin), use(k), use(at), use(at), use(at), use(at),
            use(body), into(outboxId);
        insert.execute();
    }
    metrics_.add("switchboard_outbound_enqueued_total", {{"instance", choice.connector}});
    EnqueueResult ok;
    ok.accepted = true;
    ok.outboxId = outboxId.at(0);
    ok.messageId = messageId[0];
    ok.connector = choice.connector;
    ok.channel = choice.channel;
    return ok;
}

}  // namespace switchboard::host::outbox
