#include "runtime/consent_reports.h"

#include "customer/consent.h"
#include "customer/identity_normalizer.h"
#include "log/log.h"
#include "runtime/abi_text.h"
#include "runtime/connector_instance.h"
#include "runtime/message_codec.h"
#include "runtime/time_format.h"

#include <algorithm>
#include <cstring>

namespace switchboard::host {

namespace {

// The store's normalizer, so the match key is the one identities and the outbox use; a store
// opened without a resolver (tests, tools) gets the default options.
const customer::IdentityNormalizer& normalizerOf(Store& store) {
    static const customer::IdentityNormalizer fallback{customer::NormalizerOptions{}};
    return store.resolver() ? store.resolver()->normalizer() : fallback;
}

}  // namespace

std::optional<std::vector<std::string>> consentPurposes(std::string_view purpose) {
    if (purpose.empty()) return std::vector<std::string>{"service", "marketing"};
    if (purpose == "service" || purpose == "marketing") return std::vector<std::string>{std::string(purpose)};
    return std::nullopt;
}

sb_status hostReportConsent(sb_host_instance_host_ptr inst, const sb_identity* address, sb_str purpose,
                            sb_str status, sb_str source, sb_errbuf err) noexcept {
    try {
        if (!inst) return SB_FAIL_DATA;
        ConnectorInstance& owner = *inst->owner;
        if (address == nullptr || address->struct_size < offsetof(sb_identity, scope) + sizeof(sb_str)) {
            writeErr(err, "report_consent: address is NULL or smaller than the 1.0 sb_identity");
            return SB_FAIL_DATA;
        }
        auto type = customer::parseIdentityType(view(address->type));
        if (!type || view(address->value).empty()) {
            writeErr(err, !type ? "report_consent: address.type must be email, phone or external, got '" +
                                      std::string(view(address->type)) + "'"
                                : "report_consent: address.value is empty");
            return SB_FAIL_DATA;
        }
        auto purposes = consentPurposes(view(purpose));
        if (!purposes) {
            writeErr(err, "report_consent: purpose must be service, marketing or empty (both), got '" +
                              std::string(view(purpose)) + "'");
            return SB_FAIL_DATA;
        }
        const std::string st(view(status));
        if (st != "opted_in" && st != "opted_out") {
            writeErr(err, "report_consent: status must be opted_in or opted_out, got '" + st + "'");
            return SB_FAIL_DATA;
        }
        std::string evidence(view(source));
        if (!isValidUtf8(evidence)) evidence = "(source is not valid UTF-8)";

        const customer::NormalizedIdentity id =
            normalizerOf(owner.store()).normalize(*type, view(address->value), view(address->scope));
        if (!id.matchable) {
            // A consent nobody can ever match would be silently lost: say so instead.
            writeErr(err, "report_consent: address '" + std::string(view(address->value)) +
                              "' cannot be matched to anyone (" + id.flag + ")");
            return SB_FAIL_DATA;
        }
        const int64_t at = nowUnixMs();
        owner.store().inTransaction([&](Sql& s) {
            for (const auto& p : *purposes) customer::recordConsent(s, id.matchKey, p, st, owner.name(), evidence, at);
        });
        owner.metrics().add("switchboard_consent_reports_total", {{"instance", owner.name()}, {"status", st}});
        // The address stays out of the log: logs outlive a customer's erasure.
        Logger::instance().write(LogLevel::Info, owner.logScope(),
                                 "consent " + st + " recorded for a " + customer::identityTypeName(id.type) +
                                     " address (" + (view(purpose).empty() ? std::string("all purposes") : (*purposes)[0]) +
                                     (evidence.empty() ? "" : ", " + evidence) + ")");
        return SB_OK;
    } catch (const std::exception& e) {
        writeErr(err, std::string("report_consent: the store could not record it: ") + e.what());
        return SB_RETRY;
    } catch (...) {
        writeErr(err, "report_consent: unknown error in the host");
        return SB_RETRY;
    }
}

}  // namespace switchboard::host
