// What the outbox is asked to deliver: a message to a customer (POST /api/v1/messages or a
// routing rule's reply), a forwarded copy of an interaction, or a case for a CRM sink.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host::outbox {

struct OutboundRequest {
    std::string customerId;
    // Where to send: a sink connector instance by name; else a channel ("sms", "email"); else
    // (both empty) the channel of the customer's latest inbound interaction, or their stated
    // preference when followPreference is set.
    std::string connector;
    std::string channel;
    bool followPreference = false;
    std::string purpose = "service";  // consent purpose checked: service | marketing
    std::string kind = "message";     // message | forward | case
    std::string subject;
    std::string text;
    std::string html;
    std::vector<std::pair<std::string, std::string>> attributes;  // passed to the sink
    int64_t replyToMessageId = 0;  // messages.id of the interaction this answers (threading)
    std::string origin;            // "api" or "rule:<name>"
    std::string idempotencyKey;    // optional: the same key enqueues once
};

struct EnqueueResult {
    bool accepted = false;
    int httpStatus = 0;  // when refused: 400 bad request, 404 no such customer, 409 consent/no address
    std::string error;   // when refused: what and why, for the API and the routing outcome
    int64_t outboxId = 0;
    int64_t messageId = 0;  // the outbound interaction in messages
    std::string connector;
    std::string channel;
};

}  // namespace switchboard::host::outbox
