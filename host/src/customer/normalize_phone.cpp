// IdentityNormalizer::phone: E.164 through libphonenumber, and the caller ids that must never
// link two messages (withheld, alphanumeric senders, short codes, garbage) kept but flagged.
#include "customer/identity_normalizer.h"
#include "customer/normalize_util.h"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>

namespace switchboard::host::customer {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber refuses longer input anyway (kMaxInputStringLength); stop before copying.
constexpr size_t kMaxPhoneInput = 250;

bool isSeparator(char c) {
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '\t';
}

// The number part of a "tel:" URI (RFC 3966: parameters follow ';'), or the text itself.
std::string_view numberPart(std::string_view text) {
    if (!detail::startsWithNoCase(text, "tel:")) return text;
    text.remove_prefix(4);
    return text.substr(0, text.find(';'));
}

bool isWithheld(std::string_view text) {
    static constexpr std::array<std::string_view, 6> kWords = {
        "anonymous", "unknown", "private", "withheld", "restricted", "unavailable"};
    if (text.empty()) return true;
    // Letters only, so "<Unknown>", "Private Number" style decorations still match the word;
    // never when digits are present, those are a number (or a sender) to look at.
    std::string letters;
    for (char c : detail::toLower(text)) {
        if (c >= 'a' && c <= 'z') letters += c;
    }
    const bool hasDigits = std::any_of(text.begin(), text.end(), detail::isAsciiDigit);
    if (!hasDigits && std::find(kWords.begin(), kWords.end(), letters) != kWords.end()) return true;
    for (std::string_view suffix : {"number", "caller", "callerid", "id"}) {
        for (std::string_view word : kWords) {
            if (!hasDigits && letters == std::string(word) + std::string(suffix)) return true;
        }
    }
    // All zeros ("0000000000", "+000"): what switches send when the id is suppressed.
    bool sawDigit = false;
    for (char c : text) {
        if (c == '0') {
            sawDigit = true;
        } else if (!(isSeparator(c) || c == '+')) {
            return false;
        }
    }
    return sawDigit;
}

// 3 to 6 digits, no '+': an SMS short code or service number, shared by many customers.
bool isShortCode(std::string_view text) {
    size_t digits = 0;
    for (char c : text) {
        if (detail::isAsciiDigit(c)) {
            ++digits;
        } else if (!isSeparator(c)) {
            return false;
        }
    }
    return digits >= 3 && digits <= 6;
}

std::optional<PhoneNumber> parseValid(const std::string& text, const std::string& region) {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util.Parse(text, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return std::nullopt;
    if (!util.IsPossibleNumber(number) || !util.IsValidNumber(number)) return std::nullopt;
    return number;
}

// "00" is the international prefix in most of the world, but not in every default region
// (US dials 011, BR puts a carrier code after 00): read it as '+' when the region's own
// reading gives no valid number.
std::optional<PhoneNumber> parseWithDoubleZero(std::string_view text) {
    std::string_view rest = text;
    while (!rest.empty() && isSeparator(rest.front())) rest.remove_prefix(1);
    if (rest.size() < 3 || rest[0] != '0' || rest[1] != '0') return std::nullopt;
    return parseValid("+" + std::string(rest.substr(2)), "ZZ");
}

}  // namespace

NormalizedIdentity IdentityNormalizer::phone(std::string_view raw, std::string_view scope) const {
    constexpr IdentityType kPhone = IdentityType::Phone;
    if (raw.size() > kMaxPhoneInput || !detail::isValidUtf8(raw)) {
        return detail::flagged(kPhone, scope, raw, "unparseable_phone");
    }
    const std::string_view number = numberPart(raw);
    if (isWithheld(number)) return detail::flagged(kPhone, scope, raw, "withheld_number");

    const std::string text(raw);
    const bool hasLetters = std::any_of(number.begin(), number.end(), detail::isAsciiAlpha);
    std::optional<PhoneNumber> parsed = parseValid(text, options_.defaultRegion);
    if (!parsed && !hasLetters) parsed = parseWithDoubleZero(number);
    // Letters make a sender name ("MyBank", "INFO-SMS", vanity "1-800-FLOWERS"), unless they
    // only spell an extension ("+1 415 555 2671 ext. 12"), which E.164 drops anyway.
    if (hasLetters && !(parsed && parsed->has_extension())) {
        return detail::flagged(kPhone, scope, raw, "alphanumeric_sender");
    }
    if (parsed) {
        std::string e164;
        PhoneNumberUtil::GetInstance()->Format(*parsed, PhoneNumberUtil::E164, &e164);
        return detail::matchable(kPhone, scope, raw, std::move(e164));
    }
    if (raw.find('+') == std::string_view::npos && isShortCode(number)) {
        return detail::flagged(kPhone, scope, raw, "short_code");
    }
    return detail::flagged(kPhone, scope, raw, "unparseable_phone");
}

}  // namespace switchboard::host::customer
