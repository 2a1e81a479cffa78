// sb_host_api.report_consent (ABI 1.2): a plugin says a customer opted in or out at one
// contact point (an SMS STOP/START keyword, a provider's "unsubscribed" error). Written to the
// consents table through customer::recordConsent, the same writer the customer API uses, so
// the outbox's consent check before each send sees it.
#pragma once

#include <switchboard/plugin.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::host {

// The purposes a report applies to: {"service"} / {"marketing"}, both for ""; nullopt when
// the value is none of these.
std::optional<std::vector<std::string>> consentPurposes(std::string_view purpose);

// The host service itself: an exception barrier like every entry of the table.
sb_status hostReportConsent(sb_host_instance_host_ptr inst, const sb_identity* address, sb_str purpose,
                            sb_str status, sb_str source, sb_errbuf err) noexcept;

}  // namespace switchboard::host
