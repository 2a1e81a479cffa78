#include "customer/consent.h"

#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/Statement.h>

#include <chrono>
#include <vector>

using namespace Poco::Data::Keywords;

namespace switchboard::host::customer {

std::string consentStatus(Sql& s, const std::string& matchKey, const std::string& purpose) {
    std::vector<std::string> status;
    std::string key = matchKey, p = purpose;
    s << "SELECT status FROM consents WHERE match_key = ? AND purpose = ?", use(key), use(p), into(status), now;
    return status.empty() ? "" : status[0];
}

void recordConsent(Sql& s, const std::string& matchKey, const std::string& purpose, const std::string& status,
                   const std::string& source, const std::string& evidence, int64_t atMs) {
    std::string key = matchKey, p = purpose, st = status, src = source, ev = evidence;
    int64_t at = atMs;
    s << "INSERT INTO consents (match_key, purpose, status, source, evidence, updated_at_ms) VALUES (?,?,?,?,?,?) "
         "ON CONFLICT (match_key, purpose) DO UPDATE SET status = excluded.status, source = excluded.source, "
         "evidence = excluded.evidence, updated_at_ms = excluded.updated_at_ms",
        use(key), use(p), use(st), use(src), use(ev), use(at), now;
}

bool consentAllows(const std::string& purpose, const std::string& status) {
    if (purpose == "marketing") return status == "opted_in";
    return status != "opted_out";
}

std::string consentRefusal(const std::string& address, const std::string& purpose, const std::string& status) {
    return address + (status == "opted_out" ? " opted out of " : " has not opted in to ") + purpose + " messages";
}

nlohmann::json consentJson(Sql& s, const std::string& matchKey) {
    std::vector<std::string> purposes, statuses, sources;
    std::vector<int64_t> at;
    std::string key = matchKey;
    s << "SELECT purpose, status, source, updated_at_ms FROM consents WHERE match_key = ? ORDER BY purpose", use(key),
        into(purposes), into(statuses), into(sources), into(at), now;
    nlohmann::json out = nlohmann::json::object();
    for (size_t i = 0; i < purposes.size(); ++i) {
        const std::string updated =
            at[i] > 0 ? formatUtc(std::chrono::system_clock::time_point(std::chrono::milliseconds(at[i]))) : "";
        out[purposes[i]] = {{"status", statuses[i]}, {"source", sources[i]}, {"updated_at", updated}};
    }
    return out;
}

}  // namespace switchboard::host::customer
