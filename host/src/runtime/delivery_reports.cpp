#include "runtime/delivery_reports.h"

#include "log/log.h"
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

std::string_view view(sb_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }

void writeErr(sb_errbuf err, const std::string& text) {
    if (err.data == nullptr || err.capacity == 0) return;
    size_t n = std::min(text.size(), err.capacity - 1);
    std::memcpy(err.data, text.data(), n);
    err.data[n] = '\0';
}

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
    return progress(next) >= progress(current);
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

        bool found = false, applied = false;
        owner.store().inTransaction([&](Sql& s) {
            std::vector<int64_t> ids;
            std::vector<std::string> current;
            std::string connector = owner.name(), pid = providerId;
            s << "SELECT id, COALESCE(delivery_status, '') FROM messages WHERE connector = ? AND "
                 "provider_message_id = ? AND direction = 'outbound'",
                use(connector), use(pid), into(ids), into(current), now;
            found = !ids.empty();
            for (size_t i = 0; i < ids.size(); ++i) {
                if (!deliveryStatusAdvances(current[i], *status)) continue;
                std::string st = *status, d = detail;
                int64_t id = ids[i];
                s << "UPDATE messages SET delivery_status = ?, delivery_detail = ? WHERE id = ?", use(st), use(d),
                    use(id), now;
                applied = true;
            }
        });
        if (!found) {
            writeErr(err, "report_delivery: no outbound message of '" + owner.name() + "' has provider id '" +
                              providerId + "'");
            return SB_FAIL_DATA;
        }
        owner.metrics().add("switchboard_outbound_receipts_total", {{"instance", owner.name()}, {"status", *status}});
        if (!applied)
            Logger::instance().write(LogLevel::Debug, owner.logScope(),
                                     "delivery receipt '" + *status + "' for " + providerId +
                                         " is older than the status already recorded; kept the newer one");
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
