#include "outbox/channel_choice.h"

#include "customer/consent.h"
#include "customer/identity_normalizer.h"
#include "store/sql.h"

#include <Poco/Data/Statement.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::outbox {

namespace {

struct LatestInbound {
    std::string connector;
    std::string channel;
    std::string normalizedJson;
};

// The customer's latest inbound interaction, optionally on one channel or one instance.
std::optional<LatestInbound> latestInbound(Sql& s, const std::string& customerId, const std::string& channel,
                                           const std::string& connector) {
    std::vector<std::string> connectors, channels, normalized;
    std::string cid = customerId, ch = channel, con = connector;
    s << "SELECT connector, channel, normalized_json FROM messages WHERE customer_id = ? AND direction = 'inbound' "
         "AND (? = '' OR channel = ?) AND (? = '' OR connector = ?) ORDER BY timeline_at_ms DESC, id DESC LIMIT 1",
        use(cid), use(ch), use(ch), use(con), use(con), into(connectors), into(channels), into(normalized), now;
    if (connectors.empty()) return std::nullopt;
    return LatestInbound{connectors[0], channels[0], normalized[0]};
}

bool isSink(const ConnectorStatus& st) { return st.kind.find("sink") != std::string::npos; }

// The customer's preferred_channel: a value entered by hand wins, else the latest observed.
std::string preferredChannel(Sql& s, const std::string& customerId) {
    std::vector<std::string> values;
    std::string cid = customerId;
    s << "SELECT value FROM attribute_values WHERE customer_id = ? AND name = 'preferred_channel' AND value <> '' "
         "ORDER BY entered_by_hand DESC, observed_at_ms DESC, id DESC LIMIT 1",
        use(cid), into(values), now;
    return values.empty() ? "" : values[0];
}

struct Candidate {
    Recipient recipient;
    std::string matchKey;
};

// A withheld, unparseable or alphanumeric sender cannot be written back to (a short code can).
bool reachable(const customer::NormalizedIdentity& id) { return id.matchable || id.flag == "short_code"; }

std::vector<Candidate> senderCandidates(const std::string& normalizedJson,
                                        const customer::IdentityNormalizer& normalizer) {
    std::vector<Candidate> out;
    json n = json::parse(normalizedJson, nullptr, false);
    if (!n.is_object()) return out;
    for (const auto& i : n.value("sender", json::array())) {
        if (!i.is_object()) continue;
        auto type = customer::parseIdentityType(i.value("type", ""));
        if (!type) continue;
        auto norm = normalizer.normalize(*type, i.value("value", ""), i.value("scope", ""));
        if (!reachable(norm)) continue;
        out.push_back({{i.value("type", ""), norm.normalized, norm.scope, norm.matchKey}, norm.matchKey});
    }
    return out;
}

std::vector<Candidate> identityCandidates(Sql& s, const std::string& customerId, const std::string& type) {
    std::vector<std::string> raws, scopes, keys;
    std::string cid = customerId, t = type;
    // Not every stored value can be written to: a blocked placeholder, a shared or
    // over-cardinality address (support@, a family phone) is not this person's alone, and a
    // withheld, unparseable or alphanumeric sender cannot be dialled.
    s << "SELECT normalized, scope, match_key FROM identities WHERE customer_id = ? AND type = ? "
         "AND match_status IN ('usable', 'ambiguous', 'over_limit', 'not_matched_type', 'short_code') "
         "ORDER BY last_seen_ms DESC, id DESC",
        use(cid), use(t), into(raws), into(scopes), into(keys), now;
    std::vector<Candidate> out;
    for (size_t i = 0; i < raws.size(); ++i) out.push_back({{type, raws[i], scopes[i], keys[i]}, keys[i]});
    return out;
}

// One declared reach ("phone", "external", "external:crm") as an identity type and the
// prefix its values must have ("crm:" for external:crm).
std::pair<std::string, std::string> reachType(const std::string& reach) {
    const auto colon = reach.find(':');
    if (colon == std::string::npos) return {reach, ""};
    return {reach.substr(0, colon), reach.substr(colon + 1) + ":"};
}

bool reaches(const std::vector<std::string>& declared, const Recipient& r) {
    for (const auto& reach : declared) {
        const auto [type, prefix] = reachType(reach);
        if (r.type == type && r.value.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
}

// The customer's addresses a sink can deliver to: the types it declared, in its order (the
// first type that has one wins); else the type its channel name implies (1.0-1.3 plugins).
std::vector<Candidate> reachableIdentities(Sql& s, const std::string& customerId, const std::vector<std::string>& declared,
                                           const std::string& channel) {
    if (declared.empty()) {
        const std::string type = addressTypeFor(channel);
        return type.empty() ? std::vector<Candidate>{} : identityCandidates(s, customerId, type);
    }
    for (const auto& reach : declared) {
        const auto [type, prefix] = reachType(reach);
        std::vector<Candidate> found;
        for (auto& c : identityCandidates(s, customerId, type))
            if (c.recipient.value.compare(0, prefix.size(), prefix) == 0) found.push_back(std::move(c));
        if (!found.empty()) return found;
    }
    return {};
}

DeliveryChoice refuse(int status, std::string why) {
    DeliveryChoice c;
    c.httpStatus = status;
    c.error = std::move(why);
    return c;
}

}  // namespace

std::string addressTypeFor(const std::string& channel) {
    if (channel == "sms" || channel == "whatsapp" || channel == "voice" || channel == "phone") return "phone";
    if (channel == "email") return "email";
    return "";
}

DeliveryChoice chooseDelivery(Sql& s, const HostControl& sinks, const customer::IdentityNormalizer& normalizer,
                              const std::string& customerId, const OutboundRequest& request) {
    DeliveryChoice choice;
    if (!request.connector.empty()) {
        auto st = sinks.connector(request.connector);
        if (!st) return refuse(400, "no connector instance named '" + request.connector + "'");
        if (!isSink(*st))
            return refuse(400, "connector '" + request.connector + "' (plugin " + st->plugin + ") cannot send: it is a " +
                                   st->kind + ", not a sink");
        choice.connector = request.connector;
        if (auto last = latestInbound(s, customerId, "", request.connector)) {
            choice.channel = last->channel;
        } else {
            choice.channel = st->plugin;
            for (const auto& [k, v] : st->options)
                if (k == "channel" && !v.empty()) choice.channel = v;
        }
    } else {
        std::string channel = request.channel;
        if (channel.empty() && request.followPreference) {
            channel = preferredChannel(s, customerId);
            if (channel.empty())
                return refuse(409, "customer '" + customerId +
                                       "' has no preferred_channel attribute; name a channel or a connector");
        }
        auto last = latestInbound(s, customerId, channel, "");
        if (!last) {
            return refuse(409, channel.empty()
                                   ? "customer '" + customerId + "' has no inbound interaction to reply on; name a "
                                                                 "`connector` to send through"
                                   : "customer '" + customerId + "' has never written on channel '" + channel +
                                         "', so no instance is known to reply there; name the sink with `connector`");
        }
        channel = last->channel;
        auto st = sinks.connector(last->connector);
        if (!st || !isSink(*st))
            return refuse(409, "channel '" + channel + "': the customer's latest inbound there came through '" +
                                   last->connector + "', which cannot send; name a sink with `connector`");
        choice.connector = last->connector;
        choice.channel = channel;
    }

    const auto sink = sinks.connector(choice.connector);
    const std::vector<std::string> declared = sink ? sink->reaches : std::vector<std::string>{};
    std::vector<Candidate> candidates;
    if (auto last = latestInbound(s, customerId, "", choice.connector))
        candidates = senderCandidates(last->normalizedJson, normalizer);
    if (!declared.empty())
        candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                        [&](const Candidate& c) { return !reaches(declared, c.recipient); }),
                         candidates.end());
    const bool fromSender = !candidates.empty();
    if (!fromSender) candidates = reachableIdentities(s, customerId, declared, choice.channel);
    if (candidates.empty()) {
        std::string what = "has no identity this channel can reach";
        if (!declared.empty()) {
            std::string types;
            for (const auto& d : declared) types += (types.empty() ? "" : ", ") + d;
            what = "has no identity of a type connector '" + choice.connector + "' reaches (" + types + ")";
        }
        return refuse(409, "no address for channel '" + choice.channel + "': customer '" + customerId + "' " + what);
    }
    std::string refusedWhy;
    for (const auto& c : candidates) {
        const std::string status = customer::consentStatus(s, c.matchKey, request.purpose);
        if (customer::consentAllows(request.purpose, status)) {
            choice.recipients.push_back(c.recipient);
            if (!fromSender) break;  // one address of the type: the most recently seen that may be used
        } else if (refusedWhy.empty()) {
            refusedWhy = customer::consentRefusal(c.recipient.type + ":" + c.recipient.value, request.purpose, status);
        }
    }
    if (choice.recipients.empty())
        return refuse(409, "consent: " + refusedWhy + "; nothing sent on channel '" + choice.channel + "'");
    return choice;
}

}  // namespace switchboard::host::outbox
