#include "customer/identity_normalizer.h"

#include "customer/normalize_util.h"

#include <phonenumbers/phonenumberutil.h>

#include <set>
#include <stdexcept>

namespace switchboard::host::customer {

using detail::flagged;
using detail::trim;

const char* identityTypeName(IdentityType type) {
    switch (type) {
        case IdentityType::Email: return "email";
        case IdentityType::Phone: return "phone";
        case IdentityType::External: return "external";
    }
    return "unknown";
}

std::optional<IdentityType> parseIdentityType(std::string_view name) {
    const std::string lower = detail::toLower(name);
    if (lower == "email") return IdentityType::Email;
    if (lower == "phone") return IdentityType::Phone;
    if (lower == "external") return IdentityType::External;
    return std::nullopt;
}

IdentityNormalizer::IdentityNormalizer(NormalizerOptions options) : options_(std::move(options)) {
    const std::string given = options_.defaultRegion;
    std::string region = given;
    for (char& c : region) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    std::set<std::string> supported;
    i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
    if (!supported.contains(region)) {
        throw std::invalid_argument("identity.default_region '" + given +
                                    "' is not a known region (e.g. PT, BR, US)");
    }
    options_.defaultRegion = region;
}

NormalizedIdentity IdentityNormalizer::normalize(IdentityType type, std::string_view raw,
                                                 std::string_view scope) const {
    const std::string_view trimmed = trim(raw);
    try {
        switch (type) {
            case IdentityType::Email: return email(trimmed, scope);
            case IdentityType::Phone: return phone(trimmed, scope);
            case IdentityType::External: return external(trimmed, scope);
        }
    } catch (...) {
        // Only allocation failures should get here; a contact point must never abort ingestion.
    }
    switch (type) {
        case IdentityType::Phone: return flagged(type, scope, trimmed, "unparseable_phone");
        case IdentityType::External: return flagged(type, scope, trimmed, "invalid_external_id");
        case IdentityType::Email: break;
    }
    return flagged(IdentityType::Email, scope, trimmed, "invalid_email");
}

std::optional<NormalizedIdentity> IdentityNormalizer::normalizeTyped(std::string_view typeAndValue,
                                                                     std::string_view scope) const {
    const std::string_view text = trim(typeAndValue);
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto type = parseIdentityType(text.substr(0, colon));
    if (!type) return std::nullopt;
    return normalize(*type, text.substr(colon + 1), scope);
}

NormalizedIdentity IdentityNormalizer::external(std::string_view raw, std::string_view scope) const {
    const size_t colon = raw.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == raw.size()) {
        return flagged(IdentityType::External, scope, raw, "invalid_external_id");
    }
    const std::string system = detail::toLower(raw.substr(0, colon));
    for (char c : system) {
        const bool ok = (c >= 'a' && c <= 'z') || detail::isAsciiDigit(c) || c == '_' || c == '.' || c == '-';
        if (!ok) return flagged(IdentityType::External, scope, raw, "invalid_external_id");
    }
    // The id is opaque and case-sensitive: keep it byte for byte, but only as valid text.
    const std::string_view id = raw.substr(colon + 1);
    if (!detail::isValidUtf8(id)) return flagged(IdentityType::External, scope, raw, "invalid_external_id");
    for (char c : id) {
        if (detail::isControl(c)) return flagged(IdentityType::External, scope, raw, "invalid_external_id");
    }
    return detail::matchable(IdentityType::External, scope, raw, system + ":" + std::string(id));
}

}  // namespace switchboard::host::customer
