#include "routing/routing_stage.h"

#include "customer/customer_directory.h"
#include "log/log.h"

#include <Poco/Data/Statement.h>

#include <algorithm>

using namespace Poco::Data::Keywords;

namespace switchboard::host::routing {

namespace {

constexpr const char* kRoutedTotal = "switchboard_routed_total";

}  // namespace

RoutingStage::RoutingStage(const config::RoutingConfig& config, Metrics& metrics,
                           std::vector<std::string> attributeSourcePriority)
    : engine_(config), metrics_(metrics), sourcePriority_(std::move(attributeSourcePriority)) {
    if (!engine_.empty())
        metrics_.describe(kRoutedTotal, "counter",
                          "Inbound interactions routed, by connector instance and matching rule "
                          "(rule=\"(none)\" when no rule matched).");
}

RoutingInput RoutingStage::inputFor(Sql& sql, const StoredInbound& in) const {
    const MessageRecord& m = in.message;
    RoutingInput input;
    input.messageId = in.messageId;
    input.customerId = in.customerId;
    input.channel = m.channel;
    input.connector = m.connector;
    input.subject = m.subject;
    input.text = m.text;
    input.atMs = in.timelineAtMs;
    for (const auto& id : m.sender)
        if (std::find(input.identityTypes.begin(), input.identityTypes.end(), id.type) == input.identityTypes.end())
            input.identityTypes.push_back(id.type);
    if (in.customerId.empty()) return input;
    std::vector<std::string> names;
    std::string cid = in.customerId;
    sql << "SELECT display_name FROM customers WHERE id = ?", use(cid), into(names), now;
    if (!names.empty()) input.customerName = names[0];
    if (input.customerName.empty()) input.customerName = m.senderName;
    // The same survivorship as the customer API: what an agent sees is what rules test.
    const nlohmann::json attrs = customer::survivingAttributes(sql, in.customerId, sourcePriority_);
    for (const auto& [name, value] : attrs.items()) input.customerAttributes[name] = value.value("value", "");
    return input;
}

void RoutingStage::process(Sql& sql, const StoredInbound& in, const Enqueue& enqueue) const {
    if (engine_.empty()) return;
    RoutingOutcome outcome = engine_.evaluate(inputFor(sql, in));
    for (ActionResult& a : outcome.actions) {
        if (a.request.customerId.empty()) {
            a.status = "refused";
            a.error = "the message has no customer to send to";
            continue;
        }
        outbox::EnqueueResult r = enqueue(sql, a.request);
        a.status = r.accepted ? "accepted" : "refused";
        a.error = r.accepted ? "" : r.error;
        a.outboxId = r.outboxId;
        if (!r.accepted)
            logWarn("routing action refused", {{"rule", a.rule},
                                               {"action", std::to_string(a.index) + " (" + a.request.kind + ")"},
                                               {"message_id", std::to_string(in.messageId)},
                                               {"connector", in.message.connector},
                                               {"error", r.error}});
    }
    std::string json = outcome.toJson().dump();
    int64_t id = in.messageId;
    sql << "UPDATE messages SET routing_json = ? WHERE id = ?", use(json), use(id), now;
    const std::string& instance = in.message.connector;
    if (outcome.matchedRules.empty()) metrics_.add(kRoutedTotal, {{"instance", instance}, {"rule", "(none)"}});
    for (const auto& rule : outcome.matchedRules) metrics_.add(kRoutedTotal, {{"instance", instance}, {"rule", rule}});
}

}  // namespace switchboard::host::routing
