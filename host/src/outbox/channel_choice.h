// Where an outbound message goes: which sink instance, on which channel, to which of the
// customer's addresses, and whether consent lets it go there (outbox/outbox.h).
//
// Instance:  `connector` named → that instance (it must exist and be a sink).
//            `channel` named (or the customer's preferred_channel with followPreference, or
//            else the channel of their latest inbound interaction) → the instance that
//            received their latest inbound on that channel, when it is a sink; otherwise
//            409, naming the channel and suggesting `connector`.
// Channel:   of a named instance: the channel of the customer's latest inbound there, else
//            the instance's `channel` option, else its plugin's name.
// Recipient: (normalized values: E.164 phones, "system:id" external ids) the sender identities of the customer's latest inbound on that instance; else
//            their most recently seen identity of the type the channel uses (sms, whatsapp,
//            voice → phone; email → email); else 409 "no address for channel X".
// Consent:   addresses opted out of the purpose (marketing: not opted in) are left out;
//            when none is left the request is refused with 409.
#pragma once

#include "outbox/outbound_request.h"
#include "runtime/host_control.h"

#include <string>
#include <vector>

namespace switchboard::host {
class Sql;
}
namespace switchboard::host::customer {
class IdentityNormalizer;
}

namespace switchboard::host::outbox {

struct Recipient {
    std::string type;  // email | phone | external
    std::string value;
    std::string scope;
    std::string matchKey;  // what consent is kept under: checked again before each send
};

struct DeliveryChoice {
    int httpStatus = 0;  // 0 when chosen; else 400 or 409 with error
    std::string error;
    std::string connector;
    std::string channel;
    std::vector<Recipient> recipients;
};

// The identity type a channel addresses ("phone" for sms/whatsapp/voice, "email" for email),
// "" when the channel has no natural address type.
std::string addressTypeFor(const std::string& channel);

// customerId is the live customer. Reads only; runs in the caller's transaction.
DeliveryChoice chooseDelivery(Sql& s, const HostControl& sinks, const customer::IdentityNormalizer& normalizer,
                              const std::string& customerId, const OutboundRequest& request);

}  // namespace switchboard::host::outbox
