// Identity resolution: links each stored message to one customer, inside the transaction
// that stores the message (so a crash never leaves an acknowledged message unresolved, and
// two first contacts of one person arriving at once create exactly one customer).
//
// Deterministic rules: each sender identity is normalized; identities that are not
// matchable, not of a configured match type, blocked or shared are attached but never used
// to link. A usable identity that already belongs to several live customers is ambiguous
// and is not used either. The remaining identities name zero customers (a new customer is
// created), one (the message joins it) or several: in auto_merge mode the oldest customer
// absorbs the others, recorded as a merge with its trigger; in match_only mode the would-be
// merge is only recorded. Every decision is written to match_decisions. With a cardinality
// threshold, a value presented together with more distinct values of other types than the
// threshold is generic (a family phone, a front desk) and stops linking.
#pragma once

#include "config/config.h"
#include "customer/identity_normalizer.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace switchboard::host {
class Sql;  // store/sql.h
}

namespace switchboard::host::customer {

struct SenderIdentity {
    std::string type;  // "email", "phone", "external"
    std::string value;
    std::string scope;
};

struct ResolutionInput {
    int64_t messageId = 0;
    std::string connector;
    std::string senderName;
    std::vector<SenderIdentity> sender;
    int64_t atMs = 0;
    std::string sourceId;  // the provider's message id: provenance of attribute values
    // Customer attributes the message carries ("customer.<name>" message attributes, without
    // the prefix), observed at atMs.
    std::vector<std::pair<std::string, std::string>> attributes;
};

struct ResolutionResult {
    std::string customerId;
    std::string decision;  // new_customer | matched | merged | would_merge
};

class IdentityResolver {
public:
    explicit IdentityResolver(const config::IdentityConfig& config);

    // Runs in the caller's open transaction on session.
    ResolutionResult resolve(Sql& session, const ResolutionInput& input);

    const IdentityNormalizer& normalizer() const { return normalizer_; }
    const std::vector<std::string>& sourcePriority() const { return sourcePriority_; }
    // "usable", "blocked", "shared", "not_matched_type" or the normalizer's flag.
    std::string statusOf(const NormalizedIdentity& identity) const;

private:
    struct Candidate;
    void applyCardinality(Sql& session, std::vector<Candidate>& candidates, int64_t atMs) const;
    bool listed(const std::set<std::string>& keys, const NormalizedIdentity& identity) const;

    IdentityNormalizer normalizer_;
    std::vector<std::string> sourcePriority_;
    std::map<std::string, int64_t> limits_;
    int64_t limitWindowMs_ = 0;
    std::map<std::string, int64_t> cardinality_;  // identity type → most distinct partner values
    std::set<std::string> matchTypes_;
    bool autoMerge_ = true;
    std::set<std::string> blocked_;  // match keys, or "email-local|<local>@" for any domain
    std::set<std::string> shared_;
};

}  // namespace switchboard::host::customer
