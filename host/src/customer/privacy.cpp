#include "customer/privacy.h"

#include "runtime/message_codec.h"
#include "store/sql.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>

using namespace Poco::Data::Keywords;
using nlohmann::json;

namespace switchboard::host::customer {

namespace {

const char* const kSubtree =
    "WITH RECURSIVE sub(id) AS (SELECT CAST(? AS TEXT) UNION "
    "SELECT c.id FROM customers c JOIN sub ON c.merged_into = sub.id) ";

// Rows of a query as JSON objects, column names as keys (BLOBs as their bytes). Every "?"
// binds param.
json rows(Sql& s, const std::string& sql, const std::string& param) {
    std::string p = param;
    Poco::Data::Statement q = s << sql;
    for (char c : sql)
        if (c == '?') q, use(p);
    q, now;
    Poco::Data::RecordSet rs(q);
    json out = json::array();
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
        json row = json::object();
        for (size_t c = 0; c < rs.columnCount(); ++c) {
            const std::string name = rs.columnName(c);
            if (rs[c].isEmpty()) {
                row[name] = nullptr;
            } else if (rs.columnType(c) == Poco::Data::MetaColumn::FDT_BLOB) {
                auto blob = rs[c].extract<Poco::Data::BLOB>();
                std::string bytes(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
                if (isValidUtf8(bytes)) {
                    row[name] = bytes;
                } else {
                    std::ostringstream b64;
                    Poco::Base64Encoder enc(b64);
                    enc << bytes;
                    enc.close();
                    row[name] = json{{"base64", b64.str()}};
                }
            } else if (rs.columnType(c) == Poco::Data::MetaColumn::FDT_INT64 ||
                       rs.columnType(c) == Poco::Data::MetaColumn::FDT_INT32) {
                row[name] = rs[c].convert<int64_t>();
            } else {
                row[name] = rs[c].convert<std::string>();
            }
        }
        out.push_back(std::move(row));
    }
    return out;
}

}  // namespace

std::string keyedHash(const std::string& key, const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
         text.size(), digest, &length);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::string messageKeyHash(const std::string& key, const std::string& connector, const std::string& sourceId) {
    return keyedHash(key, connector + "\n" + sourceId);
}

json exportCustomer(Sql& s, const std::string& id) {
    const std::string sub = std::string(kSubtree);
    json doc;
    doc["customer_id"] = id;
    doc["customers"] = rows(s, sub + "SELECT * FROM customers WHERE id IN (SELECT id FROM sub) ORDER BY created_at_ms", id);
    doc["identities"] = rows(s, sub + "SELECT * FROM identities WHERE original_customer_id IN (SELECT id FROM sub) "
                                      "OR customer_id = ? ORDER BY id", id);
    doc["interactions"] = rows(s, sub + "SELECT id, connector, source_id, channel, direction, conversation_id, "
                                        "occurred_at_ms, received_at_ms, subject, text, normalized_json, "
                                        "raw_content_type, raw, customer_id, original_customer_id FROM messages "
                                        "WHERE original_customer_id IN (SELECT id FROM sub) OR customer_id = ? ORDER BY id",
                               id);
    doc["attributes"] = rows(s, sub + "SELECT * FROM attribute_values WHERE original_customer_id IN "
                                      "(SELECT id FROM sub) OR customer_id = ? ORDER BY id", id);
    doc["conversations"] = rows(s, sub + "SELECT * FROM conversations WHERE original_customer_id IN "
                                         "(SELECT id FROM sub) OR customer_id = ? ORDER BY opened_at_ms", id);
    doc["consents"] = rows(s, sub + "SELECT * FROM consents WHERE match_key IN (SELECT match_key FROM identities "
                                    "WHERE customer_id IN (SELECT id FROM sub) OR original_customer_id IN "
                                    "(SELECT id FROM sub)) ORDER BY match_key, purpose", id);
    doc["merges"] = rows(s, sub + "SELECT * FROM merges WHERE survivor_id IN (SELECT id FROM sub) "
                                  "OR absorbed_id IN (SELECT id FROM sub) ORDER BY id", id);
    doc["match_decisions"] = rows(s, sub + "SELECT * FROM match_decisions WHERE customer_id IN (SELECT id FROM sub) "
                                           "ORDER BY id", id);
    return doc;
}

json eraseCustomer(Sql& s, const std::string& id, const std::string& hashKey, int64_t atMs) {
    const std::string sub = std::string(kSubtree);
    std::string cid = id;
    int64_t at = atMs;
    std::vector<std::string> customers;
    s << sub + "SELECT id FROM sub", use(cid), into(customers), now;

    int64_t erasureId = 0;
    s << "INSERT INTO erasures (customer_id, erased_at_ms, customers, identities, interactions) "
         "VALUES (?, ?, 0, 0, 0) RETURNING id",
        use(cid), use(at), into(erasureId), now;

    // Hash what must be recognised later, then delete the rows themselves.
    std::vector<std::string> connectors, sourceIds, matchKeys;
    s << sub + "SELECT connector, source_id FROM messages WHERE customer_id IN (SELECT id FROM sub) "
               "OR original_customer_id IN (SELECT id FROM sub)",
        use(cid), into(connectors), into(sourceIds), now;
    s << sub + "SELECT DISTINCT match_key FROM identities WHERE customer_id IN (SELECT id FROM sub) "
               "OR original_customer_id IN (SELECT id FROM sub)",
        use(cid), into(matchKeys), now;
    for (size_t i = 0; i < connectors.size(); ++i) {
        std::string h = messageKeyHash(hashKey, connectors[i], sourceIds[i]);
        s << "INSERT INTO erased_keys (kind, key_hash, erasure_id) VALUES ('message', ?, ?) "
             "ON CONFLICT (kind, key_hash) DO NOTHING", use(h),
            use(erasureId), now;
    }
    for (const auto& key : matchKeys) {
        std::string h = keyedHash(hashKey, key);
        s << "INSERT INTO erased_keys (kind, key_hash, erasure_id) VALUES ('identity', ?, ?) "
             "ON CONFLICT (kind, key_hash) DO NOTHING", use(h),
            use(erasureId), now;
    }
    s << sub + "DELETE FROM match_decisions WHERE customer_id IN (SELECT id FROM sub) OR message_id IN "
               "(SELECT m.id FROM messages m WHERE m.customer_id IN (SELECT id FROM sub) "
               "OR m.original_customer_id IN (SELECT id FROM sub))",
        use(cid), now;
    // Outbound messages waiting, sent or dead-lettered carry the address and text in their payload.
    s << sub + "DELETE FROM outbox WHERE message_id IN (SELECT m.id FROM messages m WHERE m.customer_id IN "
               "(SELECT id FROM sub) OR m.original_customer_id IN (SELECT id FROM sub))",
        use(cid), now;
    s << sub + "DELETE FROM messages WHERE customer_id IN (SELECT id FROM sub) "
               "OR original_customer_id IN (SELECT id FROM sub)",
        use(cid), now;
    s << sub + "DELETE FROM identities WHERE customer_id IN (SELECT id FROM sub) "
               "OR original_customer_id IN (SELECT id FROM sub)",
        use(cid), now;
    s << sub + "DELETE FROM merges WHERE survivor_id IN (SELECT id FROM sub) OR absorbed_id IN (SELECT id FROM sub)",
        use(cid), now;
    for (const char* table : {"attribute_values", "conversations"})
        s << sub + "DELETE FROM " + table +
                 " WHERE customer_id IN (SELECT id FROM sub) OR original_customer_id IN (SELECT id FROM sub)",
            use(cid), now;
    // Consent belongs to the addresses just erased: it goes with them.
    for (const auto& key : matchKeys) {
        std::string k = key;
        s << "DELETE FROM consents WHERE match_key = ?", use(k), now;
        s << "DELETE FROM identity_partners WHERE match_key = ? OR partner_key = ?", use(k), use(k), now;
    }
    // The tombstone: ids only, nothing that identifies the person.
    s << sub + "UPDATE customers SET status = 'erased', display_name = '', merged_into = NULL, updated_at_ms = ? "
               "WHERE id IN (SELECT id FROM sub)",
        use(cid), use(at), now;
    int64_t nCustomers = static_cast<int64_t>(customers.size()), nIdentities = static_cast<int64_t>(matchKeys.size()),
            nMessages = static_cast<int64_t>(connectors.size());
    s << "UPDATE erasures SET customers = ?, identities = ?, interactions = ? WHERE id = ?", use(nCustomers),
        use(nIdentities), use(nMessages), use(erasureId), now;
    return {{"erasure_id", erasureId},
            {"customers", nCustomers},
            {"identities", nIdentities},
            {"interactions", nMessages}};
}

bool isErasedMessage(Sql& s, const std::string& hashKey, const std::string& connector,
                     const std::string& sourceId) {
    // Asked for every message stored: a cached statement (store/sql.h).
    return !s.query("SELECT 1 FROM erased_keys WHERE kind = 'message' AND key_hash = ? LIMIT 1",
                    {messageKeyHash(hashKey, connector, sourceId)})
                .empty();
}

bool isErasedIdentity(Sql& s, const std::string& hashKey, const std::string& matchKey) {
    std::string h = keyedHash(hashKey, matchKey);
    int64_t n = 0;
    s << "SELECT COUNT(*) FROM erased_keys WHERE kind = 'identity' AND key_hash = ?", use(h), into(n), now;
    return n > 0;
}

}  // namespace switchboard::host::customer
