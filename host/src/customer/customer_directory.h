// Read and change customers for the API: lookup by identity (normalized first, so
// "phone:912 345 678" finds +351912345678 with default region PT), name/identity search,
// the customer view, the cross-channel timeline (newest first, keyset cursor: stable while
// new interactions arrive), merges, manual merge and exact unmerge, match decisions.
#pragma once

#include "customer/resolver.h"
#include "store/store.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

namespace switchboard::host::customer {

// An answer for the API: HTTP status, JSON body, and an optional Location (merged ids).
struct DirectoryReply {
    int status = 200;
    nlohmann::json body;
    std::string location;
};

// The surviving value of each of a customer's attributes, as GET /api/v1/customers/{id}
// shows them (name → {value, source, ...}): entered by hand > the first instance of
// sourcePriority with a value > the most recent. Routing rules test these values too.
nlohmann::json survivingAttributes(Sql& session, const std::string& customerId,
                                   const std::vector<std::string>& sourcePriority);

class CustomerDirectory {
public:
    CustomerDirectory(Store& store, std::shared_ptr<IdentityResolver> resolver);

    DirectoryReply findByIdentity(const std::string& typeAndValue);
    DirectoryReply search(const std::string& q, int limit);
    DirectoryReply get(const std::string& id);
    DirectoryReply timeline(const std::string& id, int limit, const std::string& cursor, const std::string& channel);
    DirectoryReply merges(const std::string& id);
    DirectoryReply merge(const std::string& survivor, const std::string& other);
    DirectoryReply unmerge(const std::string& id, int64_t mergeId);
    DirectoryReply matchDecisions(int limit, int64_t beforeId);
    DirectoryReply exportCustomer(const std::string& id);
    // body: {"identity": "TYPE:VALUE", "purpose": "service"|"marketing", "status": "opted_in"|"opted_out",
    //        "evidence": "..."}; the identity must belong to the customer.
    DirectoryReply setConsent(const std::string& id, const nlohmann::json& body);
    // body: {"name": "...", "value": "..."}: a value entered by hand, which wins survivorship.
    DirectoryReply setAttribute(const std::string& id, const nlohmann::json& body);
    // What the configured rules would decide for a message from these identities, computed by
    // the real resolver in a transaction that is rolled back: nothing is stored.
    // body: {"identities": [{"type", "value", "scope"?}], "name"?: "...", "connector"?: "..."}
    DirectoryReply matchPreview(const nlohmann::json& body);
    DirectoryReply erase(const std::string& id);

private:
    // 404 for an unknown id, 301 naming the survivor for a merged one; nullopt when live.
    std::optional<DirectoryReply> notLive(Sql& s, const std::string& id, const std::string& suffix);
    Store& store_;
    std::shared_ptr<IdentityResolver> resolver_;
};

}  // namespace switchboard::host::customer
