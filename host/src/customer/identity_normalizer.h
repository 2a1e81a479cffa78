// Turns a raw contact point as a channel gave it ("912 345 678", "Ana <ANA@Example.com>",
// "whatsapp:351912345678") into the normalized value and match key identity resolution
// compares. Phones go to E.164 through libphonenumber with a configured default region;
// emails compare case-insensitively and are stored as given; external ids are namespaced
// by system. A value that must never link two messages (an unparseable or withheld number,
// an alphanumeric sender, a short code) is kept, flagged, and marked not matchable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host::customer {

enum class IdentityType { Email, Phone, External };

const char* identityTypeName(IdentityType type);  // "email", "phone", "external"
std::optional<IdentityType> parseIdentityType(std::string_view name);

struct NormalizedIdentity {
    IdentityType type = IdentityType::Email;
    std::string scope;       // "" for global identifiers
    std::string raw;         // as given, trimmed: kept for display and replies
    std::string normalized;  // E.164 phone; email with lower-cased domain and local part; "system:id"
    std::string matchKey;    // what resolution compares: "<type>|<scope>|<normalized>"
    bool matchable = true;   // false: stored and shown, never used to link messages
    std::string flag;        // why not matchable: "unparseable_phone", "withheld_number",
                             // "alphanumeric_sender", "short_code", "invalid_email",
                             // "invalid_external_id"; "" when matchable
};

struct NormalizerOptions {
    std::string defaultRegion = "US";  // CLDR region for national numbers: "PT", "BR", "DE"...
    bool foldGmail = false;            // drop dots and +tags in gmail.com/googlemail.com local parts
};

class IdentityNormalizer {
public:
    // Throws std::invalid_argument naming the region when libphonenumber does not know it.
    explicit IdentityNormalizer(NormalizerOptions options);
    NormalizedIdentity normalize(IdentityType type, std::string_view raw, std::string_view scope = {}) const;
    // "email:ana@example.com", "phone:+351912345678", "external:salesforce:003..." (API lookups).
    // nullopt when the type prefix is unknown.
    std::optional<NormalizedIdentity> normalizeTyped(std::string_view typeAndValue, std::string_view scope = {}) const;
    const NormalizerOptions& options() const { return options_; }

private:
    NormalizedIdentity phone(std::string_view raw, std::string_view scope) const;
    NormalizedIdentity email(std::string_view raw, std::string_view scope) const;
    NormalizedIdentity external(std::string_view raw, std::string_view scope) const;
    NormalizerOptions options_;
};

}  // namespace switchboard::host::customer
