#include "runtime/delivery_reports.h"

#include "log/log.h"
#include "runtime/abi_text.h"
#include "runtime/connector_instance.h"
#include "runtime/message_codec.h"
#include "runtime/time_format.h"
#include "store/sql.h"

#include <Poco/Data/Statement.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace Poco::Data::Keywords;

namespace switchboard::host {

namespace {

constexpr int64_t kEarlyReceiptKeepMs = 24LL * 3600 * 1000;

// Progress of a message that is on its way; failures are outside this order.
int progress(std::string_view status) {
    if (status == "queued") return 1;
    if (status == "sent") return 2;
    if (status == "delivered") return 3;
    if (status == "read") return 4;
    return 0;
}

}  // namespace

std::optional<std::string> deliveryStatusName(sb_delivery_status status) {
    switch (status) {
        case SB_DELIVERY_QUEUED: return "queued";
        case SB_DELIVERY_SENT: return "sent";
        case SB_DELIVERY_DELIVERED: return "delivered";
        case SB_DELIVERY_READ: return "read";
        case SB_DELIVERY_FAILED: return "failed";
        case SB_DELIVERY_UNDELIVERED: return "undelivered";
    }
    return std::nullopt;
}

bool deliveryStatusAdvances(std::string_view current, std::string_view next) {
    if (progress(next) == 0) return true;  // failed / undelivered: always recorded
    if (current == "read") return false;   // nothing after read but a failure report
    // After a failure only news that it arrived after all (delivered, read) is progress.
    if (!current.empty() && progress(current) == 0) return progress(next) >= progress("delivered");
    return progress(next) >= progress(current);
}

int applyReceipt(Sql& s, const std::string& connector, const std::string& providerId, const std::string& status,
                 const std::string& detail) {
    std::vector<int64_t> ids;
    std::vector<std::string> current;
    std::string c = connector, pid = providerId;
    s << "SELECT id, COALESCE(delivery_status, '') FROM messages WHERE connector = ? AND "
         "provider_message_id = ? AND direction = 'outbound'",
        use(c), use(pid), into(ids), into(current), now;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (!deliveryStatusAdvances(current[i], status)) continue;
        std::string st = status, d = detail;
        int64_t id = ids[i];
        s << "UPDATE messages SET delivery_status = ?, delivery_detail = ? WHERE id = ?", use(st), use(d), use(id),
            now;
    }
    return static_cast<int>(ids.size());
}

void applyEarlyReceipts(Sql& s, const std::string& connector, const std::string& providerId) {
    std::vector<int64_t> ids;
    std::vector<std::string> statuses, details;
    std::string c = connector, pid = providerId;
    s << "SELECT id, status, detail FROM early_receipts WHERE connector = ? AND provider_message_id = ? ORDER BY id",
        use(c), use(pid), into(ids), into(statuses), into(details), now;
    for (size_t i = 0; i < ids.size(); ++i) applyReceipt(s, connector, providerId, statuses[i], details[i]);
    if (!ids.empty())
        s << "DELETE FROM early_receipts WHERE connector = ? AND provider_message_id = ?", use(c), use(pid), now;
}

sb_status hostReportDelivery(sb_host_instance_host_ptr inst, const sb_delivery_report* report,
                             sb_errbuf err) noexcept {
    try {
        if (!inst) return SB_FAIL_DATA;
        ConnectorInstance& owner = *inst->owner;
        if (report == nullptr || report->struct_size < offsetof(sb_delivery_report, occurred_at_ms) + sizeof(int64_t)) {
            writeErr(err, "report_delivery: report is NULL or smaller than the 1.1 sb_delivery_report");
            return SB_FAIL_DATA;
        }
        const std::string providerId(view(report->provider_message_id));
        auto status = deliveryStatusName(report->status);
        if (providerId.empty() || !status) {
            writeErr(err, providerId.empty() ? "report_delivery: provider_message_id is empty"
                                             : "report_delivery: status " + std::to_string(report->status) +
                                                   " is not an sb_delivery_status");
            return SB_FAIL_DATA;
        }
        std::string detail(view(report->detail));
        const std::string code(view(report->error_code));
        if (!code.empty()) detail = detail.empty() ? code : code + ": " + detail;
        if (!isValidUtf8(detail)) detail = "(detail is not valid UTF-8)";

        bool found = false;
        owner.store().inTransaction([&](Sql& s) {
            found = applyReceipt(s, owner.name(), providerId, *status, detail) > 0;
            if (found) return;
            // Not (yet) known: the send's answer may still be on its way. Kept a day.
            int64_t at = nowUnixMs(), expired = at - kEarlyReceiptKeepMs;
            std::string connector = owner.name(), pid = providerId, st = *status, d = detail;
            s << "DELETE FROM early_receipts WHERE received_at_ms < ?", use(expired), now;
            s << "INSERT INTO early_receipts (connector, provider_message_id, status, detail, received_at_ms) "
                 "VALUES (?,?,?,?,?)",
                use(connector), use(pid), use(st), use(d), use(at), now;
        });
        owner.metrics().add("switchboard_outbound_receipts_total",
                            {{"instance", owner.name()}, {"status", *status}, {"matched", found ? "yes" : "early"}});
        if (!found)
            Logger::instance().write(LogLevel::Debug, owner.logScope(),
                                     "delivery receipt '" + *status + "' for " + providerId +
                                         " arrived before its send was recorded; kept to apply then");
        return SB_OK;
    } catch (const std::exception& e) {
        writeErr(err, std::string("report_delivery: the store could not record it: ") + e.what());
        return SB_RETRY;
    } catch (...) {
        writeErr(err, "report_delivery: unknown error in the host");
        return SB_RETRY;
    }
}

}  // namespace switchboard::host
