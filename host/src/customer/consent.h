// Consent per contact point and purpose (table consents, keyed by the identity's match key:
// consent belongs to the address, not the person). Read by the customer view and by the
// outbox before anything is sent; written by PUT /api/v1/customers/{id}/consent.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace switchboard::host {
class Sql;  // store/sql.h
}

namespace switchboard::host::customer {

// "opted_in", "opted_out", or "" when nothing was recorded for that address and purpose.
std::string consentStatus(Sql& session, const std::string& matchKey, const std::string& purpose);

// Records status for one address and purpose, replacing what was there: the one writer of
// the consents table (the customer API's PUT .../consent and plugins' report_consent).
void recordConsent(Sql& session, const std::string& matchKey, const std::string& purpose, const std::string& status,
                   const std::string& source, const std::string& evidence, int64_t atMs);

// Whether a message for purpose may go to an address whose recorded consent is status:
// service messages go unless opted out; marketing needs an explicit opt-in.
bool consentAllows(const std::string& purpose, const std::string& status);

// Why a message for purpose may not go to address ("phone:+351..."), given its status.
std::string consentRefusal(const std::string& address, const std::string& purpose, const std::string& status);

// {"<purpose>": {"status", "source", "updated_at"}} for one address (the customer view).
nlohmann::json consentJson(Sql& session, const std::string& matchKey);

}  // namespace switchboard::host::customer
