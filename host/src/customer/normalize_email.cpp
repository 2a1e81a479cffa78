// IdentityNormalizer::email: the addr-spec out of a display-name or mailto: form, compared
// case-insensitively (local part too), optionally with Gmail's dot and +tag folding.
#include "customer/identity_normalizer.h"
#include "customer/normalize_util.h"

#include <algorithm>

namespace switchboard::host::customer {

namespace {

// "Ana Silva <ana@example.com>", "\"Silva, Ana\" <ana@example.com>", "<ana@example.com>",
// "mailto:ana@example.com?subject=x" or a bare address. nullopt when the angle brackets
// do not close.
std::optional<std::string_view> addrSpec(std::string_view text) {
    // The address is in the last <...>: a quoted display name may itself contain '<'.
    const size_t open = text.rfind('<');
    if (open != std::string_view::npos) {
        const size_t close = text.find('>', open);
        if (close == std::string_view::npos) return std::nullopt;
        text = detail::trim(text.substr(open + 1, close - open - 1));
    } else if (text.find('>') != std::string_view::npos) {
        return std::nullopt;
    }
    if (detail::startsWithNoCase(text, "mailto:")) {
        text.remove_prefix(7);
        text = text.substr(0, text.find('?'));  // RFC 6068 header fields
    }
    return text;
}

bool validAddrSpec(std::string_view addr) {
    const size_t at = addr.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == addr.size()) return false;
    if (addr.find('@', at + 1) != std::string_view::npos) return false;
    const bool badChar = std::any_of(addr.begin(), addr.end(), [](char c) {
        return detail::isAsciiSpace(c) || detail::isControl(c) || c == '<' || c == '>' || c == ',' ||
               c == '"' || c == '(' || c == ')';
    });
    if (badChar || !detail::isValidUtf8(addr)) return false;
    const std::string_view domain = addr.substr(at + 1);
    return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

// Gmail ignores dots and everything after '+' in the local part; googlemail.com is an alias.
std::string foldGmail(const std::string& addr) {
    const size_t at = addr.find('@');
    const std::string domain = addr.substr(at + 1);
    if (domain != "gmail.com" && domain != "googlemail.com") return addr;
    std::string local = addr.substr(0, at);
    local = local.substr(0, local.find('+'));
    std::erase(local, '.');
    if (local.empty()) return {};
    return local + "@gmail.com";
}

}  // namespace

NormalizedIdentity IdentityNormalizer::email(std::string_view raw, std::string_view scope) const {
    constexpr IdentityType kEmail = IdentityType::Email;
    const auto addr = addrSpec(raw);
    if (!addr || !validAddrSpec(*addr)) return detail::flagged(kEmail, scope, raw, "invalid_email");
    std::string normalized = detail::toLower(*addr);
    if (options_.foldGmail) {
        normalized = foldGmail(normalized);
        if (normalized.empty()) return detail::flagged(kEmail, scope, raw, "invalid_email");
    }
    return detail::matchable(kEmail, scope, raw, std::move(normalized));
}

}  // namespace switchboard::host::customer
