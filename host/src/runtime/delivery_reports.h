// sb_host_api.report_delivery (ABI 1.1): a sink's delivery receipt for an outbound message it
// sent, applied to that message's delivery status in the customer's timeline.
#pragma once

#include <switchboard/plugin.h>

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host {

// "queued", "sent", "delivered", "read", "failed", "undelivered"; nullopt for an unknown code.
std::optional<std::string> deliveryStatusName(sb_delivery_status status);

// Whether a receipt saying `next` may replace `current`: receipts arrive out of order, so a
// late "sent" never overwrites "delivered"; failures always apply.
bool deliveryStatusAdvances(std::string_view current, std::string_view next);

class Sql;

// Applies a receipt to the outbound messages of connector with that provider id, in the
// caller's transaction. Returns how many messages carry the id (0: none yet).
int applyReceipt(Sql& s, const std::string& connector, const std::string& providerId, const std::string& status,
                 const std::string& detail);

// After a send is recorded with its provider id: applies, in arrival order, the receipts
// that came before it (a fast status callback can beat the send's own answer) and drops them.
void applyEarlyReceipts(Sql& s, const std::string& connector, const std::string& providerId);

// The host service itself: an exception barrier like every entry of the table.
sb_status hostReportDelivery(sb_host_instance_host_ptr inst, const sb_delivery_report* report,
                             sb_errbuf err) noexcept;

}  // namespace switchboard::host
