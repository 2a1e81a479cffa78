// Export and erasure of one person. Export gives everything held about the customer (and
// the customers merged into it) as one JSON document. Erasure removes their identities,
// interactions and payloads, merge records and decisions; what remains is a tombstone:
// the customer id with status "erased" and keyed hashes (HMAC-SHA256 with a per-store
// random key) of their message keys and identities. The hashes make the erasure auditable
// and let the store recognise a redelivered old message, which is acknowledged and not
// stored, so an erased person is never silently recreated.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace switchboard::host {
class Sql;  // store/sql.h
}

namespace switchboard::host::customer {

// HMAC-SHA256(key, text) in hex.
std::string keyedHash(const std::string& key, const std::string& text);
// The tombstone key of a message: keyedHash(key, connector + "\n" + sourceId).
std::string messageKeyHash(const std::string& key, const std::string& connector, const std::string& sourceId);

// Everything held about a live customer (its subtree included). Caller holds the session.
nlohmann::json exportCustomer(Sql& session, const std::string& id);

// Erases a live customer and everything merged into it, in the caller's transaction.
// Returns {"erasure_id", "customers", "identities", "interactions"} counts.
nlohmann::json eraseCustomer(Sql& session, const std::string& id, const std::string& hashKey,
                             int64_t atMs);

bool isErasedMessage(Sql& session, const std::string& hashKey, const std::string& connector,
                     const std::string& sourceId);
bool isErasedIdentity(Sql& session, const std::string& hashKey, const std::string& matchKey);

}  // namespace switchboard::host::customer
